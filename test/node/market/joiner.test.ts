import assert from 'node:assert/strict'
import type { BitwrkNode } from '../../../node/index.js'
import { waitFor } from '../../../node/testing.js'
import { money } from '../../../protocol/money/index.js'
import { ARTICLE, connect, memoryNode, newWork, waitMeshes } from './helpers.js'

describe('node/market (late joiner with book sync)', function () {
  this.timeout(30_000)
  const nodes: BitwrkNode[] = []
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  it('pulls the live book and the snapshot, then matches and establishes like the network', async () => {
    const opts = { sync: { autoSync: false } }
    const a = await memoryNode(opts)
    const b = await memoryNode(opts)
    nodes.push(a, b)
    await connect(nodes, [[0, 1]])
    await waitMeshes([a, b])
    const sells = [
      await a.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 300n) }),
      await b.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 310n) })
    ]
    await waitFor(
      () => sells.every((s) => a.book.get(s.id) !== undefined && b.book.get(s.id) !== undefined),
      {
        timeoutMs: 5000,
        what: 'sells everywhere'
      }
    )
    const key = `${ARTICLE}:BTC`
    await waitFor(
      () => a.book.matcher.book(key).restingCount === 2 && b.book.matcher.book(key).restingCount === 2,
      {
        timeoutMs: 5000,
        what: 'sells resting'
      }
    )

    // C joins after the sells' epochs closed: gossip will never bring them again.
    const c = await memoryNode(opts)
    nodes.push(c)
    await connect(
      [c, a, b],
      [
        [0, 1],
        [0, 2]
      ]
    )
    await waitMeshes([a, b, c])
    const result = await c.sync?.syncNow(ARTICLE)
    assert.equal(result?.snapshots[key], 'adopted')
    assert.equal(c.book.liveDigest(ARTICLE), a.book.liveDigest(ARTICLE))
    assert.equal(c.market.digest(key).digest, a.market.digest(key).digest)

    // A crossing BUY from the joiner takes the cheapest resting SELL (A's) on all three nodes.
    const established = new Promise<string>((resolve) =>
      a.market.addEventListener('tx:established', (e) => resolve(e.detail.txid), { once: true })
    )
    const buy = await c.placeBid({
      article: ARTICLE,
      side: 'BUY',
      price: money('BTC', 400n),
      work: newWork()
    })
    const txid = await established
    const tx = await a.market.transaction(txid)
    assert.equal(tx?.terms.buyBidId, buy.id)
    assert.equal(tx?.terms.sellBidId, sells[0]?.id)
    await waitFor(() => [a, b, c].every((n) => n.market.digest(key).digest === a.market.digest(key).digest), {
      timeoutMs: 5000,
      what: 'equal digests'
    })
  })
})
