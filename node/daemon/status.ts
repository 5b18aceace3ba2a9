/**
 * Views of a running node for `/api/v1/status` (the `status` command: book, epochs,
 * transactions, services) and `/api/v1/peers`.
 */
import type { ArticleStatusView, NetworkView, PeerView, StatusView } from '../api/facade.js'
import { connectionKind } from '../host/network.js'
import type { BitwrkNode } from '../node.js'

/** Connected peers of `node`, sorted by id, each connection marked direct or relayed (NET-17). */
export function peersView(node: BitwrkNode): PeerView[] {
  const byPeer = new Map<string, { addr: string; kind: 'direct' | 'relayed' }[]>()
  for (const c of node.host.libp2p.getConnections()) {
    const id = c.remotePeer.toString()
    const list = byPeer.get(id) ?? []
    list.push({ addr: c.remoteAddr.toString(), kind: connectionKind(c) })
    byPeer.set(id, list)
  }
  return [...byPeer.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([peerId, connections]) => ({
      peerId,
      addrs: connections.map((c) => c.addr),
      connected: true,
      connections
    }))
}

/** The node's reachability and relays (network.md), for status and identity. */
export function networkView(node: BitwrkNode): NetworkView {
  const n = node.host.network()
  return {
    reachability: n.reachability,
    relayServer: n.relayServer,
    relayReservations: [...n.relayReservations],
    connections: { ...n.connections },
    warning: n.warning
  }
}

/** Status summary of `node`. */
export function statusView(
  node: BitwrkNode,
  extra: { version: string; startedMs: number; nowMs: number; services: Record<string, boolean> }
): StatusView {
  const articles = node.articles().map((article): ArticleStatusView => {
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
    services: extra.services,
    network: networkView(node),
    timing: {
      clockCorrectionMs: node.networkClock?.correctionMs ?? 0,
      clockPeers: node.networkClock?.peers() ?? 0,
      rejoins: node.market.rejoins.count,
      lastRejoinMs: node.market.rejoins.lastMs
    }
  }
}
