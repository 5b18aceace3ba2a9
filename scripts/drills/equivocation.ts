import { randomBytes } from 'node:crypto'
import type { Multiaddr } from '@multiformats/multiaddr'
import { bidTopic, EVIDENCE_TOPIC, txTopic } from '../../node/gossip/index.js'
import { type BitwrkNode, createBitwrkNode } from '../../node/node.js'
import type { EquivocationEvent } from '../../node/reputation/index.js'
import { createMemoryController, openStore } from '../../node/store/index.js'
import { waitFor, waitForMesh } from '../../node/testing.js'
import { Identity } from '../../protocol/identity/index.js'
import { money } from '../../protocol/money/index.js'
import { encodeEquivocation, GOSSIP_APP_SCORE } from '../../protocol/reputation/index.js'
import {
  encodeTxMessage,
  signTxMessage,
  type Transaction,
  workSecretHash
} from '../../protocol/transaction/index.js'
import type { Drill } from '../drill.js'
import { msSince } from './support.js'

/** The drill's article. */
const ARTICLE = 'net.bitwrk/drill/equivocation'
/** An article only the bystander follows: it shares nothing with the others but the evidence topic. */
const OTHER_ARTICLE = 'net.bitwrk/drill/elsewhere'
/** Short epochs (as the market tests: 250 ms epochs, 1 s settle delay). */
const PARAMS = { epochMs: 250, settleMs: 1000 } as const
/** Every wait of the drill ends here, ms. */
const WAIT_MS = 15_000
/** GOSSIP-9 graylist threshold (node/gossip/score.ts): a blocked peer's score is below it. */
const GRAYLIST = -80

const hex32 = (): string => randomBytes(32).toString('hex')

async function startNode(articles: string[]): Promise<BitwrkNode> {
  const node = await createBitwrkNode({
    store: await openStore(createMemoryController()),
    identity: Identity.generate((n) => new Uint8Array(randomBytes(n))),
    articles,
    loopbackOnly: true,
    epochParams: PARAMS,
    gossip: { heartbeatIntervalMs: 100 },
    host: { dhtSelfQuery: false },
    reputation: { flushIntervalMs: 50 }
  })
  await node.start()
  return node
}

async function dial(a: BitwrkNode, b: BitwrkNode): Promise<void> {
  await a.host.libp2p.dial(b.host.multiaddrs()[0] as Multiaddr, { signal: AbortSignal.timeout(10_000) })
}

/**
 * `equivocation`: four honest nodes (a seller, two observers, and a bystander that follows
 * another article and is linked to one observer only) and a malicious buyer M. First M gossips
 * a forged proof that an honest observer equivocated (documents signed by M): every honest node
 * must reject it and change nothing. Then M's BUY matches the seller's SELL, both establish,
 * and M signs and gossips a second establish-buyer for the same transaction committing to other
 * work (REP-14). Passes when every honest node blocks M (the three that follow the article by
 * their own detection, the bystander through the gossiped proof, REP-24), M's app score is the
 * blocked value and its GossipSub score falls below the graylist on M's neighbours, and no
 * honest node holds a record of the participant the forged proof named.
 */
export const drill: Drill = {
  name: 'equivocation',
  async run() {
    const nodes: BitwrkNode[] = []
    try {
      const seller = await startNode([ARTICLE])
      const obs1 = await startNode([ARTICLE])
      const obs2 = await startNode([ARTICLE])
      const bystander = await startNode([OTHER_ARTICLE])
      const m = await startNode([ARTICLE])
      nodes.push(seller, obs1, obs2, bystander, m)
      const traders = [seller, obs1, obs2, m]
      const honest = [seller, obs1, obs2, bystander]
      for (let i = 0; i < traders.length; i++)
        for (let j = i + 1; j < traders.length; j++)
          await dial(traders[i] as BitwrkNode, traders[j] as BitwrkNode)
      const hosts = traders.map((n) => n.host)
      await waitForMesh(hosts, bidTopic(ARTICLE), WAIT_MS)
      await waitForMesh(hosts, txTopic(ARTICLE), WAIT_MS)
      // the bystander joins after the article meshes formed (it is in none of them)
      await dial(bystander, obs1)
      await waitForMesh([...hosts, bystander.host], EVIDENCE_TOPIC, WAIT_MS)
      const blocked = new Map<string, EquivocationEvent['origin']>()
      for (const n of honest)
        n.reputation.addEventListener('reputation:equivocation', (e) => {
          if (e.detail.participant === m.address) blocked.set(n.peerId, e.detail.origin)
        })

      // 1. A forged proof: two conflicting documents signed by M, claimed to be obs1's.
      const fakeTxid = hex32()
      const forged = encodeEquivocation({
        case: 'conflicting-messages',
        participant: obs1.address,
        a: signTxMessage(m.identity, fakeTxid, { kind: 'accept-result' }),
        b: signTxMessage(m.identity, fakeTxid, { kind: 'reject-result' })
      })
      const mPubsub = m.host.libp2p.services.pubsub
      await mPubsub.publish(EVIDENCE_TOPIC, forged)
      const mPeer = { kind: 'peer', id: m.peerId } as const
      const neighbours = [seller, obs1, obs2]
      await waitFor(
        () => neighbours.every((n) => (n.reputation.record(mPeer)?.counters.invalidGossip ?? 0) >= 1),
        { timeoutMs: WAIT_MS, what: 'the forged proof rejected by every neighbour of M' }
      )
      const forgedRejected = neighbours.length

      // 2. A real transaction of M (buyer) and the seller, established on every trader.
      const established = new Map<string, Transaction>()
      for (const n of traders)
        n.market.addEventListener('tx:established', (e) => established.set(n.peerId, e.detail.tx))
      const sell = await seller.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 1000n) })
      await waitFor(() => m.book.get(sell.id) !== undefined, { timeoutMs: WAIT_MS, what: 'the offer at M' })
      const work = { workHash: hex32(), buyerSecret: hex32() }
      await m.placeBid({ article: ARTICLE, side: 'BUY', price: money('BTC', 2000n), work })
      await waitFor(() => traders.every((n) => established.has(n.peerId)), {
        timeoutMs: WAIT_MS,
        what: 'the transaction established on every trader'
      })
      const tx = established.get(seller.peerId) as Transaction

      // 3. M signs a second establish-buyer for the same transaction: other work (REP-14).
      const otherWork = hex32()
      const second = signTxMessage(m.identity, tx.id, {
        kind: 'establish-buyer',
        workHash: otherWork,
        workSecretHash: workSecretHash(otherWork, hex32())
      })
      const t0 = performance.now()
      await mPubsub.publish(txTopic(ARTICLE), encodeTxMessage(second))
      await waitFor(
        () => honest.every((n) => n.reputation.assess({ kind: 'address', id: m.address }).blocked),
        {
          timeoutMs: WAIT_MS,
          what: 'M blocked on every honest node'
        }
      )
      const blockMs = msSince(t0)
      await waitFor(() => neighbours.every((n) => n.host.gossip.score(m.peerId) < GRAYLIST), {
        timeoutMs: WAIT_MS,
        what: 'M graylisted by its neighbours'
      })
      const appScores = neighbours.map((n) => n.reputation.appScore(m.peerId))
      const framed = honest.filter(
        (n) => n.reputation.record({ kind: 'address', id: obs1.address }) !== undefined
      )
      const detected = honest.filter((n) => blocked.get(n.peerId) === 'detected').length
      const viaGossip = honest.filter((n) => blocked.get(n.peerId) === 'gossip').length
      const passed =
        honest.every((n) => n.reputation.assess({ kind: 'address', id: m.address }).equivocated) &&
        blocked.get(bystander.peerId) === 'gossip' &&
        appScores.every((s) => s === GOSSIP_APP_SCORE.blocked) &&
        framed.length === 0 &&
        forgedRejected === neighbours.length
      return {
        passed,
        honest_nodes: honest.length,
        blocked_on: honest.filter((n) => n.reputation.assess({ kind: 'address', id: m.address }).blocked)
          .length,
        detected,
        via_gossip: viaGossip,
        forged_rejected: forgedRejected,
        framed_honest: framed.length,
        app_score: Math.max(...appScores),
        ms_to_block_all: Math.round(blockMs)
      }
    } finally {
      await Promise.all(nodes.map((n) => n.stop()))
    }
  }
}
