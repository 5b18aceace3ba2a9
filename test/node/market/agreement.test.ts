import assert from 'node:assert/strict'
import type { BitwrkNode } from '../../../node/index.js'
import { topologyEdges, waitFor } from '../../../node/testing.js'
import { epochOf } from '../../../protocol/matching/index.js'
import { money } from '../../../protocol/money/index.js'
import { ARTICLE, connect, count, memoryNode, newWork, PARAMS, pace, waitMeshes } from './helpers.js'

/** xorshift32: reproducible prices and sides. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 4294967296
  }
}

interface Seen {
  epochs: string[]
  matches: Set<string>
  established: Set<string>
}

function observe(node: BitwrkNode): Seen {
  const seen: Seen = { epochs: [], matches: new Set(), established: new Set() }
  node.market.addEventListener('market:epoch', (e) => {
    seen.epochs.push(`${e.detail.key}/${e.detail.epoch}/${e.detail.digest}`)
  })
  node.market.addEventListener('market:match', (e) => seen.matches.add(e.detail.txid))
  node.market.addEventListener('tx:established', (e) => seen.established.add(e.detail.txid))
  return seen
}

describe('node/market (5 nodes agree)', function () {
  this.timeout(60_000)
  const nodes: BitwrkNode[] = []
  after(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  it('computes the same digest every epoch on every node and establishes every match exactly once', async () => {
    for (let i = 0; i < 5; i++) nodes.push(await memoryNode())
    const rnd = rng(20261125)
    await connect(nodes, topologyEdges(5, 'random', 3, rnd))
    await waitMeshes(nodes)
    const seen = nodes.map(observe)

    // 200 bids, 40 rounds of one bid per node, prices around a mid so that many cross.
    const mid = 1_000_000n
    let lastCreated = 0
    for (let round = 0; round < 40; round++) {
      await Promise.all(
        nodes.map(async (n) => {
          const buy = rnd() < 0.5
          const price = money('BTC', mid + BigInt(Math.floor(rnd() * 41) - 20) * 1000n)
          const bid = await n.placeBid(
            buy
              ? { article: ARTICLE, side: 'BUY', price, work: newWork() }
              : { article: ARTICLE, side: 'SELL', price }
          )
          lastCreated = Math.max(lastCreated, bid.createdMs)
        })
      )
      await pace(40)
    }

    const lastEpoch = epochOf(lastCreated, PARAMS)
    const key = `${ARTICLE}:BTC`
    await waitFor(
      () =>
        nodes.every((n, i) => {
          const s = seen[i] as Seen
          return n.market.digest(key).epoch >= lastEpoch && s.established.size === s.matches.size
        }),
      { timeoutMs: 30_000, what: 'every match established on every node' }
    ).catch(async (err) => {
      for (const [i, s] of seen.entries()) {
        const n = nodes[i] as BitwrkNode
        console.log(
          i,
          n.market.digest(key).epoch,
          lastEpoch,
          s.matches.size,
          s.established.size,
          s.epochs.length,
          JSON.stringify((await n.marketMetrics.txMessages.get()).values.map((v) => [v.labels, v.value])),
          JSON.stringify((await n.marketMetrics.bids.get()).values.map((v) => [v.labels, v.value])),
          JSON.stringify([...n.market.txs.phaseCounts()])
        )
      }
      throw err
    })

    const first = seen[0] as Seen
    assert.ok(first.matches.size >= 20, `expected many matches, got ${first.matches.size}`)
    for (const s of seen) {
      // byte-identical epoch results (key, epoch, chained digest) on every node
      assert.deepEqual(s.epochs, first.epochs)
      assert.deepEqual([...s.matches].sort(), [...first.matches].sort())
      assert.deepEqual([...s.established].sort(), [...first.matches].sort())
    }
    // every match is one transaction established by its two parties, no bid in two
    const used = new Set<string>()
    for (const txid of first.matches) {
      const tx = await nodes[0]?.market.transaction(txid)
      assert.ok(tx !== undefined)
      for (const id of [tx.terms.buyBidId, tx.terms.sellBidId]) {
        assert.equal(used.has(id), false, 'a bid is in two transactions')
        used.add(id)
      }
      const buyer = nodes.find((n) => n.address === tx.terms.buyer) as BitwrkNode
      const seller = nodes.find((n) => n.address === tx.terms.seller) as BitwrkNode
      assert.equal((await buyer.repos.bids.usedBy(tx.terms.buyBidId))?.txId, txid)
      assert.equal((await seller.repos.bids.usedBy(tx.terms.sellBidId))?.txId, txid)
      assert.equal((await seller.repos.transactions.get(txid))?.phase, 'TRANSMITTING')
      assert.equal((await buyer.repos.transactions.get(txid))?.phase, 'TRANSMITTING')
    }
    const final = nodes[0]?.market.digest(key).digest
    for (const n of nodes) {
      assert.equal(n.market.digest(key).digest, final)
      assert.equal(n.market.epochDigest(key, lastEpoch), final)
      assert.equal(await count(n.marketMetrics.matches, {}), first.matches.size)
      assert.equal((await n.marketMetrics.establishShare.get()).values[0]?.value, 1)
    }
  })
})
