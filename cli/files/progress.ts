/**
 * The progress of `bitwrk-node get` (API-24): the gateway fetch of the file as the daemon reports
 * it (`GET /api/v1/fetches`): providers found, bytes arrived of those that must travel and the
 * rate, as one redrawn line with a bar on a terminal and as plain lines (one per stage, and
 * every 10 % of the bytes) otherwise.
 */
import type { FetchProgressView } from '../../node/api/index.js'
import type { Output } from '../io.js'

/** Width of the bar in characters. */
const BAR_WIDTH = 20

/** `1.2 MB` style (decimal units, as `buy` shows them). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)} kB`
  if (n < 1_000_000_000) return `${(n / 1_000_000).toFixed(1)} MB`
  return `${(n / 1_000_000_000).toFixed(2)} GB`
}

const STAGE_TEXT: Readonly<Record<string, string>> = {
  finding: 'looking for providers',
  manifest: 'asking providers for the manifest',
  fetching: 'fetching'
}

/** One line about a fetch: stage, providers, bytes (with a bar for a terminal) and rate. */
export function describeFetch(
  v: FetchProgressView,
  rateBytesPerS: number | undefined,
  options: { bars: boolean }
): string {
  const parts = [STAGE_TEXT[v.stage] ?? v.stage, `${v.providers} provider${v.providers === 1 ? '' : 's'}`]
  if (v.stage === 'fetching') {
    if (v.bytesWanted === 0 && v.size !== null) parts.push('every chunk already held')
    else {
      const share = v.bytesWanted === 0 ? 1 : Math.min(1, v.bytesReceived / v.bytesWanted)
      const full = Math.round(share * BAR_WIDTH)
      const bar = options.bars ? `[${'#'.repeat(full)}${'-'.repeat(BAR_WIDTH - full)}] ` : ''
      parts.push(
        `${bar}${Math.round(share * 100)}% ${formatBytes(v.bytesReceived)}/${formatBytes(v.bytesWanted)}`
      )
    }
    if (rateBytesPerS !== undefined) parts.push(`${formatBytes(Math.round(rateBytesPerS))}/s`)
  }
  return parts.join(', ')
}

/** Renders successive views of one fetch to `out` (stderr), with the rate between samples. */
export class FetchProgress {
  private last: { bytes: number; ms: number } | undefined
  private rate: number | undefined
  private lastMilestone = ''
  private shown = false

  constructor(
    private readonly out: Output,
    private readonly label: string,
    private readonly tty: boolean,
    private readonly now: () => number = Date.now
  ) {}

  /** Shows `v` (a terminal's line is redrawn; plain output only on a new stage or 10 % step). */
  show(v: FetchProgressView): void {
    const ms = this.now()
    if (this.last !== undefined && ms > this.last.ms && v.bytesReceived >= this.last.bytes) {
      const r = ((v.bytesReceived - this.last.bytes) * 1000) / (ms - this.last.ms)
      // smoothed: one slow poll does not make the figure jump
      this.rate = this.rate === undefined ? r : 0.7 * this.rate + 0.3 * r
    }
    this.last = { bytes: v.bytesReceived, ms }
    if (this.tty) {
      let line = `${this.label}: ${describeFetch(v, this.rate, { bars: true })}`
      const width = this.out.columns ?? 0
      if (width > 1 && line.length > width - 1) line = `${line.slice(0, width - 2)}…`
      this.out.write(`\r${line}\x1b[K`)
      this.shown = true
      return
    }
    const tenth = v.bytesWanted === 0 ? 10 : Math.floor((10 * v.bytesReceived) / v.bytesWanted)
    const m = `${v.stage} ${v.providers} ${tenth}`
    if (m === this.lastMilestone) return
    this.lastMilestone = m
    this.out.write(`${this.label}: ${describeFetch(v, this.rate, { bars: false })}\n`)
  }

  /** Ends the terminal line so the next output starts on its own. */
  end(): void {
    if (this.tty && this.shown) this.out.write('\n')
    this.shown = false
  }
}
