/**
 * JSON views of a running node for the daemon's local API and the `status` / `peers` commands:
 * identity, connected peers, and a status summary (book, epochs, transactions, services).
 */
import type { BitwrkNode } from '../node.js'

/** The node's identity as `/api/v1/identity` shows it. */
export interface DaemonIdentityView {
  readonly address: string
  readonly peerId: string
  readonly addrs: readonly string[]
  readonly version: string
}

/** A connected peer as `/api/v1/peers` shows it. */
export interface DaemonPeerView {
  readonly peerId: string
  readonly addrs: readonly string[]
  readonly connected: boolean
}

/** Per-article figures of `/api/v1/status`. */
export interface ArticleStatus {
  readonly article: string
  /** Live bids held. */
  readonly liveBids: number
  /** MARKET-6 digest of the live set: equal digests mean equal books. */
  readonly liveDigest: string
  /** Last matched epoch and chained match digest per match key (MATCH-13). */
  readonly epochs: Readonly<Record<string, { epoch: number; digest: string }>>
}

/** The summary of `/api/v1/status`. */
export interface DaemonStatus {
  readonly peerId: string
  readonly address: string
  readonly version: string
  readonly pid: number
  readonly uptimeMs: number
  readonly listen: readonly string[]
  readonly peers: number
  readonly articles: readonly ArticleStatus[]
  /** Followed transactions by phase. */
  readonly transactions: Readonly<Record<string, number>>
  /** Which pieces of the daemon run (and which are missing from this build). */
  readonly services: Readonly<Record<string, boolean>>
}

/** Identity view of `node`. */
export function identityView(node: BitwrkNode, version: string): DaemonIdentityView {
  return { address: node.address, peerId: node.peerId, addrs: node.multiaddrs(), version }
}

/** Connected peers of `node`, sorted by id. */
export function peersView(node: BitwrkNode): DaemonPeerView[] {
  const byPeer = new Map<string, string[]>()
  for (const c of node.host.libp2p.getConnections()) {
    const id = c.remotePeer.toString()
    const list = byPeer.get(id) ?? []
    list.push(c.remoteAddr.toString())
    byPeer.set(id, list)
  }
  return [...byPeer.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([peerId, addrs]) => ({ peerId, addrs, connected: true }))
}

/** Status summary of `node`. */
export function statusView(
  node: BitwrkNode,
  extra: { version: string; startedMs: number; nowMs: number; services: Record<string, boolean> }
): DaemonStatus {
  const articles = node.articles().map((article): ArticleStatus => {
    const epochs: Record<string, { epoch: number; digest: string }> = {}
    for (const key of node.book.matcher.keys())
      if (key.slice(0, key.lastIndexOf(':')) === article) epochs[key] = node.market.digest(key)
    return {
      article,
      liveBids: node.book.liveBids(article).length,
      liveDigest: node.book.liveDigest(article),
      epochs
    }
  })
  const transactions: Record<string, number> = {}
  for (const [phase, n] of node.market.txs.phaseCounts()) transactions[phase] = n
  return {
    peerId: node.peerId,
    address: node.address,
    version: extra.version,
    pid: process.pid,
    uptimeMs: extra.nowMs - extra.startedMs,
    listen: node.multiaddrs(),
    peers: new Set(node.host.libp2p.getConnections().map((c) => c.remotePeer.toString())).size,
    articles,
    transactions,
    services: extra.services
  }
}
