import assert from 'node:assert/strict'
import { type BitwrkNode, bidTopic } from '../../../node/index.js'
import { waitFor } from '../../../node/testing.js'
import { encodeSigned, randomBidNonce, signBid } from '../../../protocol/bid/index.js'
import type { Identity } from '../../../protocol/identity/index.js'
import { epochEndMs, lastClosedEpoch } from '../../../protocol/matching/index.js'
import { money } from '../../../protocol/money/index.js'
import { ARTICLE, connect, count, memoryNode, newIdentity, PARAMS, random, waitMeshes } from './helpers.js'

function signedSell(who: Identity, createdMs: number): { id: string; bytes: Uint8Array } {
  const bid = signBid(who, {
    article: ARTICLE,
    type: 'SELL',
    price: money('BTC', 5000n),
    nonce: randomBidNonce(random),
    createdMs,
    expiresMs: createdMs + 60_000
  })
  return { id: bid.id, bytes: encodeSigned(bid) }
}

describe('node/market (late bids)', function () {
  this.timeout(30_000)
  const nodes: BitwrkNode[] = []
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  it('ignores late, back-dated and future-dated bids and does not forward them', async () => {
    for (let i = 0; i < 3; i++) nodes.push(await memoryNode())
    const [a, b, c] = nodes as [BitwrkNode, BitwrkNode, BitwrkNode]
    await connect(nodes, [
      [0, 1],
      [1, 2]
    ])
    await waitMeshes(nodes)
    const x = newIdentity()
    const now = Date.now()
    // back-dated beyond any open epoch: BID-16
    const backdated = signedSell(x, now - 10_000)
    // inside the coarse cutoff but its epoch closed: MATCH-4 (or BID-16 right at the boundary)
    const late = signedSell(x, epochEndMs(lastClosedEpoch(now, PARAMS), PARAMS) - 1)
    // dated a minute ahead, beyond the 5 s clock allowance: BID-15
    const future = signedSell(x, now + 60_000)
    for (const bad of [backdated, late, future]) await a.host.gossip.publish(bidTopic(ARTICLE), bad.bytes)
    // a good bid published after them: once C holds it, C would have seen the others too
    const fresh = signedSell(x, Date.now())
    await a.host.gossip.publish(bidTopic(ARTICLE), fresh.bytes)
    await waitFor(() => c.book.get(fresh.id) !== undefined, { timeoutMs: 10_000, what: 'fresh bid at C' })

    const bids = b.marketMetrics.bids
    assert.equal((await count(bids, { result: 'ignore', code: 'BID_TOO_LATE' })) >= 1, true)
    assert.equal(await count(bids, { result: 'ignore', code: 'BID_FROM_FUTURE' }), 1)
    assert.equal(await count(bids, { result: 'ignore' }), 3)
    assert.equal(await count(bids, { result: 'accept' }), 1)
    for (const n of [b, c])
      for (const bad of [backdated, late, future]) assert.equal(n.book.get(bad.id), undefined)
    // C validated exactly one bid message: the late ones were never forwarded to it
    assert.equal(await count(c.marketMetrics.bids, {}), 1)
    assert.equal(await count(c.metrics.validation, { kind: 'bids' }), 1)
  })
})
