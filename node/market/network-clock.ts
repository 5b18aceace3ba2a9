/**
 * The market's clock (MARKET-18): the host clock plus a correction learned from the network,
 * as Bitcoin's network-adjusted time. Peers tell their *host* clocks in the chain checks' sync
 * sessions (SYNC-16, timed like NTP: the offset at the middle of the round trip), never a
 * corrected time, so corrections cannot feed on each other (bids could not serve: they are dated
 * on the corrected clock and arrive after a variable delay, and a network that corrected on them
 * drifted back by that delay at every step). When the median offset over at least
 * {@link NetworkClockOptions.minPeers} peers differs from the correction in use by more than the
 * allowance, the correction becomes that median (bounded by `maxCorrectionMs`) and the operator
 * is warned: epochs close, bids are dated and deadlines judged on the network's time.
 */
import { evictOldest } from '../../protocol/util/bounded.js'

/** Options of {@link NetworkClock}. */
export interface NetworkClockOptions {
  /** The host clock, ms since the epoch. */
  readonly raw: () => number
  /** A median within this distance of the correction in use changes nothing, ms. */
  readonly allowanceMs: number
  /** Largest correction ever applied, ms (either way). */
  readonly maxCorrectionMs: number
  /** Peers with a fresh sample needed before any correction. */
  readonly minPeers: number
  /** How long a peer's sample counts, ms. */
  readonly sampleTtlMs: number
  /** Called whenever the correction changes. */
  readonly onChange?: (event: { correctionMs: number; previousMs: number; peers: number }) => void
}

/** MARKET-18 defaults: ±500 ms is absorbed by the settle delay; at most 30 s is ever corrected. */
export const DEFAULT_NETWORK_CLOCK = {
  allowanceMs: 500,
  maxCorrectionMs: 30_000,
  minPeers: 3,
  sampleTtlMs: 60_000
} as const

/** Peers whose latest sample is kept (the oldest is dropped beyond). */
const MAX_PEERS = 256

/** The host clock with a network-learned correction (MARKET-18). */
export class NetworkClock {
  private correction = 0
  private readonly samples = new Map<string, { offsetMs: number; atMs: number }>()

  constructor(private readonly o: NetworkClockOptions) {}

  /** The market's time: the host clock plus the correction, ms since the epoch. */
  readonly now = (): number => this.o.raw() + this.correction

  /** The correction in use, ms (negative: the host clock is fast). */
  get correctionMs(): number {
    return this.correction
  }

  /** Records that `peer`'s host clock is `offsetMs` ahead of ours (SYNC-16) and re-estimates. */
  sample(peer: string, offsetMs: number): void {
    const at = this.o.raw()
    this.samples.delete(peer)
    this.samples.set(peer, { offsetMs, atMs: at })
    evictOldest(this.samples, MAX_PEERS)
    this.estimate(at)
  }

  /** Peers with a fresh sample. */
  peers(): number {
    const at = this.o.raw()
    let n = 0
    for (const s of this.samples.values()) if (at - s.atMs < this.o.sampleTtlMs) n++
    return n
  }

  private estimate(at: number): void {
    const offsets: number[] = []
    for (const s of this.samples.values()) if (at - s.atMs < this.o.sampleTtlMs) offsets.push(s.offsetMs)
    if (offsets.length < this.o.minPeers) return
    offsets.sort((a, b) => a - b)
    const mid = offsets.length >> 1
    const median =
      offsets.length % 2 === 1
        ? (offsets[mid] as number)
        : ((offsets[mid - 1] as number) + (offsets[mid] as number)) / 2
    if (Math.abs(median - this.correction) <= this.o.allowanceMs) return
    const previousMs = this.correction
    const bound = this.o.maxCorrectionMs
    this.correction = Math.round(Math.max(-bound, Math.min(bound, median)))
    this.o.onChange?.({ correctionMs: this.correction, previousMs, peers: offsets.length })
  }
}
