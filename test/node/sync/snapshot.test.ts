import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chooseSnapshot, MemorySyncBook, MemorySyncSnapshots, SyncCode } from '../../../node/sync/index.js'
import { testBid, waitFor } from '../../../node/testing.js'
import { Identity } from '../../../protocol/identity/index.js'
import { matchableOf, type OrderBook } from '../../../protocol/matching/index.js'
import { ARTICLES, connect, type SyncNode, startSyncNode, type TestBid } from './helpers.js'

const ARTICLE = ARTICLES[0]
const KEY = `${ARTICLE}:BTC`

const nodes: SyncNode[] = []

/** A node whose book and matching book were fed `bids` (each at its creation time) and advanced to now. */
async function matchingNode(
  bids: readonly TestBid[],
  nowMs: number
): Promise<{ node: SyncNode; snaps: MemorySyncSnapshots }> {
  const book = new MemorySyncBook([ARTICLE])
  const snaps = new MemorySyncSnapshots(book, [KEY])
  const ob = snaps.bookOf(KEY)
  for (const b of [...bids].sort((x, y) => x.bid.createdMs - y.bid.createdMs)) {
    assert.equal(book.addBid(ARTICLE, b.bytes, nowMs).result, 'accept')
    assert.equal(ob.add(matchableOf(b.bid), b.bid.createdMs).result, 'accept')
  }
  ob.advance(nowMs)
  const node = await startSyncNode(book, { snapshots: snaps })
  nodes.push(node)
  return { node, snaps }
}

/** 40 crossing and resting bids of 8 participants, created 20 s … 10 s ago. */
function marketBids(nowMs: number): TestBid[] {
  const people = Array.from({ length: 8 }, () => Identity.generate((n) => new Uint8Array(randomBytes(n))))
  return Array.from({ length: 40 }, (_, i) =>
    testBid(ARTICLE, {
      identity: people[i % 8] as Identity,
      createdMs: nowMs - 20_000 + i * 250,
      lifetimeMs: 120_000,
      type: i % 2 === 0 ? 'BUY' : 'SELL',
      price: `mBTC ${i % 2 === 0 ? 1 + (i % 7) : 3 + (i % 5)}`
    })
  )
}

describe('node/sync snapshots', () => {
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  it('adopts the matching snapshot that two peers agree on; the joiner continues the same digest chain', async () => {
    const now = Date.now()
    const bids = marketBids(now)
    const honest = [await matchingNode(bids, now), await matchingNode(bids, now)]
    // a third peer that saw fewer bids offers a different snapshot
    const odd = await matchingNode(bids.slice(5), now)
    const ref = honest[0]?.snaps.books.get(KEY) as OrderBook
    assert.ok(ref.restingCount > 0, 'the scenario leaves resting bids')
    assert.notEqual(odd.snaps.books.get(KEY)?.digest, ref.digest)
    const book = new MemorySyncBook([ARTICLE])
    const snaps = new MemorySyncSnapshots(book, [KEY])
    const joiner = await startSyncNode(book, { snapshots: snaps })
    nodes.push(joiner)
    for (const p of [odd, ...honest]) await connect(joiner, p.node)
    const r = await joiner.sync.syncNow(ARTICLE, { signal: AbortSignal.timeout(15_000) })
    assert.equal(r.snapshots[KEY], 'adopted')
    const mine = snaps.books.get(KEY) as OrderBook
    assert.equal(mine.digest, ref.digest)
    assert.equal(mine.closedEpoch, ref.closedEpoch)
    assert.deepEqual(mine.snapshot(), ref.snapshot())
    // the same future: both books match the next epochs to the same digest
    const later = now + 5000
    ref.advance(later)
    mine.advance(later)
    assert.equal(mine.digest, ref.digest)
  })

  it('without two agreeing peers it adopts nothing (SYNC_NO_AGREEMENT)', async () => {
    const now = Date.now()
    const bids = marketBids(now)
    const a = await matchingNode(bids, now)
    const b = await matchingNode(bids.slice(3), now)
    const book = new MemorySyncBook([ARTICLE])
    const snaps = new MemorySyncSnapshots(book, [KEY])
    const joiner = await startSyncNode(book, { snapshots: snaps })
    nodes.push(joiner)
    await connect(joiner, a.node)
    await connect(joiner, b.node)
    const r = await joiner.sync.syncNow(ARTICLE, { signal: AbortSignal.timeout(15_000) })
    assert.equal(r.snapshots[KEY], SyncCode.NO_AGREEMENT)
    assert.equal(snaps.books.has(KEY), false)
    // the bids themselves were synced all the same
    assert.equal(book.size(ARTICLE), bids.length)
  })

  it('adopts automatically once two agreeing peers have connected one after the other', async () => {
    const now = Date.now()
    const bids = marketBids(now)
    const a = await matchingNode(bids, now)
    const b = await matchingNode(bids, now)
    const book = new MemorySyncBook([ARTICLE])
    const snaps = new MemorySyncSnapshots(book, [KEY])
    const joiner = await startSyncNode(book, { snapshots: snaps, autoSync: true })
    nodes.push(joiner)
    await connect(joiner, a.node)
    await waitFor(() => book.size(ARTICLE) === bids.length, {
      timeoutMs: 10_000,
      what: 'bids from the first peer'
    })
    // one peer is no quorum
    assert.equal(snaps.books.has(KEY), false)
    await connect(joiner, b.node)
    await waitFor(() => snaps.books.has(KEY), { timeoutMs: 15_000, what: 'snapshot adopted' })
    assert.equal(snaps.books.get(KEY)?.digest, a.snaps.books.get(KEY)?.digest)
  })

  it('chooses the largest agreeing group, then the later epoch (rule table)', () => {
    const o = (closedEpoch: number, digest: string, resting: string[] = []) => ({
      key: KEY,
      closedEpoch,
      digest,
      resting
    })
    assert.equal(chooseSnapshot([o(5, 'aa')]), undefined)
    assert.equal(chooseSnapshot([o(5, 'aa'), o(5, 'bb')]), undefined)
    assert.deepEqual(chooseSnapshot([o(5, 'aa'), o(5, 'aa')]), o(5, 'aa'))
    // same digest but other resting ids: no agreement
    assert.equal(chooseSnapshot([o(5, 'aa', ['1']), o(5, 'aa', ['2'])]), undefined)
    assert.deepEqual(chooseSnapshot([o(5, 'aa'), o(5, 'aa'), o(6, 'bb'), o(6, 'bb'), o(6, 'bb')]), o(6, 'bb'))
    assert.deepEqual(chooseSnapshot([o(5, 'aa'), o(5, 'aa'), o(6, 'bb'), o(6, 'bb')]), o(6, 'bb'))
    assert.deepEqual(chooseSnapshot([o(6, 'cc'), o(6, 'cc'), o(6, 'bb'), o(6, 'bb')]), o(6, 'bb'))
    // a quorum of 3
    assert.equal(chooseSnapshot([o(5, 'aa'), o(5, 'aa')], 3), undefined)
  })
})
