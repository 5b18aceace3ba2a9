import { evictOldest } from '../../protocol/util/index.js'
/** Settings of {@link PeerRateLimiter} (GOSSIP-7). */
export interface RateLimitOptions {
  /** Tokens added per second per peer (sustained messages/s). */
  ratePerSec: number
  /** Bucket size: messages a peer may send in a burst. */
  burst: number
  /**
   * Over-limit messages (a counter that halves every `abuseHalfLifeMs`) above which further
   * over-limit messages are rejected rather than ignored: a sustained flood is misbehaviour.
   */
  rejectAfter: number
  /** Half-life of the over-limit counter, ms. */
  abuseHalfLifeMs: number
  /** Most peers tracked at once; the least recently seen is forgotten first. */
  maxPeers: number
}

/**
 * GOSSIP-7 defaults. A relay forwards everyone's messages, so the per-peer budget must cover
 * the whole network's rate on the topics we share with it: 200 msg/s sustained with a burst
 * of 400 is 4x the gossip benchmark's 50 bids/s. `rejectAfter` 1000 means a peer must exceed
 * its budget by about 1000 messages within a few half-lives before it is penalised.
 */
export const DEFAULT_RATE_LIMIT: RateLimitOptions = {
  ratePerSec: 200,
  burst: 400,
  rejectAfter: 1000,
  abuseHalfLifeMs: 10_000,
  maxPeers: 10_000
}

/** What the limiter says about one message. */
export type RateVerdict = 'ok' | 'ignore' | 'reject'

interface Bucket {
  tokens: number
  excess: number
  lastMs: number
}

/**
 * A token bucket per peer (keyed by peer id string) with a decaying count of over-limit
 * messages. Pure apart from the injected clock; memory bounded by `maxPeers`.
 */
export class PeerRateLimiter {
  private readonly buckets = new Map<string, Bucket>()
  private readonly opts: RateLimitOptions

  constructor(
    opts: Partial<RateLimitOptions> = {},
    private readonly now: () => number = Date.now
  ) {
    this.opts = { ...DEFAULT_RATE_LIMIT, ...opts }
  }

  /** Takes one token for `peer` and says whether the message may be processed. */
  take(peer: string): RateVerdict {
    const nowMs = this.now()
    let b = this.buckets.get(peer)
    if (b === undefined) {
      b = { tokens: this.opts.burst, excess: 0, lastMs: nowMs }
      evictOldest(this.buckets, this.opts.maxPeers - 1)
    } else {
      // keep Map order = recency, so eviction drops the least recently seen peer
      this.buckets.delete(peer)
      const dt = Math.max(0, nowMs - b.lastMs)
      b.tokens = Math.min(this.opts.burst, b.tokens + (dt * this.opts.ratePerSec) / 1000)
      b.excess *= 0.5 ** (dt / this.opts.abuseHalfLifeMs)
      b.lastMs = nowMs
    }
    this.buckets.set(peer, b)
    if (b.tokens >= 1) {
      b.tokens -= 1
      return 'ok'
    }
    b.excess += 1
    return b.excess > this.opts.rejectAfter ? 'reject' : 'ignore'
  }

  /** Number of peers currently tracked. */
  get size(): number {
    return this.buckets.size
  }
}
