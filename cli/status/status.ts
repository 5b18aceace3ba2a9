import type { DaemonStatus } from '../../node/daemon/index.js'
import { parseArgs, stringFlag } from '../args.js'
import { resolveDataDir } from '../data-dir.js'
import { type CommandIo, EXIT, reportError } from '../io.js'
import { apiRequest, daemonApiUrl } from './client.js'

/** Usage of `bitwrk-node status`. */
export const STATUS_USAGE = `usage: bitwrk-node status [--data-dir DIR | --control URL] [--json]

Shows the running daemon: identity, listen addresses, peers, followed articles with their book
and last epoch digest, transactions by phase, and which services run.
`

/** `bitwrk-node status`: asks the running daemon's local API. */
export async function statusCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  try {
    if (argv.includes('--help')) {
      io.stdout.write(STATUS_USAGE)
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
    const s = (await apiRequest(base, '/api/v1/status')) as DaemonStatus
    if (args.flags['json'] === true) {
      io.stdout.write(`${JSON.stringify(s)}\n`)
      return EXIT.ok
    }
    const lines = [
      `peer id: ${s.peerId}`,
      `address: ${s.address}`,
      `version: ${s.version} (pid ${s.pid}, up ${Math.round(s.uptimeMs / 1000)} s)`,
      ...s.listen.map((a) => `listen: ${a}`),
      `control: ${base}`,
      `peers: ${s.peers}`
    ]
    for (const a of s.articles) {
      lines.push(`article ${a.article}: ${a.liveBids} live bids (digest ${a.liveDigest.slice(0, 16)})`)
      for (const [key, e] of Object.entries(a.epochs))
        lines.push(`  ${key}: epoch ${e.epoch} digest ${e.digest.slice(0, 16)}`)
    }
    const txs = Object.entries(s.transactions)
    lines.push(`transactions: ${txs.length === 0 ? 'none' : txs.map(([p, n]) => `${p} ${n}`).join(', ')}`)
    lines.push(
      `services: ${Object.entries(s.services)
        .map(([k, on]) => `${k} ${on ? 'on' : 'missing'}`)
        .join(', ')}`
    )
    io.stdout.write(`${lines.join('\n')}\n`)
    return EXIT.ok
  } catch (err) {
    return reportError(err, 'status', io)
  }
}
