import assert from 'node:assert/strict'
import type { Counter } from 'prom-client'
import { importStream } from '../../../cafs/stream.js'
import { bidTopic, type RefusedEvent, ReputationServiceCode } from '../../../node/index.js'
import { buyWork } from '../../../node/market/buy.js'
import { forgedBid, testBid, waitFor } from '../../../node/testing.js'
import { isBitwrkError } from '../../../protocol/errors.js'
import { money } from '../../../protocol/money/index.js'
import { GOSSIP_APP_SCORE } from '../../../protocol/reputation/index.js'
import { ARTICLE, connect, count, newWork, random, waitMeshes } from '../market/helpers.js'
import { buyOptions, Nodes } from './helpers.js'

describe('node/reputation', function () {
  this.timeout(30_000)
  const nodes = new Nodes()
  afterEach(() => nodes.stop())

  it('records the global events of a real disputed trade on both parties and an observer', async () => {
    const { buyer, seller, third: observer } = await nodes.trio()
    const all = [buyer.node, seller.node, observer]
    const work = await importStream([random(4096)], buyer.node.chunks)
    // The buyer's check refuses every result: it signs reject-result, a RESULT_DISPUTED retirement.
    await assert.rejects(
      buyWork({ ...buyOptions(buyer, work), resultCheck: () => false, signal: AbortSignal.timeout(20_000) }),
      (e) => isBitwrkError(e, 'NODETRADE_BUY_FAILED')
    )
    const sellerAddr = { kind: 'address', id: seller.node.address } as const
    const buyerAddr = { kind: 'address', id: buyer.node.address } as const
    for (const n of all)
      await waitFor(
        () =>
          n.reputation.record(sellerAddr)?.counters.rejectedResults === 1 &&
          n.reputation.record(buyerAddr)?.counters.rejectedResults === 1,
        { timeoutMs: 10_000, what: 'rejectedResults on every node' }
      )
    // Persisted, with the transaction as the evidence behind the score.
    const stored = await observer.repos.reputation.get(sellerAddr)
    assert.equal(stored?.counters.rejectedResults, 1)
    const v = await observer.reputation.view(sellerAddr)
    assert.ok(v.score < 0)
    assert.equal(v.weights.rejectedResults, -3)
    assert.match(v.recent[0]?.source ?? '', /^tx:[0-9a-f]{64}$/)
  })

  it('counts invalid gossip per forwarding peer: its GossipSub and app scores drop', async () => {
    const a = await nodes.node()
    const m = await nodes.node()
    await connect([a, m], [[0, 1]])
    await waitMeshes([a, m])
    const pubsub = m.host.libp2p.services.pubsub
    for (let i = 0; i < 3; i++) await pubsub.publish(bidTopic(ARTICLE), forgedBid(testBid(ARTICLE).bid))
    const peer = { kind: 'peer', id: m.peerId } as const
    await waitFor(() => (a.reputation.record(peer)?.counters.invalidGossip ?? 0) >= 3, {
      timeoutMs: 10_000,
      what: 'invalidGossip counted'
    })
    assert.ok(a.reputation.appScore(m.peerId) < 0)
    assert.ok(a.reputation.appScore(m.peerId) >= GOSSIP_APP_SCORE.min)
    // GossipSub refreshes its cached scores once per decay interval (1 s).
    await waitFor(() => a.host.gossip.score(m.peerId) < 0, { timeoutMs: 5000, what: 'GossipSub score < 0' })
    // The honest side is untouched.
    assert.equal(m.reputation.record({ kind: 'peer', id: a.peerId }), undefined)
    assert.equal(m.reputation.appScore(a.peerId), 0)
  })

  it('does not establish with a blocked counterparty (REPUTATION_BLOCKED) nor below its threshold', async () => {
    const buyer = await nodes.node()
    const seller = await nodes.node()
    // A newcomer scores 0: a buyer demanding 0.1 distrusts it.
    const strict = await nodes.node({
      reputation: { thresholds: { establishMin: 0.1 }, flushIntervalMs: 50 }
    })
    await connect(
      [buyer, seller, strict],
      [
        [0, 1],
        [0, 2],
        [1, 2]
      ]
    )
    await waitMeshes([buyer, seller, strict])
    // Three wrong chunks from the seller's peer: −15 / 19 ≤ −0.75, blocked.
    for (let i = 0; i < 3; i++) buyer.reputation.onWrongChunk(seller.peerId, 'CAFS_HASH_MISMATCH')
    await waitFor(() => buyer.reputation.assess({ kind: 'peer', id: seller.peerId }).blocked, {
      timeoutMs: 5000,
      what: 'seller blocked'
    })
    const refused: RefusedEvent[] = []
    buyer.market.addEventListener('market:refused', (e) => refused.push(e.detail))
    const strictRefused: RefusedEvent[] = []
    strict.market.addEventListener('market:refused', (e) => strictRefused.push(e.detail))
    const sells = [
      await seller.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 1000n) }),
      await seller.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 1000n) })
    ]
    await waitFor(
      () => sells.every((s) => buyer.book.get(s.id) !== undefined && strict.book.get(s.id) !== undefined),
      {
        timeoutMs: 10_000,
        what: 'offers'
      }
    )
    await buyer.placeBid({ article: ARTICLE, side: 'BUY', price: money('BTC', 2000n), work: newWork() })
    await strict.placeBid({ article: ARTICLE, side: 'BUY', price: money('BTC', 2000n), work: newWork() })
    await waitFor(() => refused.length === 1 && strictRefused.length === 1, {
      timeoutMs: 10_000,
      what: 'refusals'
    })
    assert.equal(refused[0]?.code, ReputationServiceCode.BLOCKED)
    assert.equal(refused[0]?.counterparty, seller.address)
    assert.equal(strictRefused[0]?.code, ReputationServiceCode.DISTRUSTED)
    const refusals = buyer.registry.getSingleMetric('bitwrk_reputation_refusals_total') as Counter<'code'>
    assert.equal(await count(refusals, { code: ReputationServiceCode.BLOCKED }), 1)
    // The seller established its side; the refusing buyers signed nothing for the match.
    for (const [n, r] of [
      [buyer, refused[0]],
      [strict, strictRefused[0]]
    ] as const) {
      const txid = r?.txid ?? ''
      await waitFor(() => n.market.txs.get(txid)?.tx.phase === 'SELLER_ESTABLISHED', {
        timeoutMs: 10_000,
        what: 'seller established'
      })
      const tx = n.market.txs.get(txid)?.tx
      assert.deepEqual(
        tx?.evidence.map((e) => e.kind),
        ['establish-seller']
      )
    }
  })
})
