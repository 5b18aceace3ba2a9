/**
 * Glue between the node's bid book and book sync (issue 4 §3, protocol/spec/sync.md): the
 * {@link BidBook} seen as a {@link SyncBook} (serve live bids, admit synced ones through the
 * normal validator) and as {@link SyncSnapshots} (serve and adopt the matching state, SYNC-11),
 * so that a late joiner holds the bids that rest in epochs it never saw.
 */
import { matchKey, parseMatchKey } from '../protocol/article/index.js'
import type { Bid } from '../protocol/bid/index.js'
import type { Network } from '../protocol/identity/index.js'
import type { BookSnapshot, MatchableBid } from '../protocol/matching/index.js'
import type { BidBook } from './book.js'
import {
  matchableOf,
  type SyncAddResult,
  type SyncBook,
  type SyncEntry,
  type SyncSnapshots,
  validateSyncedBid
} from './sync/book.js'

/**
 * Ignore codes of the book that mean "valid, but its epoch is closed here": such a synced bid
 * is held aside until an agreed snapshot says it rests (BID-17 late cutoff, MATCH-4).
 */
const LATE_CODES = new Set(['BID_TOO_LATE', 'MATCH_LATE'])

/**
 * Most synced-but-late bids held aside waiting for a snapshot (invariant 10: every buffer is
 * bounded); the book's own default bound (100 000 bids) caps what could rest anyway.
 */
const MAX_HELD = 100_000

interface Held {
  readonly bid: Bid
  readonly bytes: Uint8Array
}

/** Options of {@link NodeSyncBook}. */
export interface NodeSyncBookOptions {
  /** Allowance for future-dated bids, ms (BID-15); the node's value. */
  readonly maxClockSkewMs: number
  /** Address network of the market, when not mainnet. */
  readonly network?: Network
  /** Clock used when adopting a snapshot. */
  readonly now: () => number
}

/**
 * The node's {@link BidBook} as book sync sees it. Synced bids go through the book's own
 * validator (so they count in its metrics and limits); a valid bid the book ignores only
 * because its epoch is already closed is held aside, and booked when an agreed snapshot
 * (quorum of peers, SYNC-11) lists it as resting.
 */
export class NodeSyncBook implements SyncBook, SyncSnapshots {
  private readonly held = new Map<string, Held>()

  constructor(
    private readonly book: BidBook,
    private readonly opts: NodeSyncBookOptions
  ) {}

  /** @inheritdoc */
  articles(): readonly string[] {
    return this.book.articles()
  }

  /** @inheritdoc */
  liveBids(article: string, nowMs: number): readonly SyncEntry[] {
    const out: SyncEntry[] = []
    for (const l of this.book.liveBids(article))
      if (l.bid.expiresMs > nowMs) out.push({ id: l.bid.id, bytes: l.bytes, expiresMs: l.bid.expiresMs })
    return out
  }

  /** @inheritdoc */
  addBid(article: string, bytes: Uint8Array, nowMs: number): SyncAddResult {
    const r = this.book.addBidBytes(bytes, nowMs, article)
    if (r.result === 'accept') return { result: 'accept' }
    if (r.result === 'reject' || !LATE_CODES.has(r.code)) return r
    // SYNC-8: the same validator without the late cutoff; the bid waits for a snapshot.
    const v = validateSyncedBid(article, bytes, nowMs, {
      maxClockSkewMs: this.opts.maxClockSkewMs,
      isDuplicate: (id) => this.held.has(id),
      ...(this.opts.network !== undefined ? { network: this.opts.network } : {})
    })
    if (v.result !== 'accept') return v
    if (this.held.size >= MAX_HELD) this.prune(nowMs)
    if (this.held.size >= MAX_HELD) return { result: 'ignore', code: 'SYNC_BOOK_FULL' }
    this.held.set(v.bid.id, { bid: v.bid, bytes: Uint8Array.from(bytes) })
    return { result: 'accept' }
  }

  /** @inheritdoc */
  keys(article: string): readonly string[] {
    const keys = new Set(this.book.matcher.keys().filter((k) => parseMatchKey(k).article === article))
    for (const h of this.held.values())
      if (h.bid.article === article) keys.add(matchKey(article, h.bid.price.currency))
    return [...keys].sort()
  }

  /** @inheritdoc */
  snapshot(key: string): BookSnapshot | undefined {
    if (!this.book.matcher.keys().includes(key)) return undefined
    return this.book.matcher.book(key).snapshot()
  }

  /** @inheritdoc */
  matchable(key: string, id: string): MatchableBid | undefined {
    const live = this.book.get(id)
    if (live !== undefined) return live.key === key ? matchableOf(live.bid) : undefined
    const h = this.held.get(id)
    if (h === undefined || matchKey(h.bid.article, h.bid.price.currency) !== key) return undefined
    return matchableOf(h.bid)
  }

  /** @inheritdoc */
  adopt(snapshot: BookSnapshot): void {
    this.book.adoptSnapshot(snapshot, (id) => this.held.get(id), this.opts.now())
    for (const r of snapshot.resting) this.held.delete(r.id)
  }

  /** Bids held aside (valid, late, not yet in an adopted snapshot). */
  get heldCount(): number {
    return this.held.size
  }

  private prune(nowMs: number): void {
    for (const [id, h] of this.held) if (h.bid.expiresMs <= nowMs) this.held.delete(id)
  }
}
