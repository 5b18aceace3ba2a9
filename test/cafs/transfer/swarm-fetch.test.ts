import assert from 'node:assert/strict'
import {
  type ChunkSource,
  fetchFile,
  type Provider,
  serveChunks,
  streamChunkSource,
  XferCode
} from '../../../cafs/transfer/index.js'
import type { ChunkStore, Manifest } from '../../../cafs/types.js'
import { mulberry32 } from '../../../protocol/util/prng.js'
import { rejectsWithCode } from '../../support/errors.js'
import { chunkFile, h, type Listener, listen, MapStore, prng, storeWith } from './helpers.js'

const LIMITS = { messageTimeoutMs: 2000 }

describe('cafs/transfer swarm fetch (XFER-21b)', () => {
  const file = prng(120_000, 33)
  const { manifest, chunks } = chunkFile(file, 1024, 8192)
  let listeners: Listener[] = []
  afterEach(async () => {
    for (const l of listeners) await l.close()
    listeners = []
  })

  const serve = async (store: ChunkStore): Promise<Listener> => {
    const l = await listen((stream) => {
      serveChunks(stream, store, { limits: LIMITS }).catch(() => {})
    })
    listeners.push(l)
    return l
  }
  /** A provider over a real socket, recording the positions of the keys asked from it. */
  const provider = (id: string, l: Listener, asked?: number[]): Provider => {
    const inner = streamChunkSource(async () => (await l.connect()).stream, { limits: LIMITS })
    const source: ChunkSource = {
      fetch: (keys, options) => {
        for (const k of keys)
          asked?.push(manifest.chunks.findIndex((c) => Buffer.from(c.key).equals(Buffer.from(k))))
        return inner.fetch(keys, options)
      }
    }
    return { id, source }
  }
  const assemble = async (m: Manifest, s: MapStore): Promise<Uint8Array> =>
    Uint8Array.from(Buffer.concat(await Promise.all(m.chunks.map(async (c) => (await s.get(c.key))!))))

  it('asks for more providers when some chunks have none, and fetches them from the ones found', async () => {
    const half = Math.floor(chunks.length / 2)
    const first = await serve(await storeWith(chunks.slice(0, half)))
    const second = await serve(await storeWith(chunks.slice(half)))
    const store = new MapStore()
    let lookups = 0
    const result = await fetchFile(manifest, [provider('first', first)], store, {
      limits: LIMITS,
      batchChunks: 4,
      retryDelayMs: 10,
      moreProviders: async () => {
        lookups++
        // the first lookup finds nobody new, the second the peer holding the rest
        return lookups >= 2 ? [provider('first', first), provider('second', second)] : []
      },
      signal: AbortSignal.timeout(10_000)
    })
    assert.deepEqual(await assemble(manifest, store), file)
    assert.equal(lookups, 2)
    assert.ok(result.perProvider.get('second')!.chunks > 0)
    assert.equal(store.pins.size, 0)
  })

  it('asks a provider again for chunks it lacked once it may hold them (a peer still fetching)', async () => {
    const growing = await storeWith(chunks.slice(0, 3))
    const peer = await serve(growing)
    const store = new MapStore()
    let rounds = 0
    await fetchFile(manifest, [provider('peer', peer)], store, {
      limits: LIMITS,
      batchChunks: 4,
      retryDelayMs: 10,
      moreProviders: async () => {
        // the peer fetches the rest meanwhile
        rounds++
        for (const c of chunks) await growing.put(h(c), c)
        return []
      },
      signal: AbortSignal.timeout(10_000)
    })
    assert.deepEqual(await assemble(manifest, store), file)
    // (a request in flight during the first round may come back short and take a second)
    assert.ok(rounds >= 1 && rounds <= 3, `${rounds} rounds`)
  })

  it('fails with CAFS_XFER_UNAVAILABLE after maxRetryRounds rounds without progress', async () => {
    const partial = await serve(await storeWith(chunks.slice(0, -1)))
    const store = new MapStore()
    let rounds = 0
    await rejectsWithCode(
      fetchFile(manifest, [provider('partial', partial)], store, {
        limits: LIMITS,
        batchChunks: 4,
        retryDelayMs: 5,
        maxRetryRounds: 3,
        moreProviders: async () => {
          rounds++
          return []
        }
      }),
      XferCode.UNAVAILABLE
    )
    assert.equal(rounds, 3)
    assert.equal(store.map.size, chunks.length - 1)
    assert.equal(store.pins.size, 0)
  })

  it('fetches the batches in an order of its own with `random`: two fetchers start at different chunks', async () => {
    const origin = await serve(await storeWith(chunks))
    const firsts: number[] = []
    for (const seed of [1, 2]) {
      const asked: number[] = []
      const store = new MapStore()
      await fetchFile(manifest, [provider('origin', origin, asked)], store, {
        limits: LIMITS,
        batchChunks: 2,
        requestsPerProvider: 1,
        random: mulberry32(seed)
      })
      assert.deepEqual(await assemble(manifest, store), file)
      // every chunk asked once, not in file order
      assert.deepEqual(
        [...asked].sort((a, b) => a - b),
        manifest.chunks.map((_c, i) => i)
      )
      assert.notDeepEqual(
        asked,
        manifest.chunks.map((_c, i) => i)
      )
      firsts.push(asked[0] as number)
    }
    assert.notEqual(firsts[0], firsts[1])
  })
})
