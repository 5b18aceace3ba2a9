import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { type GossipSub, gossipsub, TopicValidatorResult } from '@libp2p/gossipsub'
import { identify } from '@libp2p/identify'
import type { Libp2p } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { createLibp2p } from 'libp2p'
import { bidTopic, bidTopicValidator } from '../../node/index.js'
import { createTestnet, testBid, topologyEdges, waitFor, waitForMesh } from '../../node/testing.js'
import { splitSigned } from '../../protocol/bid/wire.js'
import {
  decodeCompactSignature,
  Identity,
  messageDigest,
  nativeSecp256k1Available,
  recoverPublicKey
} from '../../protocol/identity/index.js'
import type { Bench } from '../bench.js'

/** Nodes in the benchmark network (issue 4: 20 nodes, degree ~4, one process). */
const NODES = 20
const DEGREE = 4
/** Bids published, and the gap between two publications, ms. */
const BIDS = 200
const GAP_MS = 20
/** Distinct bidders signing the bids. */
const BIDDERS = 16
/** Windows each network publishes in, taking turns (ABBA …). */
const WINDOWS = 8
/** Longest wait for a window's last copies, ms: a lost copy shows in `delivered`, not in the run time. */
const WINDOW_DEADLINE_MS = 10_000

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
 * to the `gossip:message` event at each other node; `cpu_ms_per_delivery` is process CPU over
 * delivered copies. Self-calibrating (issue 14): a baseline network of *default* GossipSub
 * (libp2p's and GossipSub's defaults: StrictSign, author+seqno ids, Ed25519 identities, no
 * metrics or score parameters; `defaultGossipSubNetwork`) with a topic validator that only
 * checks the bid's signature (native secp256k1 recovery) runs on the same topology at the
 * same time, and the two take turns publishing windows of 25 bids (ABBA ...), so both see the
 * same load; `cpu_ratio_to_baseline` is their CPU per delivery. Targets: p99 <= 100 ms,
 * `cpu_ms_per_delivery` <= 0.6 ms and `cpu_ratio_to_baseline` <= 0.48 (issue 14: 0.6 of the
 * 1.24 ms measured for the baseline). Each window's CPU includes the other network's idle
 * timers (about 0.03 ms per delivery). Under saturation (`cpu_per_wall` near 1, p50 in the
 * hundreds of ms) the figures swing by a fifth from run to run: compare runs with
 * `cpu_per_wall` well below 1.
 *
 * Each bid reaches a node about 3.2 times (every node forwards to its mesh but the sender; the
 * mesh is GossipSub's D 6, so here a node's mesh is all its neighbours). A copy costs about
 * 0.08 ms: one Noise frame and one write per RPC since Yamux window updates are batched and
 * Noise frames are written whole (`node/host/mux-guard.ts`, `node/host/noise.ts`). The rest does
 * not depend on the copies (validation with its secp256k1 recovery, GossipSub bookkeeping,
 * timers): smaller meshes cut the copies but hardly the CPU (GOSSIP-15). Round 3 took the
 * metrics off the per-copy path and made bid decoding cheaper (GOSSIP-16): about 5 % less CPU
 * per delivery (2-9 % over runs), measured with both variants in one process taking turns. The
 * ratio to the baseline is 0.58-0.74 on this shared 2-core machine (the code before: 0.61-0.62
 * in the same hour), so neither target is met yet.
 */
export const bench: Bench = {
  name: 'gossip',
  async run({ quick }) {
    const bids = quick ? 50 : BIDS
    const bidders = Array.from({ length: BIDDERS }, () =>
      Identity.generate((n) => new Uint8Array(randomBytes(n)))
    )
    // sign everything up front: the publishers' signing cost is not part of propagation; each
    // network gets its own bids (GossipSub refuses to publish the same bytes twice anyway)
    const signed = (round: number): Uint8Array[] =>
      Array.from(
        { length: bids },
        (_, i) =>
          testBid(ARTICLE, {
            identity: bidders[i % BIDDERS] as Identity,
            price: `uBTC ${100 + round * bids + i}`
          }).bytes
      )
    // both networks run at once and take turns, a window of bids each (ABBA), so that both
    // see the same load on a shared machine and the ratio compares like with like
    const ours = track(await bitwrkNetwork())
    let base: Tracked | undefined
    let a: Measured
    let z: Measured
    try {
      base = track(await defaultGossipSubNetwork(bidders))
      const msgs = [signed(0), signed(1)]
      const per = Math.ceil(bids / WINDOWS)
      for (let w = 0; w < WINDOWS; w++)
        for (const which of w % 2 === 0 ? [0, 1] : [1, 0])
          await publishWindow(
            which === 0 ? ours : base,
            (msgs[which] as Uint8Array[]).slice(w * per, (w + 1) * per)
          )
      a = summary(ours, bids)
      z = summary(base, bids)
    } finally {
      await Promise.all([ours.net.stop(), base?.net.stop()])
    }
    const sizes = signed(2).map((m) => m.byteLength)
    return {
      nodes: NODES,
      bids,
      native_secp256k1: nativeSecp256k1Available(),
      bid_bytes: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length),
      avg_degree: a.avgDegree,
      delivered: a.delivered,
      p50_ms: a.p50,
      p95_ms: a.p95,
      p99_ms: a.p99,
      max_ms: a.max,
      // process CPU per delivered copy, and CPU / wall: near or above 1 means one thread
      // (plus libuv and GC threads) was saturated and latencies include queueing
      cpu_ms_per_delivery: a.cpuPerDelivery,
      cpu_per_wall: a.cpuPerWall,
      baseline_delivered: z.delivered,
      baseline_p50_ms: z.p50,
      baseline_p99_ms: z.p99,
      baseline_cpu_ms_per_delivery: z.cpuPerDelivery,
      // target <= 0.48 (0.6 / 1.24, issue 14)
      cpu_ratio_to_baseline: round(a.cpuMs / Math.max(1, a.count) / (z.cpuMs / Math.max(1, z.count)))
    }
  }
}

/** The article of the bench's bid topic. */
const ARTICLE = 'net.bitwrk/gorays/0'

/** A connected network under test: publish on node `i`, hear every delivery, stop. */
interface BenchNetwork {
  /** Publishes `msg` from node `i % NODES`. */
  publish(i: number, msg: Uint8Array): Promise<void>
  /** Registers the listener called with the bytes of every message delivered at any node. */
  onDelivery(fn: (data: Uint8Array) => void): void
  /** Average number of connected peers. */
  avgDegree(): number
  /** Stops every node. */
  stop(): Promise<void>
}

/** A network with what its windows measured so far. */
interface Tracked {
  readonly net: BenchNetwork
  /** Publication time by message key ({@link tail}). */
  readonly sentAt: Map<string, number>
  /** Publication-to-delivery latencies of every delivered copy, ms. */
  readonly latencies: number[]
  /** Process CPU and wall time of the windows, ms. */
  cpuMs: number
  wallMs: number
}

/** What one network's windows gave. */
interface Measured {
  count: number
  cpuMs: number
  avgDegree: number
  delivered: number
  p50: number
  p95: number
  p99: number
  max: number
  cpuPerDelivery: number
  cpuPerWall: number
}

/** Deterministic topology across runs and networks (LCG, glibc constants). */
function topologyRandom(): () => number {
  let seed = 42
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed / 2 ** 31
  }
}

/** Peers in a GossipSub mesh (`getMeshPeers` is not in GossipSub's declared interface). */
function meshSize(pubsub: GossipSub, topic: string): number {
  return (pubsub as unknown as { getMeshPeers(topic: string): string[] }).getMeshPeers(topic).length
}

/** A key for a message's bytes that costs no hash: the end of its signature (unique per bid). */
function tail(data: Uint8Array): string {
  let key = ''
  for (let i = Math.max(0, data.byteLength - 24); i < data.byteLength; i++)
    key += String.fromCharCode(data[i] as number)
  return key
}

/** Starts recording the deliveries of `net`. */
function track(net: BenchNetwork): Tracked {
  const t: Tracked = { net, sentAt: new Map(), latencies: [], cpuMs: 0, wallMs: 0 }
  net.onDelivery((data) => {
    const t0 = t.sentAt.get(tail(data))
    if (t0 !== undefined) t.latencies.push(performance.now() - t0)
  })
  return t
}

/** Publishes `msgs` one every GAP_MS over `t`'s nodes, round robin, until every copy arrived. */
async function publishWindow(t: Tracked, msgs: Uint8Array[]): Promise<void> {
  const before = t.latencies.length
  const cpu0 = process.cpuUsage()
  const start = performance.now()
  for (let i = 0; i < msgs.length; i++) {
    const wait = start + i * GAP_MS - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    const msg = msgs[i] as Uint8Array
    t.sentAt.set(tail(msg), performance.now())
    await t.net.publish(t.sentAt.size - 1, msg)
  }
  const expected = before + msgs.length * (NODES - 1)
  await waitFor(() => t.latencies.length >= expected, {
    timeoutMs: WINDOW_DEADLINE_MS,
    what: 'deliveries'
  }).catch(() => {})
  const cpu = process.cpuUsage(cpu0)
  t.cpuMs += (cpu.user + cpu.system) / 1000
  t.wallMs += performance.now() - start
}

/** The figures of `t` after all its windows (`bids` published). */
function summary(t: Tracked, bids: number): Measured {
  const latencies = [...t.latencies].sort((a, b) => a - b)
  const expected = bids * (NODES - 1)
  return {
    count: latencies.length,
    cpuMs: t.cpuMs,
    avgDegree: round(t.net.avgDegree()),
    delivered: round(latencies.length / expected),
    p50: round(percentile(latencies, 50)),
    p95: round(percentile(latencies, 95)),
    p99: round(percentile(latencies, 99)),
    max: round(latencies.at(-1) ?? Number.NaN),
    cpuPerDelivery: round(t.cpuMs / Math.max(1, latencies.length)),
    cpuPerWall: round(t.cpuMs / t.wallMs)
  }
}

/** The bitwrk host (`createHost`): StrictNoSign, SHA-256 ids, scoring, the bid validator. */
async function bitwrkNetwork(): Promise<BenchNetwork> {
  const net = await createTestnet({
    nodes: NODES,
    topology: 'random',
    degree: DEGREE,
    random: topologyRandom(),
    host: { validators: { bids: bidTopicValidator() } }
  })
  const topic = bidTopic(ARTICLE)
  for (const h of net.hosts) h.gossip.subscribe(topic)
  await waitForMesh(net.hosts, topic, 30_000)
  return {
    publish: async (i, msg) => {
      await net.hosts[i % NODES]?.gossip.publish(topic, msg, { timeoutMs: 5000 })
    },
    onDelivery: (fn) => {
      for (const h of net.hosts) h.gossip.addEventListener('gossip:message', (e) => fn(e.detail.data))
    },
    avgDegree: () => net.hosts.reduce((s, h) => s + h.libp2p.getPeers().length, 0) / NODES,
    stop: net.stop
  }
}

/**
 * The baseline: libp2p with its defaults (TCP, Noise, Yamux, identify, ping, a generated
 * Ed25519 identity) and GossipSub with its defaults (StrictSign: every message signed by its
 * publisher and checked by every receiver; message id = author + sequence number), on the same
 * topology, with a topic validator that only checks the bid's signature (native secp256k1
 * recovery, the key one of the bidders'). No metrics, no score parameters, no limits.
 */
async function defaultGossipSubNetwork(bidders: readonly Identity[]): Promise<BenchNetwork> {
  const keys = await Promise.all(Array.from({ length: NODES }, () => generateKeyPair('Ed25519')))
  const ids = keys.map((k) => peerIdFromPrivateKey(k).toString())
  const neighbours = ids.map(() => new Set<string>())
  const edges = topologyEdges(NODES, 'random', DEGREE, topologyRandom())
  for (const [a, b] of edges) {
    neighbours[a]?.add(ids[b] as string)
    neighbours[b]?.add(ids[a] as string)
  }
  const known = new Set(bidders.map((b) => Buffer.from(b.publicKey).toString('hex')))
  const topic = bidTopic(ARTICLE)
  const nodes: Libp2p<{ pubsub: GossipSub }>[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()))
  }
  try {
    for (let i = 0; i < NODES; i++) {
      const allowed = neighbours[i] as Set<string>
      const deny = (p: { toString(): string }): boolean => !allowed.has(p.toString())
      const node = await createLibp2p({
        privateKey: keys[i],
        addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        // the fixed topology, and room for the harness's dials from one address (not tuning)
        connectionGater: { denyDialPeer: deny, denyInboundEncryptedConnection: deny },
        connectionManager: { inboundConnectionThreshold: 1000 },
        // a late ping on a loaded machine must not drop a link of the topology (as the host)
        connectionMonitor: { abortConnectionOnPingFailure: false },
        services: { identify: identify(), ping: ping(), pubsub: gossipsub() }
      })
      nodes.push(node)
      node.services.pubsub.topicValidators.set(topic, (_from, msg) => {
        const parts = splitSigned(msg.data, 1024)
        if (typeof parts === 'string') return TopicValidatorResult.Reject
        const sig = decodeCompactSignature(parts.signature)
        const key =
          sig === undefined
            ? undefined
            : recoverPublicKey(sig.rs, sig.recid, messageDigest(parts.docBytes), true)
        return key !== undefined && known.has(Buffer.from(key).toString('hex'))
          ? TopicValidatorResult.Accept
          : TopicValidatorResult.Reject
      })
      node.services.pubsub.subscribe(topic)
    }
    for (const [a, b] of edges) {
      const addr = (nodes[b] as Libp2p).getMultiaddrs()[0]
      if (addr === undefined) throw new Error('node has no address')
      await (nodes[a] as Libp2p).dial(addr, { signal: AbortSignal.timeout(10_000) })
    }
    await waitFor(
      () =>
        nodes.every((n) => {
          const subs = new Set(n.services.pubsub.getSubscribers(topic).map(String))
          const peers = n.getPeers()
          return (
            peers.length > 0 &&
            peers.every((p) => subs.has(p.toString())) &&
            meshSize(n.services.pubsub, topic) > 0
          )
        }),
      { timeoutMs: 30_000, what: 'baseline gossip meshes' }
    )
  } catch (err) {
    await stop()
    throw err
  }
  return {
    publish: async (i, msg) => {
      // a node that lost its mesh for a moment drops this bid; `baseline_delivered` shows it
      await nodes[i % NODES]?.services.pubsub.publish(topic, msg).catch(() => {})
    },
    onDelivery: (fn) => {
      for (const n of nodes)
        n.services.pubsub.addEventListener('message', (e) => {
          if (e.detail.topic === topic) fn(e.detail.data)
        })
    },
    avgDegree: () => nodes.reduce((s, n) => s + n.getPeers().length, 0) / NODES,
    stop
  }
}
