/**
 * The progress of `bitwrk-node buy` (issue 12.9): the buy's activity (API-18, API-21) read
 * whenever the event stream (API-13) announces a change, shown as one redrawn line with bars on
 * a terminal and as plain lines (one per change of phase or seller, and per transfer when it
 * starts and when it is complete) otherwise.
 */
import type { ActivityView, TransferView } from '../../node/api/index.js'
import { type DaemonEndpoint, daemonHeaders } from '../daemon.js'
import type { Output } from '../io.js'

/** What the phases of a buy's activity mean to the user (node/daemon/facade.ts, node/market/buy.ts). */
const PHASE_TEXT: Readonly<Record<string, string>> = {
  LOCAL: 'accepted, placing a bid',
  BID: 'bid placed, waiting for a seller',
  RETRY: 'that attempt failed, bidding again',
  ESTABLISHED: 'matched',
  REPLICATE: 'buying the work a second time to compare results',
  CONTRADICTED: 'the seller was outvoted, buying again',
  DONE: 'result received',
  FINISHED: 'result received',
  FAILED: 'failed'
}

/** Width of a progress bar in characters. */
const BAR_WIDTH = 20

/** `1.2 kB` style: the CLI shows sizes for people. */
function bytes(n: number): string {
  if (n < 1000) return `${n} B`
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`
  return `${(n / 1_000_000).toFixed(1)} MB`
}

function bar(t: TransferView): string {
  const share = t.total === 0 ? 1 : Math.min(1, t.done / t.total)
  const full = Math.round(share * BAR_WIDTH)
  return `[${'#'.repeat(full)}${'-'.repeat(BAR_WIDTH - full)}] ${Math.round(share * 100)}%`
}

function transfer(name: string, t: TransferView | null | undefined, withBar: boolean): string | undefined {
  if (t === null || t === undefined) return undefined
  // total 0: the seller held every chunk already (API-18), nothing had to travel
  if (t.total === 0) return `${name} already there`
  return withBar
    ? `${name} ${bar(t)} ${bytes(t.done)}/${bytes(t.total)}`
    : `${name} ${bytes(t.done)}/${bytes(t.total)}`
}

/** One line about a buy's activity; with bars for a terminal. */
export function describeActivity(a: ActivityView, options: { bars: boolean }): string {
  const parts = [PHASE_TEXT[a.phase] ?? a.phase.toLowerCase()]
  if (a.counterparty !== null && a.counterparty !== undefined) parts.push(`seller ${a.counterparty}`)
  const work = transfer('work', a.workTransfer, options.bars)
  const result = transfer('result', a.resultTransfer, options.bars)
  if (work !== undefined) parts.push(work)
  if (result !== undefined) parts.push(result)
  return parts.join(', ')
}

/** What plain-line output prints again: a new phase or seller, a transfer that started or finished. */
function milestone(a: ActivityView): string {
  const step = (t: TransferView | null | undefined): string =>
    t === null || t === undefined ? 'none' : t.done >= t.total ? 'done' : 'started'
  return `${a.phase} ${a.counterparty ?? ''} ${step(a.workTransfer)} ${step(a.resultTransfer)}`
}

/** Renders successive states of one buy to `out` (stderr). */
export class BuyProgress {
  private lastMilestone = ''
  private lastLine = ''
  private readonly started = Date.now()

  constructor(
    private readonly out: Output,
    private readonly label: string,
    private readonly tty: boolean
  ) {}

  /** Shows `a` when it says something new (plain lines) or redraws the line (terminal). */
  show(a: ActivityView): void {
    if (this.tty) {
      this.lastLine = describeActivity(a, { bars: true })
      this.redraw()
      return
    }
    const m = milestone(a)
    if (m === this.lastMilestone) return
    this.lastMilestone = m
    this.out.write(`${this.label}: ${describeActivity(a, { bars: false })}\n`)
  }

  /** The terminal line again, with the time elapsed (called every second). */
  redraw(): void {
    if (!this.tty || this.lastLine === '') return
    const s = Math.round((Date.now() - this.started) / 1000)
    let line = `${this.label}: ${this.lastLine} (${s} s)`
    // a line longer than the terminal wraps, and \r would then redraw only its last part
    const width = this.out.columns ?? 0
    if (width > 1 && line.length > width - 1) line = `${line.slice(0, width - 2)}…`
    // \r and "erase to the end of the line" (CSI K): one line, redrawn in place
    this.out.write(`\r${line}\x1b[K`)
  }

  /** Ends the terminal line so the next output starts on its own. */
  end(): void {
    if (this.tty && this.lastLine !== '') this.out.write('\n')
  }
}

/** The buy's activity (the one whose `ref` is `ref`), or undefined when it is not there yet. */
export async function findActivity(
  endpoint: DaemonEndpoint,
  ref: string,
  signal: AbortSignal
): Promise<ActivityView | undefined> {
  const res = await fetch(`${endpoint.base}/api/v1/activities`, { headers: daemonHeaders(endpoint), signal })
  if (!res.ok) return undefined
  const list = (await res.json()) as ActivityView[]
  return list.findLast((a) => a.ref === ref)
}

/** Most bytes of the event stream kept while looking for the end of one event (API-13's are small). */
const MAX_EVENT_BYTES = 64 * 1024

/**
 * Follows the daemon's event stream (API-13) until `signal` aborts and calls `onChange` on
 * every `activities` event (and once at the start). Resolves when the stream ends; a stream
 * the daemon refuses (`409`: 16 streams open) leaves the buy without progress, not failed.
 */
export async function watchActivities(
  endpoint: DaemonEndpoint,
  signal: AbortSignal,
  onChange: () => Promise<void>
): Promise<void> {
  const res = await fetch(`${endpoint.base}/api/v1/events`, { headers: daemonHeaders(endpoint), signal })
  if (!res.ok || res.body === null) return
  await onChange()
  const decoder = new TextDecoder()
  let text = ''
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true })
    let end = text.indexOf('\n\n')
    while (end >= 0) {
      const event = text.slice(0, end)
      text = text.slice(end + 2)
      if (/^event: activities$/m.test(event)) await onChange()
      end = text.indexOf('\n\n')
    }
    if (text.length > MAX_EVENT_BYTES) text = ''
  }
}
