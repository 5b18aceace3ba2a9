import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { MemorySyncBook, SyncBook } from '../../../node/sync/index.js'
import {
  ARTICLES,
  connect,
  held,
  liveBids,
  memoryBook,
  type SyncNode,
  startSyncNode,
  type TestBid
} from './helpers.js'

const ARTICLE = ARTICLES[0]

/** A book whose backing store a test swaps between runs (one pair of hosts for every run). */
class SwapBook implements SyncBook {
  current: MemorySyncBook = memoryBook()
  articles(): readonly string[] {
    return this.current.articles()
  }
  liveBids(article: string, nowMs: number) {
    return this.current.liveBids(article, nowMs)
  }
  addBid(article: string, bytes: Uint8Array, nowMs: number) {
    return this.current.addBid(article, bytes, nowMs)
  }
}

describe('node/sync pull (property)', () => {
  const nodes: SyncNode[] = []
  let pool: TestBid[] = []
  const responder = new SwapBook()
  const joiner = new SwapBook()
  before(async () => {
    pool = liveBids(300, 6, Date.now(), [ARTICLE])
    nodes.push(await startSyncNode(responder), await startSyncNode(joiner))
    await connect(nodes[1] as SyncNode, nodes[0] as SyncNode)
  })
  after(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  it('after one pull the joiner holds every live bid of the responder, whatever both held before', async () => {
    await fc.assert(
      fc.asyncProperty(
        // shares (in %) of the pool each side holds, then one draw per bid and side: covers
        // empty and full books on either side and everything between
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 })), {
          minLength: pool.length,
          maxLength: pool.length
        }),
        async (pr, pj, draws) => {
          const now = Date.now()
          responder.current = memoryBook()
          joiner.current = memoryBook()
          const where = draws.map(([a, b]) => (a < pr ? (b < pj ? 'both' : 'r') : b < pj ? 'j' : 'none'))
          where.forEach((w, i) => {
            const b = pool[i] as TestBid
            if (w === 'r' || w === 'both') responder.current.addBid(ARTICLE, b.bytes, now)
            if (w === 'j' || w === 'both') joiner.current.addBid(ARTICLE, b.bytes, now)
          })
          const theirs = pool.filter((_b, i) => where[i] === 'r' || where[i] === 'both')
          const missing = pool.filter((_b, i) => where[i] === 'r').length
          const r = await (nodes[1] as SyncNode).sync.syncNow(ARTICLE, {
            signal: AbortSignal.timeout(10_000)
          })
          assert.deepEqual(r.failures, [])
          assert.equal(held(joiner.current, theirs), theirs.length)
          assert.equal(r.accepted, missing)
          // nothing the joiner held is sent again when it holds enough of a bucket (ids first)
          assert.ok(r.received <= theirs.length)
        }
      ),
      // each run is a real libp2p session; 12 runs cover empty, partial and full books
      { numRuns: 12 }
    )
  })
})
