import assert from 'node:assert/strict'
import { FileKeyCursor } from '../../../cafs/transfer/filekey.js'
import type { AbortOptions, Key } from '../../../cafs/types.js'
import { chunkFile, h, MapStore, prng } from './helpers.js'

/** A MapStore that counts reads, to show which chunks the cursor had to read back. */
class CountingStore extends MapStore {
  reads = 0
  override async get(key: Key, o?: AbortOptions): Promise<Uint8Array | undefined> {
    this.reads++
    return super.get(key, o)
  }
}

describe('cafs/transfer/filekey', () => {
  const file = prng(60_000, 5)
  const { manifest, chunks } = chunkFile(file, 1024, 4096)

  it('hashes chunks arriving in order without reading the store back', async () => {
    const store = new CountingStore()
    const all = chunks.map((_c, i) => i)
    const cursor = new FileKeyCursor(manifest, store, all)
    for (let i = 0; i < chunks.length; i++) {
      await store.put(manifest.chunks[i]!.key, chunks[i]!)
      await cursor.stored(i, chunks[i]!, {})
    }
    assert.deepEqual(await cursor.digest({}), h(file))
    assert.equal(store.reads, 0)
  })

  it('gets the file key right for chunks held before, arriving out of order and concurrently', async () => {
    const store = new CountingStore()
    // Chunks 0, 1 and the last are held already; the rest arrive from the back, two at a time.
    const held = new Set([0, 1, chunks.length - 1])
    for (const i of held) await store.put(manifest.chunks[i]!.key, chunks[i]!)
    const wanted = chunks.map((_c, i) => i).filter((i) => !held.has(i))
    const cursor = new FileKeyCursor(manifest, store, wanted)
    const order = [...wanted].reverse()
    for (let j = 0; j < order.length; j += 2) {
      const pair = order.slice(j, j + 2)
      for (const i of pair) await store.put(manifest.chunks[i]!.key, chunks[i]!)
      await Promise.all(pair.map((i) => cursor.stored(i, chunks[i]!, {})))
    }
    assert.deepEqual(await cursor.digest({}), h(file))
  })

  it('refuses a digest before every chunk arrived', async () => {
    const cursor = new FileKeyCursor(manifest, new MapStore(), [0])
    await assert.rejects(cursor.digest({}))
  })
})
