import assert from 'node:assert/strict'
import { keyToHex, sha256 } from '../../cafs/keys.js'
import { manifestOfBytes } from '../../cafs/manifest.js'
import { MemoryChunkStore } from '../../cafs/store/memory.js'
import {
  exportStream,
  hasAllChunks,
  type ImportProgress,
  importStream,
  unpinManifest
} from '../../cafs/stream.js'
import type { Manifest } from '../../cafs/types.js'
import { collect, seededBytes } from './helpers.js'

function* pieces(data: Uint8Array, size: number): Generator<Uint8Array> {
  for (let o = 0; o < data.length; o += size) yield data.subarray(o, o + size)
}

describe('cafs/stream', () => {
  const data = seededBytes(1024 * 1024 + 123, 21)

  it('imports a stream into a manifest equal to chunking the whole buffer, and exports it back', async () => {
    const store = new MemoryChunkStore()
    const progress: ImportProgress[] = []
    const m = await importStream(pieces(data, 65_536), store, { onProgress: (p) => progress.push(p) })
    assert.deepEqual(m, manifestOfBytes(data))
    assert.equal(progress.length, m.chunks.length)
    assert.deepEqual(progress.at(-1), { bytes: data.length, chunks: m.chunks.length })
    assert.ok(await hasAllChunks(m, store))
    assert.deepEqual(await collect(exportStream(m, store)), data)
    await store.close()
  })

  it('imports the empty stream as the empty manifest', async () => {
    const store = new MemoryChunkStore()
    const m = await importStream([], store)
    assert.equal(keyToHex(m.fileKey), keyToHex(sha256(new Uint8Array(0))))
    assert.deepEqual(m.chunks, [])
    assert.equal((await collect(exportStream(m, store))).length, 0)
  })

  it('pins imported chunks so a small store cannot evict them, and unpins on failure', async () => {
    const store = new MemoryChunkStore({ budgetBytes: 2 * 1024 * 1024 })
    const m = await importStream(pieces(data, 10_000), store, { pin: true })
    assert.equal(store.stats().pinned, new Set(m.chunks.map((c) => keyToHex(c.key))).size)
    const other = seededBytes(2 * 1024 * 1024, 22)
    await assert.rejects(importStream(pieces(other, 50_000), store, { pin: true }), {
      code: 'CAFS_STORE_FULL'
    })
    assert.equal(store.stats().pinned, new Set(m.chunks.map((c) => keyToHex(c.key))).size)
    assert.ok(await hasAllChunks(m, store))
    await unpinManifest(m, store)
    assert.equal(store.stats().pinned, 0)
  })

  it('stops an import when the signal aborts', async () => {
    const store = new MemoryChunkStore()
    const ac = new AbortController()
    await assert.rejects(
      importStream(pieces(data, 10_000), store, {
        signal: ac.signal,
        onProgress: () => ac.abort()
      }),
      { name: 'AbortError' }
    )
    assert.equal(store.stats().chunks, 1)
  })

  it('fails an export with CAFS_CHUNK_MISSING when a chunk is absent', async () => {
    const store = new MemoryChunkStore()
    const m = await importStream([data], store)
    await store.delete(m.chunks[3]!.key)
    await assert.rejects(collect(exportStream(m, store)), { code: 'CAFS_CHUNK_MISSING' })
  })

  it('fails an export with CAFS_FILE_KEY_MISMATCH when the content does not hash to the file key', async () => {
    const store = new MemoryChunkStore()
    const m = await importStream([data], store)
    const forged: Manifest = { ...m, fileKey: sha256(Uint8Array.of(0)) }
    await assert.rejects(collect(exportStream(forged, store)), { code: 'CAFS_FILE_KEY_MISMATCH' })
    const wrongSize: Manifest = {
      ...m,
      chunks: m.chunks.map((c, i) => (i === 0 ? { key: c.key, size: c.size + 1 } : c))
    }
    await assert.rejects(collect(exportStream(wrongSize, store)), { code: 'CAFS_FILE_KEY_MISMATCH' })
  })
})
