import type { StatusView } from '../../node/api/index.js'
import { DAEMON_FLAGS_USAGE, daemonQueryCommand } from '../daemon.js'
import type { CommandIo } from '../io.js'

/** Usage of `bitwrk-node status`. */
export const STATUS_USAGE = `usage: bitwrk-node status [--data-dir DIR | --api URL] [--json]

Shows the running daemon: identity, listen addresses, peers, reachability and relays, followed
articles with their book and last epoch digest, transactions by phase, and which services run.
${DAEMON_FLAGS_USAGE}
  --json           the API's JSON view as is
`

/** The human lines of `bitwrk-node status`. */
function renderStatus(s: StatusView, base: string): string[] {
  const lines = [
    `peer id: ${s.peerId}`,
    `address: ${s.address}`,
    `version: ${s.version} (pid ${s.pid}, up ${Math.round(s.uptimeMs / 1000)} s)`,
    ...s.listen.map((a) => `listen: ${a}`),
    `api: ${base}`,
    `peers: ${s.peers}`
  ]
  const n = s.network
  if (n !== undefined) {
    // network.md NET-9, NET-12, NET-15 … NET-17
    lines.push(
      `reachability: ${n.reachability}`,
      `connections: ${n.connections.direct} direct, ${n.connections.relayed} relayed`,
      `relay server: ${n.relayServer ? 'on' : 'off'}`,
      `relay reservations: ${n.relayReservations.length === 0 ? 'none' : n.relayReservations.join(', ')}`
    )
    if (n.warning === 'NO_RELAY')
      lines.push(
        'warning: private and no relay reservation (NET-16): peers cannot reach this node; it can still buy'
      )
  }
  for (const a of s.articles) {
    lines.push(`article ${a.article}: ${a.liveBids} live bids (digest ${a.liveDigest.slice(0, 16)})`)
    for (const [key, e] of Object.entries(a.epochs))
      lines.push(`  ${key}: epoch ${e.epoch} digest ${e.digest.slice(0, 16)}`)
  }
  const t = s.timing
  if (t.clockCorrectionMs !== 0)
    lines.push(
      `warning: the host clock is ${Math.abs(t.clockCorrectionMs)} ms ${t.clockCorrectionMs < 0 ? 'fast' : 'slow'} against ${t.clockPeers} peers; the market runs on the network's time (fix the clock: NTP)`
    )
  if (t.rejoins > 0)
    lines.push(
      `warning: re-joined the network's match chain ${t.rejoins} time(s), last at ${new Date(t.lastRejoinMs ?? 0).toISOString()}`
    )
  const txs = Object.entries(s.transactions)
  lines.push(`transactions: ${txs.length === 0 ? 'none' : txs.map(([p, n]) => `${p} ${n}`).join(', ')}`)
  lines.push(
    `services: ${Object.entries(s.services)
      .map(([k, on]) => `${k} ${on ? 'on' : 'missing'}`)
      .join(', ')}`
  )
  return lines
}

/** `bitwrk-node status`: asks the running daemon's local API. */
export function statusCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  return daemonQueryCommand(argv, io, {
    name: 'status',
    usage: STATUS_USAGE,
    path: '/api/v1/status',
    render: renderStatus
  })
}
