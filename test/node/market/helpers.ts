import { randomBytes } from 'node:crypto'
import type { Counter } from 'prom-client'
import {
  type BitwrkNode,
  type BitwrkNodeOptions,
  bidTopic,
  createBitwrkNode,
  openStore,
  txTopic
} from '../../../node/index.js'
import type { BuyerWork } from '../../../node/market/market.js'
import { createMemoryController, waitForMesh } from '../../../node/testing.js'
import { Identity } from '../../../protocol/identity/index.js'

/** The article every market test trades. */
export const ARTICLE = 'net.bitwrk/gorays/0'

/**
 * Shortened epoch parameters: 250 ms epochs and a 1 s settle delay. Five nodes in one process
 * deliver a bid in ~15 ms (median), but on a shared 2-core machine under load the slowest of
 * 800 deliveries took up to 330 ms (measured): the settle delay must exceed that (invariant 4).
 */
export const PARAMS = { epochMs: 250, settleMs: 1000 } as const

/** Random bytes as a plain Uint8Array. */
export function random(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n))
}

/** A fresh identity. */
export function newIdentity(): Identity {
  return Identity.generate(random)
}

/** A random work commitment for a BUY. */
export function newWork(): BuyerWork {
  return { workHash: randomBytes(32).toString('hex'), buyerSecret: randomBytes(32).toString('hex') }
}

/** Options every test node shares: loopback, short heartbeat, short epochs, the article. */
export function baseOptions(): Partial<BitwrkNodeOptions> {
  return {
    loopbackOnly: true,
    articles: [ARTICLE],
    epochParams: PARAMS,
    // 100 ms instead of 1 s: meshes form 10x faster in tests
    gossip: { heartbeatIntervalMs: 100 },
    host: { dhtSelfQuery: false }
  }
}

/** Creates and starts a node over an in-memory store. */
export async function memoryNode(opts: Partial<BitwrkNodeOptions> = {}): Promise<BitwrkNode> {
  const store = await openStore(createMemoryController())
  const node = await createBitwrkNode({ ...baseOptions(), store, identity: newIdentity(), ...opts })
  await node.start()
  return node
}

/** Dials the given edges (indexes into `nodes`). */
export async function connect(nodes: BitwrkNode[], edges: [number, number][]): Promise<void> {
  await Promise.all(
    edges.map(([a, b]) => {
      const addr = (nodes[b] as BitwrkNode).host.multiaddrs()[0]
      if (addr === undefined) throw new Error('no address')
      return (nodes[a] as BitwrkNode).host.libp2p.dial(addr, { signal: AbortSignal.timeout(10_000) })
    })
  )
}

/** Waits until the bid and transaction meshes of `article` have formed on every node. */
export async function waitMeshes(nodes: BitwrkNode[], article = ARTICLE): Promise<void> {
  const hosts = nodes.map((n) => n.host)
  await waitForMesh(hosts, bidTopic(article), 10_000)
  await waitForMesh(hosts, txTopic(article), 10_000)
}

/** Sum of a counter over the series whose labels include `labels`. */
export async function count<T extends string>(
  c: Counter<T>,
  labels: Partial<Record<T, string>>
): Promise<number> {
  let sum = 0
  for (const v of (await c.get()).values) {
    const l = v.labels as Record<string, string | number | undefined>
    if (Object.entries(labels).every(([k, want]) => l[k] === want)) sum += v.value
  }
  return sum
}

/** Resolves after `ms` (only for pacing bid placement, never as a wait for a condition). */
export function pace(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
