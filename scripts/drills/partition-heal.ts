import { randomBytes } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { bidTopic } from '../../node/gossip/index.js'
import { type BitwrkNode, createBitwrkNode } from '../../node/node.js'
import { createMemoryController, openStore } from '../../node/store/index.js'
import { waitFor, waitForMesh } from '../../node/testing.js'
import { Identity } from '../../protocol/identity/index.js'
import { money } from '../../protocol/money/index.js'
import type { Drill } from '../drill.js'
import { msSince } from './support.js'

/** The drill's article. */
const ARTICLE = 'net.bitwrk/drill/partition'
/** Short epochs (as the market tests: 250 ms epochs, 1 s settle delay). */
const PARAMS = { epochMs: 250, settleMs: 1000 } as const
/** Bid lifetime of the drill, ms (short, so two lifetimes fit in a drill). */
const LIFETIME_MS = 4000
/** Six nodes: a line 0-…-5 plus three cross links; halves {0,1,2} and {3,4,5}. */
const EDGES: [number, number][] = [
  [0, 1],
  [1, 2],
  [2, 3],
  [3, 4],
  [4, 5],
  [0, 3],
  [1, 4],
  [2, 5]
]
const half = (i: number): number => (i < 3 ? 0 : 1)

/**
 * `partition-heal`: six nodes; a SELL reaches all of them, then a connection gater splits them
 * into two halves (cross links hung up, re-dials refused). A buyer in each half bids for that
 * SELL: both halves match it, only the seller's half can establish. Each node places SELL bids
 * (unmatched) while split: each half's books agree, the halves differ. Then the gater heals, the cross links are
 * dialled again and every node places one more bid. Passes when all six books reach the same
 * non-empty digest holding every post-heal bid within two bid lifetimes of the heal, and the
 * contested SELL must be used by exactly one established transaction seen anywhere. (The node
 * does not run book sync, so the halves' split-era bids are not exchanged; they leave the
 * books by expiry within one lifetime.)
 */
export const drill: Drill = {
  name: 'partition-heal',
  async run() {
    let split = false
    const nodes: BitwrkNode[] = []
    try {
      const ids = Array.from({ length: 6 }, () => Identity.generate((n) => new Uint8Array(randomBytes(n))))
      const halfOf = new Map(ids.map((id, i) => [id.peerId, half(i)]))
      for (let i = 0; i < 6; i++) {
        const node = await createBitwrkNode({
          store: await openStore(createMemoryController()),
          identity: ids[i] as Identity,
          articles: [ARTICLE],
          loopbackOnly: true,
          epochParams: PARAMS,
          gossip: { heartbeatIntervalMs: 100 },
          host: {
            dhtSelfQuery: false,
            // the gater: while split, no connection across the halves
            denyPeer: (p) => split && halfOf.get(p) !== undefined && halfOf.get(p) !== half(i)
          }
        })
        nodes.push(node)
        await node.start()
      }
      const dial = async (edges: [number, number][]): Promise<void> => {
        for (const [a, b] of edges) {
          const addr = (nodes[b] as BitwrkNode).host.multiaddrs()[0]
          if (addr === undefined) throw new Error('no address')
          await (nodes[a] as BitwrkNode).host.libp2p.dial(addr, { signal: AbortSignal.timeout(10_000) })
        }
      }
      const topic = bidTopic(ARTICLE)
      const meshed = () =>
        waitFor(() => nodes.every((n) => n.host.gossip.meshPeers(topic).length > 0), {
          timeoutMs: 15_000,
          what: 'bid meshes'
        })
      await dial(EDGES)
      await meshed()
      // every established transaction seen anywhere, by sell bid
      const established = new Map<string, Set<string>>()
      for (const n of nodes)
        n.market.addEventListener('tx:established', (e) => {
          const t = e.detail.tx.terms
          const set = established.get(t.sellBidId) ?? new Set<string>()
          set.add(e.detail.tx.id)
          established.set(t.sellBidId, set)
        })
      // A SELL every node holds before the split: both halves will try to use it.
      const seller = nodes[0] as BitwrkNode
      const contested = await seller.placeBid({
        article: ARTICLE,
        side: 'SELL',
        price: money('BTC', 500n),
        lifetimeMs: LIFETIME_MS
      })
      await waitFor(() => nodes.every((n) => n.book.get(contested.id) !== undefined), {
        timeoutMs: 10_000,
        what: 'the contested SELL everywhere'
      })

      // Split.
      split = true
      const cross = EDGES.filter(([a, b]) => half(a) !== half(b))
      for (const [a, b] of cross)
        await (nodes[a] as BitwrkNode).host.libp2p.hangUp(peerIdFromString((nodes[b] as BitwrkNode).peerId))
      const crossConnections = () =>
        nodes.reduce(
          (n, node, i) =>
            n + node.host.libp2p.getPeers().filter((p) => halfOf.get(p.toString()) !== half(i)).length,
          0
        )
      await waitFor(() => crossConnections() === 0, { timeoutMs: 10_000, what: 'halves disconnected' })
      await meshed()
      // a buyer in each half bids for the contested SELL
      const work = () => ({
        workHash: randomBytes(32).toString('hex'),
        buyerSecret: randomBytes(32).toString('hex')
      })
      for (const b of [nodes[1], nodes[4]] as BitwrkNode[])
        await b.placeBid({
          article: ARTICLE,
          side: 'BUY',
          price: money('BTC', 600n),
          work: work(),
          lifetimeMs: LIFETIME_MS
        })
      // half 0 (the seller's) establishes; half 1 matches it too but cannot reach the seller
      await waitFor(
        () =>
          (established.get(contested.id)?.size ?? 0) > 0 &&
          (nodes[4] as BitwrkNode).market.txs.list().some((e) => e.tx.terms.sellBidId === contested.id),
        { timeoutMs: 10_000, what: 'the contested SELL matched in both halves' }
      )
      const matchedInBothHalves = true
      const place = (n: BitwrkNode, k: number, lifetimeMs = LIFETIME_MS) =>
        n.placeBid({
          article: ARTICLE,
          side: 'SELL',
          price: money('BTC', 1000n + BigInt(k)),
          lifetimeMs
        })
      let k = 0
      for (const n of nodes) for (let j = 0; j < 2; j++) await place(n, k++)
      const digests = () => nodes.map((n) => n.book.liveDigest(ARTICLE))
      const sizes = () => nodes.map((n) => n.book.liveBids(ARTICLE).length)
      // each half agrees on its own 6 bids
      await waitFor(
        () => {
          const d = digests()
          const s = sizes()
          return s.every((x) => x >= 6) && d[0] === d[1] && d[1] === d[2] && d[3] === d[4] && d[4] === d[5]
        },
        { timeoutMs: 10_000, what: 'each half to agree' }
      )
      const splitDigests = digests()
      const halvesDiffered = splitDigests[0] !== splitDigests[3]
      const crossDuringSplit = crossConnections()

      // Heal.
      split = false
      const healed = performance.now()
      await dial(cross)
      // every connected peer known as a subscriber, every mesh non-empty
      await waitForMesh(
        nodes.map((n) => n.host),
        topic,
        15_000
      )
      const after: string[] = []
      // post-heal bids outlive the check: convergence is about the split-era bids leaving
      for (const n of nodes) after.push((await place(n, k++, 3 * LIFETIME_MS)).id)
      let converged = false
      let missing: number[] = []
      try {
        await waitFor(
          () => {
            const d = digests()
            return (
              d.every((x) => x === d[0]) &&
              nodes.every((n) => after.every((id) => n.book.get(id) !== undefined))
            )
          },
          { timeoutMs: 2 * LIFETIME_MS, intervalMs: 20, what: 'books to converge' }
        )
        converged = true
      } catch {
        // reported below as passed:false, with what each node held
        missing = nodes.map((n) => after.filter((id) => n.book.get(id) === undefined).length)
      }
      const convergeMs = msSince(healed)
      // the seller's republished/late messages had the heal to meet the other half's tx
      const usedInTxs = established.get(contested.id)?.size ?? 0
      const passed =
        halvesDiffered && crossDuringSplit === 0 && converged && matchedInBothHalves && usedInTxs === 1
      return {
        passed,
        ...(passed
          ? {}
          : {
              reason: !converged
                ? 'books did not converge'
                : usedInTxs !== 1
                  ? 'a bid used in two transactions'
                  : 'the split did not separate the books'
            }),
        nodes: nodes.length,
        bid_lifetime_ms: LIFETIME_MS,
        halves_differed: halvesDiffered,
        cross_connections_while_split: crossDuringSplit,
        bids_while_split: 14,
        contested_bid_matched_in_both_halves: matchedInBothHalves,
        contested_bid_established_txs: usedInTxs,
        bids_after_heal: after.length,
        converged,
        converge_ms: Math.round(convergeMs),
        converge_limit_ms: 2 * LIFETIME_MS,
        final_live_bids: sizes()[0],
        ...(converged ? {} : { post_heal_bids_missing_per_node: missing.join(',') })
      }
    } finally {
      await Promise.all(nodes.map((n) => n.stop()))
    }
  }
}
