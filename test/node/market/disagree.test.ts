import assert from 'node:assert/strict'
import type { BitwrkNode, TxPhaseEvent } from '../../../node/index.js'
import { waitFor } from '../../../node/testing.js'
import { encodeSigned, randomBidNonce, signBid } from '../../../protocol/bid/index.js'
import { money } from '../../../protocol/money/index.js'
import { ESTABLISH_TIMEOUT_MS, type Transaction } from '../../../protocol/transaction/index.js'
import { ARTICLE, connect, count, memoryNode, newIdentity, newWork, random, waitMeshes } from './helpers.js'

describe('node/market (disagreeing views)', function () {
  this.timeout(30_000)
  const nodes: BitwrkNode[] = []
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  it('fails to establish and retires both proposals after the establish timeout', async () => {
    let offset = 0
    const clock = (): number => Date.now() + offset
    const a = await memoryNode({ clock })
    const b = await memoryNode({ clock })
    nodes.push(a, b)
    await connect(nodes, [[0, 1]])
    await waitMeshes(nodes)
    const phases: TxPhaseEvent[] = []
    const retired: Transaction[] = []
    let established = 0
    for (const n of nodes) {
      n.market.addEventListener('tx:phase', (e) => phases.push(e.detail))
      n.market.addEventListener('tx:retired', (e) => retired.push(e.detail.tx))
      n.market.addEventListener('tx:established', () => established++)
    }

    // A cheaper SELL of a third participant reaches A's book only: the views now differ.
    const x = newIdentity()
    const now = clock()
    const xSell = signBid(x, {
      article: ARTICLE,
      type: 'SELL',
      price: money('BTC', 900n),
      nonce: randomBidNonce(random),
      createdMs: now,
      expiresMs: now + 60_000
    })
    assert.equal(a.book.addBidBytes(encodeSigned(xSell), clock(), ARTICLE).result, 'accept')
    const bSell = await b.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 950n) })
    await waitFor(() => a.book.get(bSell.id) !== undefined, { timeoutMs: 5000, what: 'B sell at A' })
    const aBuy = await a.placeBid({
      article: ARTICLE,
      side: 'BUY',
      price: money('BTC', 1000n),
      work: newWork()
    })

    // A proposes (A buy, X sell) and signs as buyer; B proposes (A buy, B sell) and signs as seller.
    await waitFor(
      () =>
        phases.some((p) => p.own === 'buyer' && p.to === 'BUYER_ESTABLISHED') &&
        phases.some((p) => p.own === 'seller' && p.to === 'SELLER_ESTABLISHED'),
      { timeoutMs: 10_000, what: 'both parties signed their own proposal' }
    )
    const txA = phases.find((p) => p.own === 'buyer')?.tx as Transaction
    const txB = phases.find((p) => p.own === 'seller')?.tx as Transaction
    assert.notEqual(txA.id, txB.id)
    assert.equal(txA.terms.sellBidId, xSell.id)
    assert.equal(txB.terms.sellBidId, bSell.id)
    // each side ignores the other's message: no such transaction in its view
    await waitFor(
      async () =>
        (await count(a.marketMetrics.txMessages, { code: 'MARKET_UNKNOWN_TX' })) >= 1 &&
        (await count(b.marketMetrics.txMessages, { code: 'MARKET_UNKNOWN_TX' })) >= 1,
      { timeoutMs: 10_000, what: 'establishing messages of the other view ignored' }
    )
    // A's buy bid is marked used for its own proposal only
    assert.equal((await a.repos.bids.usedBy(aBuy.id))?.txId, txA.id)

    // Past the establish timeout (TX-13), the next epoch tick retires both proposals.
    offset += ESTABLISH_TIMEOUT_MS + 1000
    await waitFor(() => retired.length >= 2, { timeoutMs: 10_000, what: 'both proposals retired' })
    assert.deepEqual(retired.map((t) => t.id).sort(), [txA.id, txB.id].sort())
    for (const t of retired) {
      assert.equal(t.state, 'retired')
      assert.equal(t.outcome?.reason, 'not-established')
      assert.equal(t.outcome?.result, 'buyer-refunded')
    }
    assert.equal((await a.repos.transactions.get(txA.id))?.state, 'retired')
    assert.equal((await b.repos.transactions.get(txB.id))?.state, 'retired')
    assert.equal(established, 0)
    for (const n of nodes) {
      assert.equal((await n.marketMetrics.establishShare.get()).values[0]?.value, 0)
      assert.equal(await count(n.marketMetrics.retired, { reason: 'not-established' }), 1)
    }
  })
})
