import assert from 'node:assert/strict'
import { type BitwrkNode, bidTopic } from '../../node/index.js'
import { waitFor } from '../../node/testing.js'
import { matchKey } from '../../protocol/article/index.js'
import { encodeSigned, randomBidNonce, signBid } from '../../protocol/bid/index.js'
import { money } from '../../protocol/money/index.js'
import {
  ARTICLE,
  connect,
  memoryNode,
  newIdentity,
  PARAMS,
  pace,
  random,
  waitMeshes
} from '../node/market/helpers.js'

/** Bids that never cross (BUY 1000 sat < SELL 5000 sat): they all stay live and rest. */
function restingBid(i: number): { id: string; bytes: Uint8Array } {
  const createdMs = Date.now()
  const bid = signBid(newIdentity(), {
    article: ARTICLE,
    type: i % 2 === 0 ? 'BUY' : 'SELL',
    price: money('BTC', i % 2 === 0 ? 1000n : 5000n),
    nonce: randomBidNonce(random),
    createdMs,
    expiresMs: createdMs + 90_000
  })
  return { id: bid.id, bytes: encodeSigned(bid) }
}

describe('node/sync-wiring', function () {
  this.timeout(40_000)
  const nodes: BitwrkNode[] = []
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  it('a node that joins late holds every live bid within 5 s of connecting and matches on the same chain', async () => {
    for (let i = 0; i < 3; i++) nodes.push(await memoryNode())
    const [a, b, c] = nodes as [BitwrkNode, BitwrkNode, BitwrkNode]
    await connect(nodes, [
      [0, 1],
      [1, 2],
      [0, 2]
    ])
    await waitMeshes(nodes)
    // 40 bids over ~1 s (several epochs), so most of them rest in epochs the joiner never saw
    const ids: string[] = []
    for (let i = 0; i < 40; i++) {
      const bid = restingBid(i)
      ids.push(bid.id)
      const from = nodes[i % 3] as BitwrkNode
      // gossip does not deliver to its publisher: book it there as the market does for own bids
      assert.equal(from.book.addBidBytes(bid.bytes, Date.now(), ARTICLE).result, 'accept')
      await from.host.gossip.publish(bidTopic(ARTICLE), bid.bytes)
      if (i % 10 === 9) await pace(PARAMS.epochMs)
    }
    await waitFor(() => [a, b, c].every((n) => ids.every((id) => n.book.get(id) !== undefined)), {
      timeoutMs: 10_000,
      what: 'every bid on the first three nodes'
    })
    const key = matchKey(ARTICLE, 'BTC')
    // every bid's epoch is matched on the first nodes: they all rest in closed epochs now
    const allRest = (n: BitwrkNode): boolean =>
      n.book.matcher.book(key).snapshot().resting.length === ids.length
    await waitFor(() => [a, b, c].every(allRest), { timeoutMs: 10_000, what: 'bids resting' })

    const d = await memoryNode()
    nodes.push(d)
    const connectedAt = Date.now()
    await connect(nodes, [
      [3, 0],
      [3, 1],
      [3, 2]
    ])
    await waitFor(() => d.book.liveDigest(ARTICLE) === a.book.liveDigest(ARTICLE), {
      timeoutMs: 5_000,
      what: 'the live book at the late joiner'
    })
    assert.ok(Date.now() - connectedAt <= 5_000)
    for (const id of ids) assert.notEqual(d.book.get(id), undefined)
    // the joiner adopted the agreed matching state: its epoch digests continue the same chain
    const epoch = a.market.digest(key).epoch + 4
    await waitFor(
      () => a.market.epochDigest(key, epoch) !== undefined && d.market.epochDigest(key, epoch) !== undefined,
      {
        timeoutMs: 10_000,
        what: 'a later epoch on both'
      }
    )
    assert.equal(d.market.epochDigest(key, epoch), a.market.epochDigest(key, epoch))
  })
})
