import { BitwrkError } from '../../protocol/errors.js'
import { moneyArgument, parseArgs, stringFlag } from '../args.js'
import { apiRequest, DAEMON_FLAGS, DAEMON_FLAGS_USAGE, daemonEndpoint } from '../daemon.js'
import { CliCode, type CommandIo, EXIT, reportError } from '../io.js'

/** Usage of `bitwrk-node mandate`. */
export const MANDATE_USAGE = `usage: bitwrk-node mandate grant ARTICLE BUY|SELL PRICE [--trades N] [--valid-minutes M]
       bitwrk-node mandate list
       bitwrk-node mandate revoke ID
  common: [--data-dir DIR | --api URL] [--json]

A mandate is the standing permission to buy or sell ARTICLE at PRICE, a unit then the amount
(e.g. 'mBTC 1'): buys through the API and worker offers need one. Without
--trades/--valid-minutes it allows one trade. A node that does not follow ARTICLE yet
starts following it (its bids and transactions) and says so.
${DAEMON_FLAGS_USAGE}
`

interface MandateJson {
  id: number
  article: string
  side: string
  price: string
  tradesLeft: number | null
  expiresMs: number | null
  /** In a grant's answer: the node started following the article for it (WRK-11). */
  followed?: boolean
}

function line(m: MandateJson): string {
  const trades = m.tradesLeft === null ? 'no trade limit' : `${m.tradesLeft} trades left`
  const until = m.expiresMs === null ? 'no expiry' : `until ${new Date(m.expiresMs).toISOString()}`
  return `${m.id} ${m.side} ${m.article} at ${m.price}, ${trades}, ${until}`
}

/** `bitwrk-node mandate grant|list|revoke`: through the running daemon's local API. */
export async function mandateCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  try {
    if (argv.includes('--help') || argv.length === 0) {
      io.stdout.write(MANDATE_USAGE)
      return argv.length === 0 ? EXIT.usage : EXIT.ok
    }
    const args = parseArgs(
      argv,
      { ...DAEMON_FLAGS, json: 'boolean', trades: 'string', 'valid-minutes': 'string' },
      { min: 1, max: 4, names: ['sub-command', 'ARTICLE', 'BUY|SELL', 'PRICE'] }
    )
    const [sub, ...rest] = args.positionals
    // the daemon is looked up once the command line is known to be good
    const daemon = () => daemonEndpoint(args, io)
    const json = args.flags['json'] === true
    const print = (v: unknown, text: string): void => {
      io.stdout.write(json ? `${JSON.stringify(v)}\n` : `${text}\n`)
    }
    if (sub === 'list' && rest.length === 0) {
      const list = (await apiRequest(await daemon(), '/api/v1/mandates')) as MandateJson[]
      print(list, list.length === 0 ? 'no mandates' : list.map(line).join('\n'))
      return EXIT.ok
    }
    if (sub === 'revoke' && rest.length === 1) {
      const id = rest[0] as string
      if (!/^\d{1,15}$/.test(id))
        throw new BitwrkError(CliCode.badArgument, `bad mandate id '${id.slice(0, 20)}'`)
      const r = await apiRequest(await daemon(), `/api/v1/mandates/${id}`, undefined, 'DELETE')
      print(r, `mandate ${id} revoked`)
      return EXIT.ok
    }
    if (sub === 'grant' && rest.length === 3) {
      const [article, side, priceText] = rest as [string, string, string]
      const price = moneyArgument(priceText, 'PRICE')
      const num = (name: string): number | undefined => {
        const v = stringFlag(args, name)
        if (v === undefined) return undefined
        if (!/^\d{1,9}$/.test(v))
          throw new BitwrkError(CliCode.badArgument, `bad --${name} '${v.slice(0, 20)}'`)
        return Number(v)
      }
      const trades = num('trades')
      const validMinutes = num('valid-minutes')
      const m = (await apiRequest(await daemon(), '/api/v1/mandates', {
        article,
        side: side.toUpperCase(),
        price,
        ...(trades !== undefined ? { trades } : {}),
        ...(validMinutes !== undefined ? { validMinutes } : {})
      })) as MandateJson
      const follows =
        m.followed === true ? `\nthe node now follows ${m.article} (its bids and transactions)` : ''
      print(m, `granted: ${line(m)}${follows}`)
      return EXIT.ok
    }
    throw new BitwrkError(CliCode.badArgument, `bad mandate command (try 'bitwrk-node mandate --help')`)
  } catch (err) {
    return reportError(err, 'mandate', io)
  }
}
