import assert from 'node:assert/strict'
import { importStream } from '../../../cafs/stream.js'
import { buyWork } from '../../../node/market/buy.js'
import { waitFor } from '../../../node/testing.js'
import type { Bid } from '../../../protocol/bid/index.js'
import { money } from '../../../protocol/money/index.js'
import type { Transaction } from '../../../protocol/transaction/index.js'
import { ARTICLE, connect, random, waitMeshes } from '../market/helpers.js'
import { buyOptions, Nodes, readAll, reversing, type TradingNode } from './helpers.js'

describe('node/market/buy (replication)', function () {
  this.timeout(40_000)
  const nodes = new Nodes()
  afterEach(() => nodes.stop())

  /** A buyer and sellers (one SELL each, cheapest first), all connected, offers in the buyer's book. */
  async function market(
    workers: (typeof reversing)[]
  ): Promise<{ buyer: TradingNode; sellers: TradingNode[] }> {
    const buyer = await nodes.trading()
    const sellers: TradingNode[] = []
    for (const w of workers) sellers.push(await nodes.trading({}, w))
    const all = [buyer, ...sellers].map((t) => t.node)
    const edges: [number, number][] = []
    for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) edges.push([i, j])
    await connect(all, edges)
    await waitMeshes(all)
    const bids: Bid[] = []
    for (const [i, s] of sellers.entries())
      bids.push(
        await s.node.placeBid({
          article: ARTICLE,
          side: 'SELL',
          price: money('BTC', 1000n + 100n * BigInt(i))
        })
      )
    await waitFor(() => bids.every((b) => buyer.node.book.get(b.id) !== undefined), {
      timeoutMs: 10_000,
      what: 'offers in the buyer book'
    })
    return { buyer, sellers }
  }

  async function buy(buyer: TradingNode, work: Uint8Array) {
    const finished: Transaction[] = []
    buyer.node.market.addEventListener('tx:retired', (e) => {
      if (e.detail.own === 'buyer') finished.push(e.detail.tx)
    })
    const progress: string[] = []
    const r = await buyWork({
      ...buyOptions(buyer, await importStream([work], buyer.node.chunks)),
      reputation: buyer.node.reputation,
      deterministic: true,
      onProgress: (p) => progress.push(p)
    })
    return { r, finished, progress }
  }

  it('buys deterministic work twice from a low-trust seller and accepts both equal results', async () => {
    const { buyer, sellers } = await market([reversing, reversing])
    const work = random(8192)
    const { r, finished, progress } = await buy(buyer, work)
    assert.deepEqual(await readAll(buyer.node.chunks, r.result), Uint8Array.from(work).reverse())
    assert.equal(progress.filter((p) => p === 'replicate').length, 1)
    await waitFor(() => finished.length === 2, { timeoutMs: 10_000, what: 'two retired purchases' })
    assert.deepEqual(
      finished.map((t) => t.phase),
      ['FINISHED', 'FINISHED']
    )
    assert.deepEqual(finished.map((t) => t.terms.seller).sort(), sellers.map((s) => s.node.address).sort())
  })

  it('settles a disagreement by a third opinion and rejects the odd one out', async () => {
    const liar = { work: async (w: Uint8Array) => Uint8Array.from(w).fill(7) }
    const { buyer, sellers } = await market([reversing, liar, reversing])
    const work = random(8192)
    const { r, finished, progress } = await buy(buyer, work)
    assert.deepEqual(await readAll(buyer.node.chunks, r.result), Uint8Array.from(work).reverse())
    assert.equal(progress.filter((p) => p === 'contradicted').length, 1)
    await waitFor(() => finished.length === 3, { timeoutMs: 10_000, what: 'three retired purchases' })
    const bySeller = new Map(finished.map((t) => [t.terms.seller, t.phase]))
    const [honest1, cheat, honest2] = sellers.map((s) => s.node.address) as [string, string, string]
    assert.equal(bySeller.get(honest1), 'FINISHED')
    assert.equal(bySeller.get(honest2), 'FINISHED')
    assert.equal(bySeller.get(cheat), 'RESULT_DISPUTED')
    // The liar: the global dispute (REP-7) and the local contradiction (REP-19) on the buyer.
    await waitFor(
      () => buyer.node.reputation.record({ kind: 'address', id: cheat })?.counters.rejectedResults === 2,
      {
        timeoutMs: 10_000,
        what: 'rejectedResults of the liar'
      }
    )
  })
})
