import { randomBytes } from 'node:crypto'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { GossipMessage, ValidationContext } from '../../node/gossip/index.js'
import { bidTopic, txTopic } from '../../node/gossip/index.js'
import { type BitwrkHost, createHost } from '../../node/host/host.js'
import { type BitwrkNode, createBitwrkNode } from '../../node/node.js'
import { createMemoryController, openStore } from '../../node/store/index.js'
import { randomPrivateKey, waitFor, waitForMesh } from '../../node/testing.js'
import { Identity } from '../../protocol/identity/index.js'
import { money } from '../../protocol/money/index.js'
import type { Drill } from '../drill.js'

/** The drill's article. */
const ARTICLE = 'net.bitwrk/drill/replay'
/** Short epochs (as the market tests: 250 ms epochs, 1 s settle delay). */
const PARAMS = { epochMs: 250, settleMs: 1000 } as const
/**
 * Codes a replay may be answered with, by where it is caught: the adapter's seen cache
 * (GOSSIP-5) or its per-peer rate limit (GOSSIP-7: many copies from one peer), the bid rules (a replayed bid is past its epoch: BID-16 late, or still pending:
 * BID_DUPLICATE, BID-17), the book (a replayed bid whose epoch this book already matched, while
 * the bid is still young enough for BID-16: MATCH-4 late) and the phase machine (a phase
 * message already applied: TX-12 wrong phase).
 */
const REPLAY_CODES = new Set([
  'GOSSIP_DUPLICATE',
  'GOSSIP_RATE_LIMITED',
  'BID_TOO_LATE',
  'BID_DUPLICATE',
  'MATCH_LATE',
  'TX_WRONG_PHASE'
])

/**
 * `replay`: a buyer and a seller (real nodes) establish transactions; every bid and phase
 * message of them is recorded as it crossed the wire. A fresh attacker peer then replays each
 * one many times, at three depths: (1) over GossipSub from a new connection (GossipSub's own
 * seen cache drops them), (2) through each node's topic validators as GossipSub runs them once
 * its 2-minute seen cache has forgotten (the adapter's seen cache, GOSSIP-5, answers), (3)
 * straight into the book and transaction validators, as after the adapter's cache expired too
 * or through book sync. Passes when nothing is accepted, every refusal is an ignore with one
 * of {@link REPLAY_CODES}, the book digests and transaction records are unchanged two epochs
 * later, and no further match or transaction appeared.
 */
export const drill: Drill = {
  name: 'replay',
  async run({ small }) {
    const txCount = small ? 1 : 3
    const copies = small ? 10 : 100
    const nodes: BitwrkNode[] = []
    let attacker: BitwrkHost | undefined
    const mk = async () => {
      const n = await createBitwrkNode({
        store: await openStore(createMemoryController()),
        identity: Identity.generate((k) => new Uint8Array(randomBytes(k))),
        articles: [ARTICLE],
        loopbackOnly: true,
        epochParams: PARAMS,
        gossip: { heartbeatIntervalMs: 100 },
        host: { dhtSelfQuery: false }
      })
      nodes.push(n)
      await n.start()
      return n
    }
    try {
      const buyer = await mk()
      const seller = await mk()
      await buyer.host.libp2p.dial(seller.host.multiaddrs()[0] as Multiaddr, {
        signal: AbortSignal.timeout(10_000)
      })
      for (const t of [bidTopic(ARTICLE), txTopic(ARTICLE)])
        await waitForMesh([buyer.host, seller.host], t, 10_000)

      // Everything that crosses the wire, recorded at the receiving node.
      const wire = new Map<string, GossipMessage>()
      for (const n of nodes)
        n.host.gossip.addEventListener('gossip:message', (e) => wire.set(e.detail.msgId, e.detail))
      let established = 0
      let matches = 0
      for (const n of nodes) {
        n.market.addEventListener('tx:established', () => established++)
        n.market.addEventListener('market:match', () => matches++)
      }
      for (let i = 0; i < txCount; i++) {
        const want = established + 2
        const sell = await seller.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 700n) })
        await waitFor(() => buyer.book.get(sell.id) !== undefined, {
          timeoutMs: 10_000,
          what: 'sell at the buyer'
        })
        await buyer.placeBid({
          article: ARTICLE,
          side: 'BUY',
          price: money('BTC', 800n),
          work: { workHash: randomBytes(32).toString('hex'), buyerSecret: randomBytes(32).toString('hex') }
        })
        await waitFor(() => established >= want, {
          timeoutMs: 20_000,
          what: 'transaction established at both'
        })
      }
      // the last establishing message is also delivered to its other side before the snapshot
      await waitFor(() => [...wire.values()].filter((m) => m.kind === 'tx').length >= 2 * txCount, {
        timeoutMs: 10_000,
        what: 'phase messages recorded'
      })
      const recorded = [...wire.values()]
      const state = () =>
        JSON.stringify(
          nodes.map((n) => ({
            book: n.book.liveDigest(ARTICLE),
            txs: n.market.txs
              .list()
              .map((e) => [e.tx.id, e.tx.revision, e.tx.phase, e.tx.state])
              .sort()
          }))
        )
      const before = state()
      const [establishedBefore, matchesBefore] = [established, matches]
      const codes = new Map<string, number>()
      const count = (code: string) => codes.set(code, (codes.get(code) ?? 0) + 1)
      let accepted = 0
      let rejected = 0

      // (1) Over GossipSub from a fresh peer that never saw them.
      const validations = async () => {
        let sum = 0
        for (const n of nodes) for (const v of (await n.metrics.validation.get()).values) sum += v.value
        return sum
      }
      const validatedBefore = await validations()
      attacker = await createHost({
        privateKey: randomPrivateKey(),
        loopbackOnly: true,
        gossip: { heartbeatIntervalMs: 100 }
      })
      for (const n of nodes)
        await attacker.libp2p.dial(n.host.multiaddrs()[0] as Multiaddr, {
          signal: AbortSignal.timeout(10_000)
        })
      const pubsub = attacker.libp2p.services.pubsub
      await waitFor(() => pubsub.getSubscribers(txTopic(ARTICLE)).length === 2, {
        timeoutMs: 10_000,
        what: 'attacker sees subscribers'
      })
      let gossipReplays = 0
      for (const m of recorded) {
        await pubsub.publish(m.topic, m.data)
        gossipReplays++
      }
      // a sentinel after the replays (RPCs of one peer are handled in order): once both nodes
      // validated it, every replay before it was handled
      const sentinel = new Uint8Array(randomBytes(64))
      await pubsub.publish(bidTopic(ARTICLE), sentinel)
      await waitFor(async () => (await validations()) >= validatedBefore + 2, {
        timeoutMs: 10_000,
        what: 'sentinel validated'
      })
      const validatedByGossip = (await validations()) - validatedBefore - 2

      // (2) Through each node's topic validators, as GossipSub runs them after its seen cache expired.
      const from = attacker.libp2p.peerId
      for (const n of nodes)
        for (const m of recorded) {
          const validator = n.host.libp2p.services.pubsub.topicValidators.get(m.topic)
          if (validator === undefined) throw new Error(`no validator on ${m.topic}`)
          for (let c = 0; c < copies; c++) {
            const r = await validator(from, { type: 'unsigned', topic: m.topic, data: m.data })
            if (r === TopicValidatorResult.Accept) accepted++
            else if (r === TopicValidatorResult.Reject) rejected++
          }
        }
      const adapterCodes = await validationCodes(nodes)
      for (const [code, n] of adapterCodes) codes.set(code, n)

      // (3) Straight into the book and the phase machine (the adapter's cache expired, or book sync).
      for (const n of nodes)
        for (const m of recorded)
          for (let c = 0; c < copies; c++) {
            const ctx: ValidationContext = {
              topic: m.topic,
              kind: m.kind,
              article: m.article,
              from: from.toString(),
              nowMs: Date.now()
            }
            const r =
              m.kind === 'bids'
                ? n.book.validateGossip(m.data, ctx)
                : await n.market.txs.validate(m.data, ctx)
            if (r.result === 'accept') accepted++
            else {
              if (r.result === 'reject') rejected++
              count(r.code)
            }
          }

      // Two epochs and the settle delay later: still nothing new.
      await new Promise((r) => setTimeout(r, 2 * PARAMS.epochMs + PARAMS.settleMs))
      for (const n of nodes) n.market.txs.retireDue(Date.now())
      const after = state()
      const unexpected = [...codes.keys()].filter((c) => !REPLAY_CODES.has(c))
      const stateUnchanged = before === after
      const passed =
        accepted === 0 &&
        rejected === 0 &&
        unexpected.length === 0 &&
        validatedByGossip === 0 &&
        stateUnchanged &&
        established === establishedBefore &&
        matches === matchesBefore &&
        recorded.filter((m) => m.kind === 'bids').length === 2 * txCount
      return {
        passed,
        ...(passed ? {} : { reason: 'see figures' }),
        transactions: txCount,
        recorded_bids: recorded.filter((m) => m.kind === 'bids').length,
        recorded_phase_messages: recorded.filter((m) => m.kind === 'tx').length,
        gossip_replays_sent: gossipReplays,
        gossip_replays_validated: validatedByGossip,
        validator_replays: 2 * nodes.length * recorded.length * copies,
        accepted,
        rejected,
        codes: Object.fromEntries([...codes].sort()),
        unexpected_codes: unexpected.join(',') || 'none',
        state_unchanged: stateUnchanged,
        new_transactions: established - establishedBefore,
        new_matches: matches - matchesBefore
      }
    } finally {
      await attacker?.stop()
      await Promise.all(nodes.map((n) => n.stop()))
    }
  }
}

/** Non-OK validation outcomes counted by the nodes' adapters (sentinel's BID_MALFORMED excluded). */
async function validationCodes(nodes: BitwrkNode[]): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const n of nodes)
    for (const v of (await n.metrics.validation.get()).values) {
      const code = String(v.labels.code)
      if (code === 'OK' || code === 'BID_MALFORMED') continue
      out.set(code, (out.get(code) ?? 0) + v.value)
    }
  return out
}
