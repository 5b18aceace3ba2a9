import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import type { ActivityView } from '../../node/api/index.js'
import { BitwrkError } from '../../protocol/errors.js'
import { moneyArgument, parseArgs, stringFlag } from '../args.js'
import {
  apiError,
  DAEMON_FLAGS,
  DAEMON_FLAGS_USAGE,
  daemonEndpoint,
  daemonHeaders,
  unreachableError
} from '../daemon.js'
import { CliCode, type CommandIo, EXIT, reportError } from '../io.js'
import { BuyProgress, describeActivity, findActivity, watchActivities } from './progress.js'

/** Usage of `bitwrk-node buy`. */
export const BUY_USAGE = `usage: bitwrk-node buy ARTICLE FILE [--max-price PRICE] [--timeout SECONDS] [--out FILE]
                      [--data-dir DIR | --api URL]

Buys the work in FILE through the running daemon (POST /buy/ARTICLE) and writes the result to
--out (default: stdout). Needs a BUY mandate for ARTICLE ('bitwrk-node mandate grant …');
--max-price bids below the mandate's limit. Progress goes to stderr: the phase, the matched
seller and the work and result transfers (a bar on a terminal, a line per step otherwise).
When nobody sells, the node bids 3 times for 60 s each and the buy ends with "no seller found"
(exit 1); --timeout ends the buy after SECONDS (1 to 86400) however far it got.
${DAEMON_FLAGS_USAGE}
`

/** Error codes of `bitwrk-node buy`. */
export const BuyCliCode = {
  /** Nobody sold the work: every bid expired unmatched, or --timeout passed before a match (API-21). */
  NO_SELLER: 'CLI_BUY_NO_SELLER'
} as const

/** Longest a buy may take from the CLI's side without --timeout; the node's deadlines end it sooner. */
const BUY_TIMEOUT_MS = 30 * 60_000

/** Grace beyond `--timeout` for the node's own answer to arrive. */
const ANSWER_GRACE_MS = 30_000

/** `--timeout SECONDS`: whole seconds 1 … 86400 (API-21). */
function timeoutFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined
  const s = /^[1-9][0-9]{0,4}$/.test(text) ? Number(text) : 0
  if (s < 1 || s > 86_400)
    throw new BitwrkError(CliCode.badArgument, `bad --timeout '${text.slice(0, 20)}' (seconds, 1 to 86400)`)
  return s
}

/** `bitwrk-node buy`: through the local API, with the buy's progress on stderr. */
export async function buyCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const watching = new AbortController()
  let ticker: NodeJS.Timeout | undefined
  try {
    if (argv.includes('--help')) {
      io.stdout.write(BUY_USAGE)
      return EXIT.ok
    }
    const args = parseArgs(
      argv,
      { ...DAEMON_FLAGS, 'max-price': 'string', out: 'string', timeout: 'string' },
      { min: 2, max: 2, names: ['ARTICLE', 'FILE'] }
    )
    const [article, file] = args.positionals as [string, string]
    const priceText = stringFlag(args, 'max-price')
    const price = priceText === undefined ? undefined : moneyArgument(priceText, '--max-price')
    const timeoutS = timeoutFlag(stringFlag(args, 'timeout'))
    const endpoint = await daemonEndpoint(args, io)
    const work = await readFile(file)
    // the buy's name in its activity (API-21): how the progress finds this buy among others
    const ref = `cli-${randomBytes(8).toString('hex')}`
    const query = new URLSearchParams({ ref })
    if (price !== undefined) query.set('price', price)
    if (timeoutS !== undefined) query.set('timeout', String(timeoutS))

    const label = `buy ${article}`
    const progress = new BuyProgress(io.stderr, label, io.stderr.isTTY === true)
    if (io.stderr.isTTY === true) ticker = setInterval(() => progress.redraw(), 1000)
    const update = async (): Promise<void> => {
      const a = await findActivity(endpoint, ref, watching.signal)
      if (a !== undefined) progress.show(a)
    }
    // Progress is a view: a stream that fails or is refused never fails the buy.
    const watched = watchActivities(endpoint, watching.signal, update).catch(() => {})

    let res: Response
    try {
      res = await fetch(`${endpoint.base}/buy/${article}?${query}`, {
        method: 'POST',
        body: work,
        headers: daemonHeaders(endpoint, { 'content-type': 'application/octet-stream' }),
        signal: AbortSignal.timeout(
          timeoutS === undefined ? BUY_TIMEOUT_MS : timeoutS * 1000 + ANSWER_GRACE_MS
        )
      })
    } catch (err) {
      throw unreachableError(endpoint.base, err)
    }
    const body = new Uint8Array(await res.arrayBuffer())
    // the last state of the buy (a fast one may have finished between two events)
    const last: ActivityView | undefined = await findActivity(
      endpoint,
      ref,
      AbortSignal.timeout(5_000)
    ).catch(() => undefined)
    watching.abort()
    await watched
    clearInterval(ticker)
    // the final state: a terminal's line, or the phase of a failure (a success says "done" below)
    if (last !== undefined && (io.stderr.isTTY === true || !res.ok)) progress.show(last)
    progress.end()
    if (!res.ok) {
      let answer: unknown
      try {
        answer = JSON.parse(Buffer.from(body).toString('utf8'))
      } catch {}
      const err = apiError(res.status, answer)
      if (err.details.detail === 'NODETRADE_NO_SELLER') {
        const why = (answer as { message?: unknown } | undefined)?.message
        throw new BitwrkError(
          BuyCliCode.NO_SELLER,
          `${typeof why === 'string' ? why : 'no seller found'} (nobody offered ${article} at the price)`
        )
      }
      throw err
    }
    const how = last === undefined ? '' : ` (${describeActivity(last, { bars: false })})`
    io.stderr.write(`${label}: done, ${body.length} bytes${how}\n`)
    const out = stringFlag(args, 'out')
    // the result is binary: straight to the process's stdout, not through the text interface
    if (out === undefined) process.stdout.write(body)
    else await writeFile(out, body)
    return EXIT.ok
  } catch (err) {
    return reportError(err, 'buy', io)
  } finally {
    watching.abort()
    clearInterval(ticker)
  }
}
