import assert from 'node:assert/strict'
import type { BitwrkNode } from '../../../node/index.js'
import type { BidClosedEvent, RejoinedEvent } from '../../../node/market/market.js'
import { testBid, waitFor } from '../../../node/testing.js'
import { epochOf } from '../../../protocol/matching/index.js'
import { money } from '../../../protocol/money/index.js'
import { ARTICLE, connect, memoryNode, newIdentity, newWork, waitMeshes } from './helpers.js'

const KEY = `${ARTICLE}:BTC`

/**
 * SYNC-15 and MARKET-16: a node whose view differs from the network's (here: a bid that only it
 * admitted, or an own bid the network never saw) finds out by its chain checks, adopts the
 * network's matching state, and bids again what the network lost.
 */
describe('node/market re-joining the network chain (SYNC-15, MARKET-16)', function () {
  this.timeout(60_000)
  const nodes: BitwrkNode[] = []
  const denied = new Set<string>()

  beforeEach(async () => {
    denied.clear()
    for (let i = 0; i < 4; i++)
      nodes.push(
        await memoryNode({
          sync: { chainCheckMs: 400, autoSync: false },
          networkClock: false,
          host: { dhtSelfQuery: false, denyPeer: (p) => denied.has(p) }
        })
      )
    await connect(nodes, [
      [1, 0],
      [2, 0],
      [3, 0],
      [2, 1],
      [3, 1],
      [3, 2]
    ])
    await waitMeshes(nodes)
  })

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  it('a node that matched a bid nobody else saw adopts the network state and withdraws its bid', async () => {
    const [a, , , d] = nodes as [BitwrkNode, BitwrkNode, BitwrkNode, BitwrkNode]
    const sell = await d.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 100n) })
    await waitFor(() => nodes.every((n) => n.book.get(sell.id) !== undefined), { timeoutMs: 10_000 })
    // a crossing BUY that only d admits (offered to its book, never gossiped)
    const rejoined = new Promise<RejoinedEvent>((resolve) =>
      d.market.addEventListener('market:rejoined', (e: CustomEvent<RejoinedEvent>) => resolve(e.detail), {
        once: true
      })
    )
    const buy = testBid(ARTICLE, { identity: newIdentity(), type: 'BUY', price: 'BTC 0.000002' })
    assert.equal(d.book.addBidBytes(buy.bytes, Date.now(), ARTICLE).result, 'accept')
    const r = await rejoined
    assert.equal(r.key, KEY)
    assert.notEqual(r.previous, r.digest)
    // back on the chain: d's digest after that epoch is the others'
    assert.equal(d.market.epochDigest(KEY, r.epoch), a.market.epochDigest(KEY, r.epoch))
    // d signed for a match nobody else made: its SELL is withdrawn everywhere (a cancel)
    await waitFor(() => nodes.every((n) => n.book.get(sell.id) === undefined), { timeoutMs: 15_000 })
  })

  it('an own bid the network never admitted is closed as lost after the re-join', async () => {
    const [a, b, c, d] = nodes as [BitwrkNode, BitwrkNode, BitwrkNode, BitwrkNode]
    // the market has a book: a SELL that the BUY below does not cross
    const resting = await a.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 200n) })
    await waitFor(() => nodes.every((n) => n.book.get(resting.id) !== undefined), { timeoutMs: 10_000 })
    // d is cut off: its bid stays in its own book only
    for (const n of [a, b, c]) denied.add(n.peerId)
    for (const conn of d.host.libp2p.getConnections()) conn.abort(new Error('partitioned'))
    await waitFor(() => d.host.libp2p.getConnections().length === 0, { timeoutMs: 10_000 })
    const closed = new Promise<BidClosedEvent>((resolve) =>
      d.market.addEventListener('bid:closed', (e: CustomEvent<BidClosedEvent>) => resolve(e.detail), {
        once: true
      })
    )
    const own = await d.placeBid({ article: ARTICLE, side: 'BUY', price: money('BTC', 50n), work: newWork() })
    // its epoch closes while d is alone (settle 1 s), then d comes back
    await waitFor(
      () => d.market.digest(KEY).epoch >= epochOf(own.createdMs, { epochMs: 250, settleMs: 1000 }),
      {
        timeoutMs: 10_000
      }
    )
    denied.clear()
    await connect(nodes, [
      [3, 0],
      [3, 1],
      [3, 2]
    ])
    const e = await closed
    assert.deepEqual(e, { bidId: own.id, reason: 'lost' })
    assert.equal(d.book.get(own.id), undefined)
    assert.ok(nodes.slice(0, 3).every((n) => n.book.get(own.id) === undefined))
  })
})
