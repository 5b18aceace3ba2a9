import assert from 'node:assert/strict'
import { CHUNK_MAX_SIZE } from '../../cafs/chunker.js'
import { keyToHex, sha256 } from '../../cafs/keys.js'
import { putChunk } from '../../cafs/store/verify.js'
import type { ChunkStore, Key } from '../../cafs/types.js'
import { VerifiedChunk } from '../../cafs/verified.js'
import { seededBytes } from './helpers.js'

/** What the compliance suite needs from one store implementation. */
export interface StoreHarness {
  /** Opens a fresh, empty store. */
  create(options: { budgetBytes?: number }): Promise<ChunkStore>
  /** Persistent stores: closes `store` and opens the same data again. */
  reopen?: (store: ChunkStore, options: { budgetBytes?: number }) => Promise<ChunkStore>
  /**
   * Persistent stores: lets a child process pin chunk 0, then write the chunks
   * {@link crashChunk}(0…) into a new store, SIGKILLs it mid-write, and returns the store reopened on what was left plus the
   * number of chunks the child reported as stored before the kill.
   */
  crash?: () => Promise<{ store: ChunkStore; acknowledged: number }>
  /** Releases everything the harness created (runs after each test). */
  cleanup(): Promise<void>
}

/** Deterministic chunk number `i` used by the crash writer (sizes 1 KiB…64 KiB). */
export function crashChunk(i: number): { key: Key; bytes: Uint8Array } {
  const bytes = seededBytes(1024 + ((i * 7919) % (63 * 1024)), 1_000_000 + i)
  return { key: sha256(bytes), bytes }
}

/** Number of distinct chunks the crash writer may write. */
export const CRASH_CHUNKS = 2000

function chunk(size: number, seed: number): { key: Key; bytes: Uint8Array } {
  const bytes = seededBytes(size, seed)
  return { key: sha256(bytes), bytes }
}

/**
 * The one chunk-store compliance suite (CAFS-11…CAFS-14): every `ChunkStore` must pass it.
 * Registers a `describe` block; `makeHarness` is called once per test. With `persistent`, the
 * harness must implement `reopen` and `crash`, and the reopen and crash tests are registered.
 */
export function storeComplianceSuite(
  name: string,
  makeHarness: () => StoreHarness,
  features: { persistent: boolean }
): void {
  describe(`${name} (store compliance)`, () => {
    let h: StoreHarness
    const stores: ChunkStore[] = []
    const open = async (budgetBytes?: number): Promise<ChunkStore> => {
      const s = await h.create(budgetBytes === undefined ? {} : { budgetBytes })
      stores.push(s)
      return s
    }

    beforeEach(() => {
      h = makeHarness()
    })
    afterEach(async () => {
      for (const s of stores.splice(0)) await s.close()
      await h.cleanup()
    })

    it('stores, finds, returns and deletes a chunk', async () => {
      const s = await open()
      const a = chunk(1000, 1)
      assert.equal(await s.has(a.key), false)
      assert.equal(await s.get(a.key), undefined)
      await s.put(a.key, a.bytes)
      assert.equal(await s.has(a.key), true)
      assert.deepEqual(await s.get(a.key), a.bytes)
      assert.equal(await s.delete(a.key), true)
      assert.equal(await s.has(a.key), false)
      assert.equal(await s.delete(a.key), false)
      assert.deepEqual(s.stats(), {
        chunks: 0,
        bytes: 0,
        budgetBytes: Number.POSITIVE_INFINITY,
        pinned: 0,
        evictions: 0,
        dedupHits: 0
      })
    })

    it('de-duplicates a chunk stored twice', async () => {
      const s = await open()
      const a = chunk(500, 2)
      await s.put(a.key, a.bytes)
      await s.put(a.key, a.bytes.slice())
      const st = s.stats()
      assert.equal(st.chunks, 1)
      assert.equal(st.bytes, 500)
      assert.equal(st.dedupHits, 1)
    })

    it('refuses a chunk that does not hash to its key and stays unchanged', async () => {
      const s = await open()
      const a = chunk(300, 3)
      const b = chunk(300, 4)
      await s.put(b.key, b.bytes)
      const before = s.stats()
      await assert.rejects(s.put(a.key, b.bytes), { code: 'CAFS_HASH_MISMATCH' })
      const flipped = a.bytes.slice()
      flipped[7]! ^= 1
      await assert.rejects(s.put(a.key, flipped), { code: 'CAFS_HASH_MISMATCH' })
      assert.equal(await s.has(a.key), false)
      assert.deepEqual(s.stats(), before)
      assert.deepEqual(await s.get(b.key), b.bytes)
    })

    it('stores a VerifiedChunk through putChunk and refuses a forged token unchanged', async () => {
      const s = await open()
      const a = chunk(500, 21)
      const b = chunk(500, 22)
      const token = VerifiedChunk.check(a.key, a.bytes)
      assert.ok(token)
      await putChunk(s, token)
      await putChunk(s, VerifiedChunk.hash(a.bytes))
      assert.deepEqual(await s.get(a.key), a.bytes)
      assert.equal(s.stats().dedupHits, 1)
      const before = s.stats()
      // A look-alike that never went through hashing: it names b's key over a's bytes.
      const forged = Object.assign(Object.create(VerifiedChunk.prototype) as object, {
        key: b.key,
        bytes: a.bytes
      }) as VerifiedChunk
      if (s.putVerified) await assert.rejects(s.putVerified(forged), { code: 'CAFS_HASH_MISMATCH' })
      await assert.rejects(putChunk(s, forged), { code: 'CAFS_HASH_MISMATCH' })
      assert.equal(await s.has(b.key), false)
      assert.deepEqual(s.stats(), before)
    })

    it('refuses bad keys, empty and oversized chunks with their codes', async () => {
      const s = await open()
      await assert.rejects(s.put(new Uint8Array(31), Uint8Array.of(1)), { code: 'CAFS_BAD_KEY' })
      await assert.rejects(s.has(new Uint8Array(33)), { code: 'CAFS_BAD_KEY' })
      const empty = new Uint8Array(0)
      await assert.rejects(s.put(sha256(empty), empty), { code: 'CAFS_CHUNK_SIZE' })
      const big = new Uint8Array(CHUNK_MAX_SIZE + 1)
      await assert.rejects(s.put(sha256(big), big), { code: 'CAFS_CHUNK_SIZE' })
      const max = new Uint8Array(CHUNK_MAX_SIZE)
      await s.put(sha256(max), max)
      assert.equal(s.stats().chunks, 1)
    })

    it('returns bytes the caller cannot use to alter the store', async () => {
      const s = await open()
      const a = chunk(100, 5)
      const input = a.bytes.slice()
      await s.put(a.key, input)
      input.fill(0)
      const got = (await s.get(a.key))!
      got.fill(1)
      assert.deepEqual(await s.get(a.key), a.bytes)
    })

    it('evicts the least recently used unpinned chunks (original TestLRU scenario)', async () => {
      // notes §6.3: capacity 1000; 400, 350, 250, 450 -> 400 and 350 evicted; touch 250,
      // add 500 -> 450 evicted; 1010 bytes do not fit at all.
      const s = await open(1000)
      const [c400, c350, c250, c450, c500] = [400, 350, 250, 450, 500].map((n, i) => chunk(n, 10 + i))
      for (const c of [c400!, c350!, c250!, c450!]) await s.put(c.key, c.bytes)
      assert.equal(await s.has(c400!.key), false)
      assert.equal(await s.has(c350!.key), false)
      assert.equal(await s.has(c250!.key), true)
      assert.equal(await s.has(c450!.key), true)
      assert.equal(s.stats().evictions, 2)
      await s.get(c250!.key)
      await s.put(c500!.key, c500!.bytes)
      assert.equal(await s.has(c450!.key), false)
      assert.equal(await s.has(c250!.key), true)
      assert.equal(await s.has(c500!.key), true)
      assert.equal(s.stats().bytes, 750)
      const big = chunk(1010, 20)
      await assert.rejects(s.put(big.key, big.bytes), { code: 'CAFS_STORE_FULL' })
      assert.equal(s.stats().chunks, 2)
    })

    it('never evicts pinned chunks and reports CAFS_STORE_FULL without evicting', async () => {
      const s = await open(1000)
      const a = chunk(400, 30)
      const b = chunk(350, 31)
      const c = chunk(450, 32)
      await s.pin(a.key)
      await s.put(a.key, a.bytes)
      await s.put(b.key, b.bytes)
      await s.put(c.key, c.bytes)
      assert.equal(await s.has(a.key), true, 'pinned chunk survived')
      assert.equal(await s.has(b.key), false, 'oldest unpinned chunk evicted')
      await s.pin(c.key)
      assert.equal(s.stats().pinned, 2)
      const d = chunk(300, 33)
      const before = s.stats()
      await assert.rejects(s.put(d.key, d.bytes), { code: 'CAFS_STORE_FULL' })
      assert.deepEqual(s.stats(), before)
      assert.equal(await s.delete(a.key), false, 'pinned chunks cannot be deleted')
      await s.unpin(a.key)
      assert.equal(s.stats().pinned, 1)
      await s.put(d.key, d.bytes)
      assert.equal(await s.has(a.key), false, 'unpinned chunk became evictable')
      assert.equal(await s.has(c.key), true)
    })

    it('counts pins: a chunk stays protected until every pin is released', async () => {
      const s = await open(600)
      const a = chunk(400, 40)
      const b = chunk(400, 41)
      await s.pin(a.key) // pin before the chunk exists
      await s.pin(a.key)
      await s.put(a.key, a.bytes)
      assert.equal(s.stats().pinned, 1)
      await s.unpin(a.key)
      await assert.rejects(s.put(b.key, b.bytes), { code: 'CAFS_STORE_FULL' })
      await s.unpin(a.key)
      await assert.rejects(s.unpin(a.key), { code: 'CAFS_NOT_PINNED' })
      await s.put(b.key, b.bytes)
      assert.equal(await s.has(a.key), false)
      assert.equal(s.stats().pinned, 0)
    })

    it('handles concurrent puts: duplicates stored once, budget kept, a bad chunk fails alone', async () => {
      const s = await open(100_000)
      const cs = Array.from({ length: 12 }, (_, i) => chunk(20_000, 80 + i))
      const bad = chunk(1000, 99)
      const results = await Promise.allSettled([
        ...cs.map((c) => s.put(c.key, c.bytes)),
        s.put(cs[11]!.key, cs[11]!.bytes),
        s.put(bad.key, cs[1]!.bytes.subarray(0, 1000))
      ])
      assert.deepEqual(
        results.map((r) => r.status),
        [...cs.map(() => 'fulfilled'), 'fulfilled', 'rejected']
      )
      const last = results.at(-1)
      assert.equal(
        last?.status === 'rejected' && (last.reason as { code?: string }).code,
        'CAFS_HASH_MISMATCH'
      )
      const st = s.stats()
      assert.ok(st.bytes <= 100_000)
      assert.equal(st.chunks, 5)
      assert.equal(st.evictions, 7)
      assert.equal(st.dedupHits, 1)
      // The five most recent survive, in order.
      for (const [i, c] of cs.entries()) assert.equal(await s.has(c.key), i >= 7, `chunk ${i}`)
    })

    it('reports figures in stats', async () => {
      const s = await open(10_000)
      const cs = [100, 200, 300].map((n, i) => chunk(n, 50 + i))
      for (const c of cs) await s.put(c.key, c.bytes)
      await s.pin(cs[0]!.key)
      await s.put(cs[1]!.key, cs[1]!.bytes)
      assert.deepEqual(s.stats(), {
        chunks: 3,
        bytes: 600,
        budgetBytes: 10_000,
        pinned: 1,
        evictions: 0,
        dedupHits: 1
      })
    })

    it('honours an aborted signal', async () => {
      const s = await open()
      const a = chunk(10, 60)
      const signal = AbortSignal.abort()
      await assert.rejects(s.put(a.key, a.bytes, { signal }), { name: 'AbortError' })
      await assert.rejects(s.get(a.key, { signal }), { name: 'AbortError' })
      assert.equal(await s.has(a.key), false)
    })

    it('closes idempotently and refuses use afterwards', async () => {
      const s = await open()
      const a = chunk(10, 61)
      await s.put(a.key, a.bytes)
      await s.close()
      await s.close()
      await assert.rejects(s.get(a.key), { code: 'CAFS_STORE_CLOSED' })
      await assert.rejects(s.put(a.key, a.bytes), { code: 'CAFS_STORE_CLOSED' })
    })

    if (!features.persistent) return

    it('keeps chunks, pins and LRU order across a reopen', async () => {
      assert.ok(h.reopen)
      let s = await open(1000)
      const [a, b, c, d] = [300, 300, 300, 300].map((n, i) => chunk(n, 70 + i))
      await s.put(a!.key, a!.bytes)
      await s.put(b!.key, b!.bytes)
      await s.put(c!.key, c!.bytes)
      await s.pin(a!.key)
      await s.get(b!.key) // b is now younger than c
      s = await h.reopen(s, { budgetBytes: 1000 })
      stores.push(s)
      assert.equal(s.stats().chunks, 3)
      assert.equal(s.stats().bytes, 900)
      assert.equal(s.stats().pinned, 1)
      for (const x of [a!, b!, c!]) assert.deepEqual(await s.get(x.key), x.bytes)
      // get() above touched a, b, c in that order; a is pinned, so b is the oldest evictable.
      await s.put(d!.key, d!.bytes)
      assert.equal(await s.has(a!.key), true)
      assert.equal(await s.has(b!.key), false)
      assert.equal(await s.has(c!.key), true)
      await s.unpin(a!.key)
      s = await h.reopen(s, {})
      stores.push(s)
      assert.equal(s.stats().pinned, 0)
      assert.equal(s.stats().chunks, 3)
    })

    it('holds only complete, verified chunks after the writer is killed', async function () {
      this.timeout(20_000)
      assert.ok(h.crash)
      const { store, acknowledged } = await h.crash()
      stores.push(store)
      assert.ok(acknowledged > 0)
      let present = 0
      let bytes = 0
      for (let i = 0; i < CRASH_CHUNKS; i++) {
        const c = crashChunk(i)
        const got = await store.get(c.key)
        if (i < acknowledged) assert.ok(got, `acknowledged chunk ${i} lost`)
        if (!got) continue
        assert.equal(keyToHex(sha256(got)), keyToHex(c.key))
        present++
        bytes += got.length
      }
      assert.equal(store.stats().chunks, present)
      assert.equal(store.stats().bytes, bytes)
      assert.equal(store.stats().pinned, 1, 'the pin the writer took on chunk 0 survived')
    })
  })
}
