import { readFile, writeFile } from 'node:fs/promises'
import { BitwrkError } from '../../protocol/errors.js'
import { parseArgs, stringFlag } from '../args.js'
import { resolveDataDir } from '../data-dir.js'
import { type CommandIo, EXIT, reportError } from '../io.js'
import { DaemonClientCode, daemonApiUrl } from '../status/index.js'

/** Usage of `bitwrk-node buy`. */
export const BUY_USAGE = `usage: bitwrk-node buy ARTICLE FILE [--max-price PRICE] [--out FILE] [--data-dir DIR | --api URL]

Buys the work in FILE through the running daemon (POST /buy/ARTICLE) and writes the result to
--out (default: stdout). Needs a BUY mandate for ARTICLE ('bitwrk-node mandate grant …');
--max-price bids below the mandate's limit. Progress goes to stderr.
`

/** Longest a buy may take from the CLI's side; the node's phase deadlines end it sooner. */
const BUY_TIMEOUT_MS = 30 * 60_000

/** `bitwrk-node buy`: through the local API, with a progress line on stderr. */
export async function buyCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  let ticker: NodeJS.Timeout | undefined
  try {
    if (argv.includes('--help')) {
      io.stdout.write(BUY_USAGE)
      return EXIT.ok
    }
    const args = parseArgs(
      argv,
      { 'data-dir': 'string', api: 'string', 'max-price': 'string', out: 'string' },
      { min: 2, max: 2, names: ['ARTICLE', 'FILE'] }
    )
    const [article, file] = args.positionals as [string, string]
    const base = await daemonApiUrl(resolveDataDir(stringFlag(args, 'data-dir'), io), stringFlag(args, 'api'))
    const work = await readFile(file)
    const price = stringFlag(args, 'max-price')
    const query = price === undefined ? '' : `?price=${encodeURIComponent(price)}`
    const started = Date.now()
    const progress = (what: string): void => {
      io.stderr.write(`\rbuy ${article}: ${what} (${Math.round((Date.now() - started) / 1000)} s)   `)
    }
    progress(`sending ${work.length} bytes, waiting for a seller`)
    ticker = setInterval(() => progress('trading'), 1000)
    let res: Response
    try {
      res = await fetch(`${base}/buy/${article}${query}`, {
        method: 'POST',
        body: work,
        headers: { 'content-type': 'application/octet-stream' },
        signal: AbortSignal.timeout(BUY_TIMEOUT_MS)
      })
    } catch (err) {
      throw new BitwrkError(DaemonClientCode.UNREACHABLE, `daemon API at ${base} unreachable`, {
        cause: String(err)
      })
    }
    const body = new Uint8Array(await res.arrayBuffer())
    clearInterval(ticker)
    if (!res.ok) {
      io.stderr.write('\n')
      let code = ''
      let message = ''
      try {
        const e = JSON.parse(Buffer.from(body).toString('utf8')) as { code?: unknown; message?: unknown }
        code = typeof e.code === 'string' ? e.code : ''
        message = typeof e.message === 'string' ? e.message : ''
      } catch {}
      throw new BitwrkError(DaemonClientCode.API_ERROR, `${res.status} ${code}: ${message}`, {
        status: res.status
      })
    }
    progress(`done, ${body.length} bytes`)
    io.stderr.write('\n')
    const out = stringFlag(args, 'out')
    // the result is binary: straight to the process's stdout, not through the text interface
    if (out === undefined) process.stdout.write(body)
    else await writeFile(out, body)
    return EXIT.ok
  } catch (err) {
    return reportError(err, 'buy', io)
  } finally {
    clearInterval(ticker)
  }
}
