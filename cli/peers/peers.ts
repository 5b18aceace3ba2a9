import type { DaemonPeerView } from '../../node/daemon/index.js'
import { parseArgs, stringFlag } from '../args.js'
import { resolveDataDir } from '../data-dir.js'
import { type CommandIo, EXIT, reportError } from '../io.js'
import { apiRequest, daemonApiUrl } from '../status/index.js'

/** Usage of `bitwrk-node peers`. */
export const PEERS_USAGE = `usage: bitwrk-node peers [--data-dir DIR | --control URL] [--json]

Lists the peers the running daemon is connected to: peer id and remote addresses.
`

/** `bitwrk-node peers`: asks the running daemon's local API. */
export async function peersCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  try {
    if (argv.includes('--help')) {
      io.stdout.write(PEERS_USAGE)
      return EXIT.ok
    }
    const args = parseArgs(
      argv,
      { 'data-dir': 'string', control: 'string', json: 'boolean' },
      { min: 0, max: 0 }
    )
    const base = await daemonApiUrl(
      resolveDataDir(stringFlag(args, 'data-dir'), io),
      stringFlag(args, 'control')
    )
    const peers = (await apiRequest(base, '/api/v1/peers')) as DaemonPeerView[]
    if (args.flags['json'] === true) io.stdout.write(`${JSON.stringify(peers)}\n`)
    else if (peers.length === 0) io.stdout.write('no peers\n')
    else for (const p of peers) io.stdout.write(`${p.peerId} ${p.addrs.join(' ')}\n`)
    return EXIT.ok
  } catch (err) {
    return reportError(err, 'peers', io)
  }
}
