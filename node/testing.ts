import { randomBytes } from 'node:crypto'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { type Bid, type BidType, encodeSigned, randomBidNonce, signBid } from '../protocol/bid/index.js'
import { Identity } from '../protocol/identity/index.js'
import { parseMoney } from '../protocol/money/index.js'
import { type BitwrkHost, createHost, type HostOptions } from './host/host.js'

/**
 * Test and benchmark support, the package's `bitwrk-node/testing` entry (Holepunch habit: the
 * library ships its own testnet helpers): signed bids, loopback testnets of real hosts in one
 * process, predicate waits, and the one place that exports the test doubles (in-memory stores,
 * transaction channels and sync books, the API's test facade, an adjustable trade clock).
 */

export { createTestFacade, type TestFacade, type TestFacadeOptions } from './api/testing.js'
export { createMemoryBacking, createMemoryController, type MemoryBacking } from './store/db.js'
export { MemorySyncBook } from './sync/book.js'
export { MemorySyncSnapshots } from './sync/memory-snapshots.js'
export { TestClock } from './trade/clock.js'
export { MemoryTxChannel, MemoryTxNetwork } from './trade/memory-channel.js'

/** A fresh random secp256k1 private key (32 bytes). */
export function randomPrivateKey(): Uint8Array {
  return Identity.generate((n) => new Uint8Array(randomBytes(n))).privateKey
}

/** Options of {@link testBid}. */
export interface TestBidOptions {
  /** Who signs; default a fresh identity. */
  identity?: Identity
  /** Creation time, ms; default now. */
  createdMs?: number
  /** Lifetime, ms; default 60 s (BID_MAX_LIFETIME_MS is 120 s). */
  lifetimeMs?: number
  /** BUY or SELL; default BUY. */
  type?: BidType
  /** Price; default mBTC 1. */
  price?: string
}

/** A signed bid on `article` (random nonce), as decoded `bid` and wire `bytes`. */
export function testBid(article: string, opts: TestBidOptions = {}): { bid: Bid; bytes: Uint8Array } {
  const identity = opts.identity ?? Identity.generate((n) => new Uint8Array(randomBytes(n)))
  const createdMs = opts.createdMs ?? Date.now()
  const bid = signBid(identity, {
    article,
    type: opts.type ?? 'BUY',
    price: parseMoney(opts.price ?? 'mBTC 1'),
    nonce: randomBidNonce((n) => new Uint8Array(randomBytes(n))),
    createdMs,
    expiresMs: createdMs + (opts.lifetimeMs ?? 60_000)
  })
  return { bid, bytes: encodeSigned(bid) }
}

/**
 * The wire bytes of `bid`'s document with a signature by someone else: well formed, but the
 * signature does not recover the bid's peer key (BID_BAD_SIGNATURE, a reject).
 */
export function forgedBid(bid: Bid): Uint8Array {
  const other = Identity.generate((n) => new Uint8Array(randomBytes(n)))
  return encodeSigned({ document: bid.document, signature: other.sign(bid.document) })
}

/**
 * Waits until `predicate` holds, checking every `intervalMs` (default 10; 0 checks on every turn
 * of the event loop, so that a short-lived state is not missed); throws after `timeoutMs`.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; what?: string }
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs
  const intervalMs = opts.intervalMs ?? 10
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}`)
    await new Promise((r) => (intervalMs === 0 ? setImmediate(r) : setTimeout(r, intervalMs)))
  }
}

/**
 * Waits until every host knows every connected peer as a subscriber of `topic` and has a
 * non-empty mesh for it. GossipSub forwards only along the mesh; a message published while
 * meshes are still forming can miss a late subscriber (the bid sync repairs that in a real
 * network, tests and benchmarks wait instead).
 */
export async function waitForMesh(hosts: BitwrkHost[], topic: string, timeoutMs: number): Promise<void> {
  await waitFor(
    () =>
      hosts.every((h) => {
        const subs = new Set(h.libp2p.services.pubsub.getSubscribers(topic).map(String))
        const peers = h.libp2p.getPeers()
        return (
          peers.length > 0 &&
          peers.every((p) => subs.has(p.toString())) &&
          h.gossip.meshPeers(topic).length > 0
        )
      }),
    { timeoutMs, what: 'gossip meshes' }
  )
}

/** Options of {@link createTestnet}. */
export interface TestnetOptions {
  /** Number of nodes. */
  nodes: number
  /**
   * `line` (0-1-2-…), `star` (everyone dials node 0) or `random` (a random spanning tree
   * plus random edges up to `degree`).
   */
  topology: Topology
  /** Target average degree of the random topology; default 4. */
  degree?: number
  /** Deterministic randomness for the topology, returns [0, 1). Default Math.random. */
  random?: () => number
  /**
   * Default true: keep exactly the planned edges (each host's gater refuses every other
   * peer; otherwise Kad-DHT connects a small testnet completely within a second).
   */
  fixedTopology?: boolean
  /** Options applied to every host (keys are generated). */
  host?: Omit<HostOptions, 'privateKey'>
}

/** A set of hosts connected in one process on 127.0.0.1. */
export interface Testnet {
  /** The hosts, index = node number. */
  readonly hosts: BitwrkHost[]
  /** Undirected edges that were dialled. */
  readonly edges: [number, number][]
  /** Stops every host. */
  stop(): Promise<void>
}

/**
 * Starts `nodes` loopback-only hosts on port 0 and connects them. Tests call `stop()` in
 * `after`/`afterEach`.
 */
export async function createTestnet(opts: TestnetOptions): Promise<Testnet> {
  const rnd = opts.random ?? Math.random
  const hosts: BitwrkHost[] = []
  const stopAll = async (): Promise<void> => {
    await Promise.all(hosts.map((h) => h.stop()))
  }
  try {
    const keys = Array.from({ length: opts.nodes }, () => randomPrivateKey())
    const ids = keys.map((k) => peerIdFromPrivateKey(privateKeyFromRaw(k)).toString())
    const edges = topologyEdges(opts.nodes, opts.topology, opts.degree ?? 4, rnd)
    const neighbours = ids.map(() => new Set<string>())
    for (const [a, b] of edges) {
      neighbours[a]?.add(ids[b] as string)
      neighbours[b]?.add(ids[a] as string)
    }
    for (let i = 0; i < opts.nodes; i++) {
      const allowed = neighbours[i] as Set<string>
      hosts.push(
        await createHost({
          loopbackOnly: true,
          ...(opts.fixedTopology === false ? {} : { denyPeer: (p: string) => !allowed.has(p) }),
          ...opts.host,
          privateKey: keys[i] as Uint8Array
        })
      )
    }
    // a few dials at a time: dozens of simultaneous Noise handshakes on one busy thread can
    // exceed libp2p's upgrade timeout
    for (let i = 0; i < edges.length; i += DIAL_BATCH)
      await Promise.all(
        edges.slice(i, i + DIAL_BATCH).map(([a, b]) => {
          const addr = (hosts[b] as BitwrkHost).multiaddrs()[0]
          if (addr === undefined) throw new Error('host has no address')
          return (hosts[a] as BitwrkHost).libp2p.dial(addr, { signal: AbortSignal.timeout(10_000) })
        })
      )
    return { hosts, edges, stop: stopAll }
  } catch (err) {
    await stopAll()
    throw err
  }
}

/** Dials in flight at once while a testnet connects. */
const DIAL_BATCH = 4

/** Shapes of {@link createTestnet}. */
export type Topology = 'line' | 'star' | 'random'

/** Edges of a line, a star, or a random connected graph with about `degree` average degree. */
export function topologyEdges(
  n: number,
  topology: Topology,
  degree: number,
  rnd: () => number
): [number, number][] {
  const edges: [number, number][] = []
  const has = new Set<string>()
  const add = (a: number, b: number): boolean => {
    const key = a < b ? `${a}-${b}` : `${b}-${a}`
    if (a === b || has.has(key)) return false
    has.add(key)
    edges.push([a, b])
    return true
  }
  for (let i = 1; i < n; i++)
    add(i, topology === 'line' ? i - 1 : topology === 'star' ? 0 : Math.floor(rnd() * i))
  if (topology === 'random') {
    const target = Math.min(Math.floor((n * degree) / 2), (n * (n - 1)) / 2)
    while (edges.length < target) add(Math.floor(rnd() * n), Math.floor(rnd() * n))
  }
  return edges
}

/**
 * A raw Yamux frame header (the Yamux spec: version 0, type, flags, stream id, length), for
 * tests and drills that speak below the muxer.
 */
export function yamuxFrameHeader(type: number, flags: number, streamId: number, length: number): Uint8Array {
  const b = Buffer.alloc(12)
  b[1] = type
  b.writeUInt16BE(flags, 2)
  b.writeUInt32BE(streamId, 4)
  b.writeUInt32BE(length, 8)
  return b
}
