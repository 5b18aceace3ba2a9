import type { PeerView } from '../../node/api/index.js'
import { DAEMON_FLAGS_USAGE, daemonQueryCommand } from '../daemon.js'
import type { CommandIo } from '../io.js'

/** Usage of `bitwrk-node peers`. */
export const PEERS_USAGE = `usage: bitwrk-node peers [--data-dir DIR | --api URL] [--json]

Lists the peers the running daemon is connected to: peer id and remote addresses, each marked
(relayed) when the connection runs through a circuit relay (network.md NET-17).
${DAEMON_FLAGS_USAGE}
  --json           the API's JSON view as is
`

/** `bitwrk-node peers`: asks the running daemon's local API. */
export function peersCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  return daemonQueryCommand<PeerView[]>(argv, io, {
    name: 'peers',
    usage: PEERS_USAGE,
    path: '/api/v1/peers',
    render: (peers) =>
      peers.length === 0
        ? ['no peers']
        : peers.map((p) => {
            const addrs =
              p.connections?.map((c) => (c.kind === 'relayed' ? `${c.addr} (relayed)` : c.addr)) ?? p.addrs
            return `${p.peerId} ${addrs.join(' ')}`
          })
  })
}
