import { BID_MAX_ENCODED_BYTES } from '../../protocol/bid/index.js'

/** Protocol id of bid sync (SYNC-1). */
export const SYNC_PROTOCOL = '/bitwrk/sync/1.0.0'

/** Limits and timeouts of a sync session (SYNC-9, SYNC-10). Both ends enforce their side. */
export interface SyncLimits {
  /** Largest request frame body: GET_BIDS of `maxIdsPerRequest` ids (SYNC-9). */
  readonly maxRequestBytes: number
  /** Largest response frame body (SUMMARY, BIDS, IDS, SNAPSHOT). */
  readonly maxResponseBytes: number
  /** Most bids in one BIDS frame. */
  readonly maxBidsPerFrame: number
  /** Most ids in one IDS frame, and in one GET_BIDS request. */
  readonly maxIdsPerFrame: number
  /** Most live bids of one article a requester takes in one session (book bound, invariant 10). */
  readonly maxBidsPerSession: number
  /** Largest bucket exponent: at most 2^maxBucketBits buckets per summary. */
  readonly maxBucketBits: number
  /** Most requests a responder serves on one stream. */
  readonly maxRequestsPerSession: number
  /** Most resting bids in a snapshot. */
  readonly maxSnapshotBids: number
  /** Per-message timeout: each awaited frame must arrive (and each write drain) within this, ms. */
  readonly messageTimeoutMs: number
  /** Whole-session deadline, ms (requester and responder). */
  readonly sessionTimeoutMs: number
}

/**
 * Default limits. A BIDS frame of 256 bids of at most 1 KiB (BID-1) stays within 264 KiB; a
 * SUMMARY of 2^12 buckets is 81,926 bytes; GET_BIDS of 1024 ids is 32,771 bytes. 50,000 live
 * bids per article is 25x the largest book of the e2e tests and benchmarks. 5 s per message is
 * far above a loopback or WAN round trip plus validating one frame (256 signatures at ~0.1 ms,
 * notes/libp2p-stack.md); 30 s bounds a whole session.
 */
export const DEFAULT_SYNC_LIMITS: SyncLimits = Object.freeze({
  maxRequestBytes: 1 + 2 + 1024 * 32,
  maxResponseBytes: 1 + 2 + 256 * (2 + BID_MAX_ENCODED_BYTES),
  maxBidsPerFrame: 256,
  maxIdsPerFrame: 1024,
  maxBidsPerSession: 50_000,
  maxBucketBits: 12,
  maxRequestsPerSession: 256,
  maxSnapshotBids: 50_000,
  messageTimeoutMs: 5000,
  sessionTimeoutMs: 30_000
})

/**
 * Stream caps at `handle()` (SYNC-10): concurrent sync streams per connection and direction.
 * Automatic sync uses at most {@link SYNC_PARALLEL_ARTICLES}; the rest is room for explicit
 * `syncNow` calls and snapshot requests running at the same time.
 */
export const SYNC_MAX_INBOUND_STREAMS = 8
/** Outbound sync streams per connection (see {@link SYNC_MAX_INBOUND_STREAMS}). */
export const SYNC_MAX_OUTBOUND_STREAMS = 8
/**
 * Responder sync streams of one peer over all its connections (SYNC-14): as the per-connection
 * cap, so a peer with several connections gets one budget.
 */
export const SYNC_MAX_PEER_STREAMS = 8
/** Responder sync streams over all peers (SYNC-14): 8 peers at their cap. */
export const SYNC_MAX_TOTAL_STREAMS = 64
/** Articles an automatic sync pulls at once: one stream each, half the stream cap. */
export const SYNC_PARALLEL_ARTICLES = 4

/** Fills missing limit fields from {@link DEFAULT_SYNC_LIMITS}. */
export function resolveSyncLimits(partial: Partial<SyncLimits> = {}): SyncLimits {
  return Object.freeze({ ...DEFAULT_SYNC_LIMITS, ...partial })
}
