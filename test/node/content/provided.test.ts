import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { keyToHex } from '../../../cafs/keys.js'
import { MemoryChunkStore } from '../../../cafs/store/memory.js'
import { importStream } from '../../../cafs/stream.js'
import type { Key, Manifest } from '../../../cafs/types.js'
import { PROVIDE_DEFAULTS, ProvidedFiles, type ProvidedFilesOptions } from '../../../node/content/index.js'
import { BitwrkError } from '../../../protocol/errors.js'

/** A provided-files registry over a memory store, a fake clock and a recording DHT. */
function setup(opts: Partial<ProvidedFilesOptions> = {}) {
  const store = new MemoryChunkStore()
  let now = 1_000_000
  const announced: string[] = []
  const withdrawn: string[] = []
  const results: string[] = []
  let fail = false
  const provided = new ProvidedFiles({
    store,
    clock: () => now,
    announce: async (key: Key) => {
      if (fail) throw new BitwrkError('CHUNK_DHT_FAILED', 'no DHT')
      announced.push(keyToHex(key))
    },
    withdraw: async (key: Key) => {
      withdrawn.push(keyToHex(key))
    },
    onAnnounce: (r) => results.push(r),
    ...opts
  })
  return {
    store,
    provided,
    announced,
    withdrawn,
    results,
    advance: (ms: number) => {
      now += ms
    },
    failAnnounces: (f: boolean) => {
      fail = f
    },
    file: (bytes = 100_000): Promise<Manifest> => importStream([new Uint8Array(randomBytes(bytes))], store)
  }
}

describe('node/content: provided files (CHUNK-16 … CHUNK-19)', () => {
  it('a provided file is announced at once and readable by its file key and every chunk key', async () => {
    const t = setup()
    const m = await t.file(200_000)
    const other = await t.file()
    assert.equal(t.provided.readable(m.fileKey), false)
    assert.equal(t.provided.add(m, 'upload'), true)
    await t.provided.idle()
    assert.deepEqual(t.announced, [keyToHex(m.fileKey)])
    assert.deepEqual(t.results, ['ok'])
    assert.equal(t.provided.readable(m.fileKey), true)
    for (const c of m.chunks) assert.equal(t.provided.readable(c.key), true)
    // a file held but not provided stays private
    assert.equal(t.provided.readable(other.fileKey), false)
    for (const c of other.chunks) assert.equal(t.provided.readable(c.key), false)
    assert.equal(t.provided.manifest(m.fileKey), m)
    assert.equal(t.provided.manifest(other.fileKey), undefined)
  })

  it('re-announces once the interval passed, not before; a failed announcement is retried at the next sweep', async () => {
    const t = setup()
    const m = await t.file()
    t.provided.add(m, 'result')
    await t.provided.idle()
    t.advance(PROVIDE_DEFAULTS.reprovideIntervalMs - 1)
    assert.deepEqual(await t.provided.sweep(), { withdrawn: 0, announced: 0 })
    t.advance(1)
    assert.deepEqual(await t.provided.sweep(), { withdrawn: 0, announced: 1 })
    await t.provided.idle()
    assert.equal(t.announced.length, 2)
    // kad-dht keeps records 48 h: the interval leaves room for failures
    assert.ok(PROVIDE_DEFAULTS.reprovideIntervalMs * 3 < 48 * 3_600_000)
    t.failAnnounces(true)
    t.advance(PROVIDE_DEFAULTS.reprovideIntervalMs)
    await t.provided.sweep()
    await t.provided.idle()
    assert.deepEqual(t.results, ['ok', 'ok', 'CHUNK_DHT_FAILED'])
    t.failAnnounces(false)
    // the failed one is due again at once (its last success is older than the interval)
    assert.equal((await t.provided.sweep()).announced, 1)
    await t.provided.idle()
    assert.equal(t.announced.length, 3)
  })

  it('stops providing a file whose chunk was evicted, and withdraws it from the DHT', async () => {
    const t = setup()
    const m = await t.file(300_000)
    const kept = await t.file()
    t.provided.add(m, 'fetched')
    t.provided.add(kept, 'fetched')
    await t.provided.idle()
    const gone = m.chunks[1]?.key as Key
    assert.equal(await t.store.delete(gone), true)
    assert.deepEqual(await t.provided.sweep(), { withdrawn: 1, announced: 0 })
    assert.deepEqual(t.withdrawn, [keyToHex(m.fileKey)])
    assert.equal(t.provided.readable(m.fileKey), false)
    for (const c of m.chunks) assert.equal(t.provided.readable(c.key), false)
    assert.equal(t.provided.readable(kept.fileKey), true)
    assert.equal(t.provided.size, 1)
  })

  it('a file being fetched is not withdrawn for the chunks still on their way', async () => {
    let arriving = true
    const t = setup({ fetching: () => arriving })
    const m = await t.file(300_000)
    t.provided.add(m, 'fetched')
    assert.equal(await t.store.delete(m.chunks[0]?.key as Key), true)
    assert.equal((await t.provided.sweep()).withdrawn, 0)
    arriving = false
    assert.equal((await t.provided.sweep()).withdrawn, 1)
  })

  it('a file is provided for ttlMs after it was last added; adding it again renews it', async () => {
    const t = setup({ limits: { ttlMs: 10_000 } })
    const a = await t.file()
    const b = await t.file()
    t.provided.add(a, 'result')
    t.provided.add(b, 'upload')
    t.advance(6_000)
    t.provided.add(a, 'result')
    t.advance(4_000)
    assert.equal((await t.provided.sweep()).withdrawn, 1)
    assert.equal(t.provided.readable(b.fileKey), false)
    assert.equal(t.provided.readable(a.fileKey), true)
    t.advance(6_000)
    assert.equal((await t.provided.sweep()).withdrawn, 1)
    assert.equal(t.provided.size, 0)
  })

  it('is bounded by files and chunk keys: the oldest file goes first; a file over the key bound is refused', async () => {
    const t = setup({ limits: { maxFiles: 2, maxKeys: 40 } })
    const files = [await t.file(), await t.file(), await t.file()]
    for (const f of files) assert.equal(t.provided.add(f, 'upload'), true)
    assert.equal(t.provided.size, 2)
    assert.equal(t.provided.readable((files[0] as Manifest).fileKey), false)
    assert.deepEqual(t.withdrawn, [keyToHex((files[0] as Manifest).fileKey)])
    const big = await t.file(3_000_000)
    assert.ok(big.chunks.length > 40)
    assert.equal(t.provided.add(big, 'upload'), false)
    assert.equal(t.provided.readable(big.fileKey), false)
    const counts = t.provided.countByReason()
    assert.deepEqual(counts, { upload: 2, result: 0, fetched: 0 })
  })

  it('a chunk shared by two provided files stays readable until both are gone', async () => {
    const t = setup()
    const bytes = new Uint8Array(randomBytes(150_000))
    const m1 = await importStream([bytes], t.store)
    // the same content with a tail: its first chunks are the same (content-defined chunking)
    const m2 = await importStream([bytes, new Uint8Array(randomBytes(50_000))], t.store)
    const shared = m1.chunks[0]?.key as Key
    assert.equal(keyToHex(m2.chunks[0]?.key as Key), keyToHex(shared))
    t.provided.add(m1, 'upload')
    t.provided.add(m2, 'upload')
    t.provided.remove(m1.fileKey)
    assert.equal(t.provided.readable(shared), true)
    t.provided.remove(m2.fileKey)
    assert.equal(t.provided.readable(shared), false)
  })

  it('--no-provide: nothing is added, announced or readable', async () => {
    const t = setup({ enabled: false })
    const m = await t.file()
    assert.equal(t.provided.add(m, 'upload'), false)
    await t.provided.idle()
    assert.deepEqual(t.announced, [])
    assert.equal(t.provided.readable(m.fileKey), false)
    assert.equal(t.provided.enabled, false)
  })
})
