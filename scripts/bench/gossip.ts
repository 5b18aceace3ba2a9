import { randomBytes } from 'node:crypto'
import { bidTopic, bidTopicValidator, messageIdHex } from '../../node/index.js'
import { createTestnet, testBid, waitFor, waitForMesh } from '../../node/testing.js'
import { Identity, nativeSecp256k1Available } from '../../protocol/identity/index.js'
import type { Bench } from '../bench.js'

/** Nodes in the benchmark network (issue 4: 20 nodes, degree ~4, one process). */
const NODES = 20
const DEGREE = 4
/** Bids published, and the gap between two publications, ms. */
const BIDS = 200
const GAP_MS = 20
/** Distinct bidders signing the bids. */
const BIDDERS = 16

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)
  return sorted[Math.max(0, i)] as number
}

function round(x: number): number {
  return Math.round(x * 100) / 100
}

/**
 * Gossip propagation: real signed bids (~420 bytes on the wire) over 20 hosts in one process
 * (random connected graph, average degree ~4, the real host: StrictNoSign, SHA-256 ids,
 * bitwrk score params), every node validating with `protocol/bid`'s validateBidTopicMessage,
 * the book's bid-topic validator (native secp256k1 recovery). Latency is from `publish`
 * to the `gossip:message` event at each other node. Targets: p99 <= 100 ms, and
 * `cpu_ms_per_delivery` (process CPU / delivered copies) <= 0.6 ms (issue 14: default GossipSub
 * with a native secp256k1 check costs 1.24 ms). Each bid reaches a node about 3.2 times (every
 * node forwards to its mesh but the sender; the mesh is GossipSub's D 6, so here a node's mesh
 * is all its neighbours). A copy costs about 0.08 ms: one Noise frame and one write per RPC
 * since Yamux window updates are batched and Noise frames are written whole
 * (`node/host/mux-guard.ts`, `node/host/noise.ts`). The rest, about 0.7 ms per delivery, does not
 * depend on the copies (validation with its secp256k1 recovery, GossipSub bookkeeping, timers):
 * smaller meshes (D 3 or 4) cut the copies by up to 45% but the CPU by about a tenth, so the
 * target is not met (GOSSIP-15 has the measurements: 0.76 ms on a loaded 2-core machine).
 */
export const bench: Bench = {
  name: 'gossip',
  async run({ quick }) {
    const bids = quick ? 50 : BIDS
    let seed = 42
    const random = (): number => {
      // deterministic topology across runs (LCG, glibc constants)
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    const net = await createTestnet({
      nodes: NODES,
      topology: 'random',
      degree: DEGREE,
      random,
      host: { validators: { bids: bidTopicValidator() } }
    })
    try {
      const article = 'net.bitwrk/gorays/0'
      const topic = bidTopic(article)
      const sentAt = new Map<string, number>()
      const latencies: number[] = []
      for (const h of net.hosts) {
        h.gossip.addEventListener('gossip:message', (e) => {
          const t0 = sentAt.get(e.detail.msgId)
          if (t0 !== undefined) latencies.push(performance.now() - t0)
        })
        h.gossip.subscribe(topic)
      }
      await waitForMesh(net.hosts, topic, 30_000)
      // sign everything up front: the publishers' signing cost is not part of propagation
      const bidders = Array.from({ length: BIDDERS }, () =>
        Identity.generate((n) => new Uint8Array(randomBytes(n)))
      )
      const msgs = Array.from(
        { length: bids },
        (_, i) =>
          testBid(article, { identity: bidders[i % BIDDERS] as Identity, price: `uBTC ${100 + i}` }).bytes
      )
      const sizes = msgs.map((m) => m.byteLength)
      const cpu0 = process.cpuUsage()
      const start = performance.now()
      for (let i = 0; i < bids; i++) {
        const due = start + i * GAP_MS
        const wait = due - performance.now()
        if (wait > 0) await new Promise((r) => setTimeout(r, wait))
        const msg = msgs[i] as Uint8Array
        const host = net.hosts[i % NODES]
        if (host === undefined) continue
        sentAt.set(messageIdHex(msg), performance.now())
        await host.gossip.publish(topic, msg, { timeoutMs: 5000 })
      }
      const expected = bids * (NODES - 1)
      await waitFor(() => latencies.length >= expected, { timeoutMs: 30_000, what: 'deliveries' }).catch(
        () => {}
      )
      const cpu = process.cpuUsage(cpu0)
      const wallMs = performance.now() - start
      latencies.sort((a, b) => a - b)
      const degree = net.hosts.reduce((s, h) => s + h.libp2p.getPeers().length, 0) / NODES
      return {
        nodes: NODES,
        bids,
        native_secp256k1: nativeSecp256k1Available(),
        bid_bytes: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length),
        avg_degree: round(degree),
        delivered: round(latencies.length / expected),
        p50_ms: round(percentile(latencies, 50)),
        p95_ms: round(percentile(latencies, 95)),
        p99_ms: round(percentile(latencies, 99)),
        max_ms: round(latencies.at(-1) ?? Number.NaN),
        // process CPU per delivered copy, and CPU / wall: near or above 1 means one thread
        // (plus libuv and GC threads) was saturated and latencies include queueing
        cpu_ms_per_delivery: round((cpu.user + cpu.system) / 1000 / Math.max(1, latencies.length)),
        cpu_per_wall: round((cpu.user + cpu.system) / 1000 / wallMs)
      }
    } finally {
      await net.stop()
    }
  }
}
