import {
  type Bid,
  type BidTopicContext,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  validateTopicBid,
  WRONG_TOPIC_CODE
} from '../../protocol/bid/index.js'
import type { BookSnapshot, MatchableBid } from '../../protocol/matching/index.js'
import { idBytes } from './digest.js'
import { SyncCode } from './errors.js'

/** One live bid as sync serves it. */
export interface SyncEntry {
  /** Bid id, 64 lowercase hex digits (BID-19). */
  readonly id: string
  /** The signed bid exactly as received: `document LF signature`. */
  readonly bytes: Uint8Array
  /** Expiry, ms since the epoch; the bid is live while `nowMs < expiresMs`. */
  readonly expiresMs: number
}

/** What the book decided about a bid offered by sync, in validator terms (STYLE.md). */
export type SyncAddResult = { result: 'accept' } | { result: 'ignore' | 'reject'; code: string }

/**
 * The bid book as bid sync sees it: the node's live book implements it (the coordinator wires
 * it); {@link MemorySyncBook} is the in-memory implementation for tests and benchmarks.
 */
export interface SyncBook {
  /** The articles this node follows: synced on start and on the first connections. */
  articles(): readonly string[]
  /** The live bids (`expiresMs > nowMs`) of `article`; the responder serves exactly these. */
  liveBids(article: string, nowMs: number): readonly SyncEntry[]
  /**
   * Offers a signed bid received by sync for `article`. It must go through the normal bid
   * validator (never trust the responder): reject for invalid bytes or a bid of another article,
   * ignore for expired, future-dated or duplicate bids. Synced bids are not re-gossiped.
   */
  addBid(article: string, bytes: Uint8Array, nowMs: number): SyncAddResult
}

/**
 * The matching state sync can transfer (SYNC-11). Optional: without it the node matches from
 * its own view.
 */
export interface SyncSnapshots {
  /** Match keys (`<article>:<currency>`) of `article` whose snapshots a joiner pulls. */
  keys(article: string): readonly string[]
  /** The book's state after its last matched epoch (MATCH-16); undefined for an unknown key. */
  snapshot(key: string): BookSnapshot | undefined
  /** The matchable form of a bid this node holds and has validated; undefined if unknown. */
  matchable(key: string, id: string): MatchableBid | undefined
  /**
   * Restores the matching book of `snapshot.key` (throws `MATCH_BAD_SNAPSHOT` if inconsistent);
   * `rejoin` when a chain check found the book off the network's chain (SYNC-15).
   */
  adopt(snapshot: BookSnapshot, rejoin?: boolean): void
  /**
   * The digest this node's book `key` had after `epoch` (MATCH-13), undefined when it has not
   * matched that epoch or no longer remembers it. Without it there are no chain checks (SYNC-15).
   */
  digestAt?(key: string, epoch: number): string | undefined
}

/** Options of {@link validateSyncedBid} and {@link MemorySyncBook}. */
export type SyncValidationOptions = Omit<
  BidTopicContext,
  'nowMs' | 'maxClockSkewMs' | 'lateCutoffMs' | 'article'
> & {
  /** Allowance for bids dated in the future (BID-15); default GOSSIP-3's 5 s. */
  readonly maxClockSkewMs?: number
}

/**
 * The normal bid validator for a bid received by sync (SYNC-8): protocol/bid's
 * `validateTopicBid`, the bid topic's validator, with the session's article and without the late
 * cutoff (a synced bid rests in a closed epoch by design; it is stored, never forwarded, and the
 * matcher keeps ignoring it as late, MATCH-4). A bid of another article is rejected with the
 * code SYNC-8 names for it, `SYNC_WRONG_ARTICLE`.
 */
export function validateSyncedBid(
  article: string,
  bytes: Uint8Array,
  nowMs: number,
  opts: SyncValidationOptions = {}
): { result: 'accept'; bid: Bid } | { result: 'ignore' | 'reject'; code: string } {
  const r = validateTopicBid(bytes, {
    ...opts,
    article,
    nowMs,
    maxClockSkewMs: opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS
  })
  // [REJECT] SYNC-8: the bid must belong to the session's article (its signer chose it).
  if (r.result === 'reject' && r.code === WRONG_TOPIC_CODE)
    return { result: 'reject', code: SyncCode.WRONG_ARTICLE }
  return r
}

interface Held {
  readonly entry: SyncEntry
  readonly bid: Bid
}

/**
 * An in-memory {@link SyncBook} backed by {@link validateSyncedBid}: for tests, benchmarks and
 * as the reference behaviour of the real book. Bounded by `maxPerArticle` (invariant 10).
 */
export class MemorySyncBook implements SyncBook {
  private readonly byArticle = new Map<string, Map<string, Held>>()
  private readonly followed: string[]

  constructor(
    articles: readonly string[],
    private readonly opts: SyncValidationOptions & { readonly maxPerArticle?: number } = {}
  ) {
    this.followed = [...articles]
  }

  /** @inheritdoc */
  articles(): readonly string[] {
    return this.followed
  }

  /** @inheritdoc */
  liveBids(article: string, nowMs: number): readonly SyncEntry[] {
    const out: SyncEntry[] = []
    for (const h of this.byArticle.get(article)?.values() ?? [])
      if (h.entry.expiresMs > nowMs) out.push(h.entry)
    return out
  }

  /** @inheritdoc */
  addBid(article: string, bytes: Uint8Array, nowMs: number): SyncAddResult {
    const held = this.byArticle.get(article)
    const r = validateSyncedBid(article, bytes, nowMs, {
      ...this.opts,
      isDuplicate: (id) => held?.has(id) === true
    })
    if (r.result !== 'accept') return r
    let map = held
    if (map === undefined) {
      map = new Map()
      this.byArticle.set(article, map)
    }
    if (map.size >= (this.opts.maxPerArticle ?? 100_000)) {
      this.prune(nowMs)
      // full of live bids: a bound, not the sender's fault
      if (map.size >= (this.opts.maxPerArticle ?? 100_000))
        return { result: 'ignore', code: SyncCode.BOOK_FULL }
    }
    map.set(r.bid.id, {
      entry: { id: r.bid.id, bytes: Uint8Array.from(bytes), expiresMs: r.bid.expiresMs },
      bid: r.bid
    })
    return { result: 'accept' }
  }

  /**
   * Stores a bid as if it arrived at `atMs` (tests: seeds a responder with bids that have
   * expired since, to prove they are not served). Every check still runs at `atMs`.
   */
  seed(article: string, bytes: Uint8Array, atMs: number): SyncAddResult {
    return this.addBid(article, bytes, atMs)
  }

  /** True when the book holds bid `id` (hex) of `article`, live or not. */
  has(article: string, id: string): boolean {
    return this.byArticle.get(article)?.has(id) === true
  }

  /** The validated bid `id` of `article`, if held. */
  bid(article: string, id: string): Bid | undefined {
    return this.byArticle.get(article)?.get(id)?.bid
  }

  /** Number of bids held for `article` (live or not). */
  size(article: string): number {
    return this.byArticle.get(article)?.size ?? 0
  }

  /** Drops expired bids. */
  prune(nowMs: number): void {
    for (const map of this.byArticle.values())
      for (const [id, h] of map) if (h.entry.expiresMs <= nowMs) map.delete(id)
  }
}

/** Raw id bytes of a {@link SyncEntry} (its hex id was produced by BID-19, so it decodes). */
export function entryIdBytes(entry: SyncEntry): Uint8Array {
  const b = idBytes(entry.id)
  if (b === undefined) throw new Error(`book bug: bad bid id ${entry.id}`)
  return b
}
