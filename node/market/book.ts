import { createHash } from 'node:crypto'
import { matchKey } from '../../protocol/article/index.js'
import {
  type Bid,
  type Cancel,
  cancelApplies,
  encodeSigned,
  validateBidTopicMessage,
  WRONG_TOPIC_CODE
} from '../../protocol/bid/index.js'
import { BitwrkError } from '../../protocol/errors.js'
import type { Network } from '../../protocol/identity/index.js'
import {
  type BookSnapshot,
  type EpochParams,
  type EpochResult,
  type Match,
  Matcher,
  matchableOf
} from '../../protocol/matching/index.js'
import type { ValidationContext, ValidationResult } from '../gossip/types.js'
import type { Logger } from '../logger.js'
import { codeLabel } from '../metrics.js'
import type { MarketMetrics } from './metrics.js'

/** Error and ignore codes of the bid book (`BOOK_*`, MARKET-3 … MARKET-5). */
export const BookCode = {
  /** MARKET-5: the book holds `maxBids` live bids; the bid is dropped. */
  FULL: 'BOOK_FULL',
  /** MARKET-5: the participant already has `maxBidsPerParticipant` live bids. */
  PARTICIPANT_LIMIT: 'BOOK_PARTICIPANT_LIMIT',
  /** MARKET-3: the bid's or cancelled bid's article is not the article of its topic. */
  WRONG_TOPIC: WRONG_TOPIC_CODE,
  /** MARKET-3: the article is not followed by this node. */
  NOT_FOLLOWED: 'BOOK_NOT_FOLLOWED',
  /** MARKET-4: a cancel names a bid this book does not hold (unknown or already terminal). */
  UNKNOWN_BID: 'BOOK_UNKNOWN_BID',
  /** MARKET-4: a validly signed cancel names a bid of another participant. */
  NOT_OWNER: 'BOOK_CANCEL_NOT_OWNER'
} as const

/** A live (pending or resting) bid with its exact signed bytes, as the book holds it. */
export interface LiveBid {
  /** The validated bid. */
  readonly bid: Bid
  /** Its wire bytes exactly as validated (what book sync sends). */
  readonly bytes: Uint8Array
  /** Match key `<article>:<currency>`. */
  readonly key: string
}

/** A match with both live bids, as produced by {@link BidBook.advance}. */
export interface BookMatch {
  /** The engine's match. */
  readonly match: Match
  /** The BUY bid. */
  readonly buy: LiveBid
  /** The SELL bid. */
  readonly sell: LiveBid
}

/** One epoch result of one book, with the matched bids resolved. */
export interface BookEpoch {
  /** The engine's result (digest included). */
  readonly result: EpochResult
  /** Article of the book. */
  readonly article: string
  /** The result's matches with their bids. */
  readonly matches: readonly BookMatch[]
}

/** Options of {@link BidBook}. */
export interface BidBookOptions {
  /** Epoch parameters of the network (MATCH-1, MATCH-2). */
  readonly params: EpochParams
  /** Allowed clock difference for bids and cancels dated in the future (BID-15). */
  readonly maxClockSkewMs: number
  /** Most live bids over all articles (MARKET-5). */
  readonly maxBids: number
  /** Most live bids of one participant (MARKET-5, MATCH-15). */
  readonly maxBidsPerParticipant: number
  /** Address network; default mainnet. */
  readonly network?: Network
  /** Metric families. */
  readonly metrics: MarketMetrics
  /** Parent logger. */
  readonly logger: Logger
}

/** Defaults of the book bounds (MARKET-5). */
export const DEFAULT_BOOK_LIMITS = {
  /** 100 k live bids of ~1 KiB with their bytes and heap entries stay well under 256 MB. */
  maxBids: 100_000,
  /** The original client kept one unmatched bid per article and side (notes §3); 64 leaves room. */
  maxBidsPerParticipant: 64
} as const

/** Result of offering bytes to the book: a validation result plus the admitted bid or cancel. */
export type BookAddResult =
  | { readonly result: 'accept'; readonly bid?: Bid; readonly cancel?: Cancel }
  | { readonly result: 'ignore' | 'reject'; readonly code: string }

/**
 * The live bid book of the followed articles (MARKET-2 … MARKET-5): admits bids and cancels
 * from gossip (through {@link validateGossip}, the bid-topic validator), from book sync
 * ({@link addBidBytes}) and from the node itself, bounds its size, feeds the deterministic
 * {@link Matcher} and forgets bids when they match, expire or are cancelled.
 */
export class BidBook {
  /** The deterministic epoch engine over every match key of the followed articles. */
  readonly matcher: Matcher
  private readonly opts: BidBookOptions
  private readonly log: Logger
  private readonly live = new Map<string, LiveBid>()
  /**
   * Valid bids pulled by book sync whose epoch is closed here (MARKET-6): held for serving and
   * for a snapshot to name as resting, not matched until a snapshot puts them in the matcher.
   */
  private readonly synced = new Map<string, LiveBid>()
  private readonly perParticipant = new Map<string, number>()
  private readonly followed = new Set<string>()

  constructor(opts: BidBookOptions) {
    this.opts = opts
    this.matcher = new Matcher(opts.params)
    this.log = opts.logger.child({ module: 'book' })
  }

  /** Follows `article`: its bids are admitted from now on. */
  follow(article: string): void {
    this.followed.add(article)
  }

  /** Stops admitting bids of `article` (live ones stay until terminal). */
  unfollow(article: string): void {
    this.followed.delete(article)
  }

  /** The followed articles, sorted. */
  articles(): string[] {
    return [...this.followed].sort()
  }

  /** True when `article` is followed. */
  follows(article: string): boolean {
    return this.followed.has(article)
  }

  /** Number of live bids. */
  get size(): number {
    return this.live.size
  }

  /** The live bid with `id`, if any. */
  get(id: string): LiveBid | undefined {
    return this.live.get(id)
  }

  /** A live or synced bid with `id`, if any. */
  held(id: string): LiveBid | undefined {
    return this.live.get(id) ?? this.synced.get(id)
  }

  /** Live and synced bids of `article` alive at `nowMs`, in id order: what book sync serves. */
  servedBids(article: string, nowMs: number): LiveBid[] {
    return [...this.live.values(), ...this.synced.values()]
      .filter((l) => l.bid.article === article && l.bid.expiresMs > nowMs)
      .sort(byId)
  }

  /**
   * Holds a bid that book sync validated (MARKET-6): admitted like a gossiped bid when its
   * epoch is still open here; otherwise kept (within the same bounds) but not matched, so that
   * it can be served and named by an adopted snapshot. Ignores duplicates with BID_DUPLICATE.
   */
  addSynced(bid: Bid, bytes: Uint8Array, nowMs: number): BookAddResult {
    if (this.live.has(bid.id) || this.synced.has(bid.id)) return { result: 'ignore', code: 'BID_DUPLICATE' }
    const r = this.admit(bid, bytes, nowMs)
    if (r.result === 'accept' || r.code !== 'MATCH_LATE') return r
    if (this.live.size + this.synced.size >= this.opts.maxBids)
      return { result: 'ignore', code: BookCode.FULL }
    this.synced.set(bid.id, { bid, bytes, key: matchKey(bid.article, bid.price.currency) })
    return { result: 'accept', bid }
  }

  /**
   * Replaces the matching book of `snapshot.key` (MATCH-16, adopted by book sync): its resting
   * bids must all be held here (live or synced). Pending bids of still open epochs are offered
   * to the new book again; held bids the snapshot no longer names are dropped from matching.
   * Throws MATCH_BAD_SNAPSHOT for an inconsistent snapshot or one naming a bid not held.
   */
  adoptSnapshot(snapshot: BookSnapshot, nowMs: number): void {
    for (const m of snapshot.resting)
      if (this.held(m.id) === undefined)
        throw new BitwrkError('MATCH_BAD_SNAPSHOT', 'snapshot names a bid not held', { key: snapshot.key })
    this.matcher.restore(snapshot)
    const resting = new Set(snapshot.resting.map((m) => m.id))
    for (const [id, l] of [...this.live]) {
      if (l.key !== snapshot.key || resting.has(id)) continue
      // A bid of an epoch the snapshot has not matched yet stays pending; any other left the book.
      if (this.matcher.add(l.key, matchableOf(l.bid), nowMs).result !== 'accept') this.forget(id)
    }
    for (const id of resting) {
      const l = this.synced.get(id)
      if (l === undefined) continue
      this.synced.delete(id)
      this.live.set(id, l)
      this.perParticipant.set(l.bid.address, (this.perParticipant.get(l.bid.address) ?? 0) + 1)
    }
    this.opts.metrics.bookSize.set(this.live.size)
  }

  /** Live bids (pending or resting) of match key `key`. */
  liveOf(key: string): LiveBid[] {
    return [...this.live.values()].filter((l) => l.key === key)
  }

  /** Live bids of `article` (every currency), in id order: what book sync serves. */
  liveBids(article: string): LiveBid[] {
    return [...this.live.values()].filter((l) => l.bid.article === article).sort(byId)
  }

  /**
   * Digest of the live set of `article` (MARKET-6): lowercase hex SHA-256 of the sorted live
   * bid ids, each as 64 hex characters followed by LF. Two books with one digest hold the same bids.
   */
  liveDigest(article: string): string {
    const h = createHash('sha256')
    for (const l of this.liveBids(article)) h.update(`${l.bid.id}\n`)
    return h.digest('hex')
  }

  /**
   * The bid-topic gossip validator (DESIGN.md invariant 3): a signed cancel or a signed bid,
   * validated cheap checks first and signature last, then admitted to the book. Ignore and
   * reject are never forwarded; a late bid is ignored (BID_TOO_LATE, MATCH_LATE).
   */
  validateGossip(data: Uint8Array, ctx: ValidationContext): ValidationResult {
    const r = this.addBytes(data, ctx.nowMs, ctx.article)
    return r.result === 'accept' ? { result: 'accept' } : r
  }

  /**
   * Offers signed bid or cancel bytes received by book sync or gossip at `nowMs` (MARKET-3):
   * the same checks and admission as {@link validateGossip}. `article` is the topic's article
   * (the bid must name it); without it, any followed article.
   */
  addBidBytes(data: Uint8Array, nowMs: number, article?: string): BookAddResult {
    return this.addBytes(data, nowMs, article)
  }

  /**
   * Admits the node's own freshly signed bid (no signature check: we just made it). Throws a
   * BitwrkError with the ignore code (BOOK_FULL, BOOK_PARTICIPANT_LIMIT, MATCH_LATE, …).
   */
  addOwnBid(bid: Bid, nowMs: number): LiveBid {
    const r = this.admit(bid, encodeSigned(bid), nowMs)
    if (r.result !== 'accept') throw new BitwrkError(r.code, 'own bid not admitted', { bidId: bid.id })
    return this.live.get(bid.id) as LiveBid
  }

  /** Queues the node's own signed cancel; throws a BitwrkError with the ignore code. */
  addOwnCancel(cancel: Cancel, nowMs: number): void {
    const r = this.admitCancel(cancel, nowMs, undefined)
    if (r.result !== 'accept')
      throw new BitwrkError(r.code, 'own cancel not admitted', { bidId: cancel.bidId })
  }

  /**
   * Runs the epoch engine up to `nowMs` (MATCH-2) and forgets bids that matched, expired or
   * were cancelled. Results are in epoch, then key order, each with its matched bids.
   */
  advance(nowMs: number): BookEpoch[] {
    const out: BookEpoch[] = []
    for (const result of this.matcher.advance(nowMs)) {
      const matches: BookMatch[] = []
      for (const match of result.matches) {
        const buy = this.live.get(match.buyId)
        const sell = this.live.get(match.sellId)
        // Every matched bid was admitted through this book, so both are live until here.
        if (buy === undefined || sell === undefined) throw new Error('matched bid missing from the book')
        matches.push({ match, buy, sell })
        this.forget(match.buyId)
        this.forget(match.sellId)
      }
      for (const id of result.expired) this.forget(id)
      for (const id of result.cancelled) this.forget(id)
      const article = result.key.slice(0, result.key.lastIndexOf(':'))
      out.push({ result, article, matches })
    }
    for (const [id, l] of this.synced) if (l.bid.expiresMs <= nowMs) this.synced.delete(id)
    this.opts.metrics.bookSize.set(this.live.size)
    return out
  }

  private addBytes(data: Uint8Array, nowMs: number, article: string | undefined): BookAddResult {
    const r = this.offer(data, nowMs, article)
    this.opts.metrics.bids.inc({ result: r.result, code: r.result === 'accept' ? 'OK' : codeLabel(r.code) })
    return r
  }

  private offer(data: Uint8Array, nowMs: number, article: string | undefined): BookAddResult {
    const { params, maxClockSkewMs, network } = this.opts
    // MARKET-3: a cancel (MARKET-4) or a bid, [IGNORE] BID-14 … BID-17, [REJECT] BID-1 … BID-13,
    // BID-18 and the bid's topic: cheap checks, signature last. The cutoff epochMs + settleMs
    // never ignores a bid that MATCH-4 would still take; the exact epoch check follows in the
    // matcher.
    const v = validateBidTopicMessage(data, {
      nowMs,
      maxClockSkewMs,
      lateCutoffMs: params.epochMs + params.settleMs,
      isDuplicate: (id) => this.live.has(id),
      ...(article !== undefined ? { article } : {}),
      ...(network !== undefined ? { network } : {})
    })
    if (v.result !== 'accept') return v
    return v.cancel !== undefined
      ? this.admitCancel(v.cancel, nowMs, article)
      : this.admit(v.bid, data, nowMs)
  }

  private admit(bid: Bid, bytes: Uint8Array, nowMs: number): BookAddResult {
    // [IGNORE] MARKET-3: only followed articles are booked (and forwarded).
    if (!this.followed.has(bid.article)) return { result: 'ignore', code: BookCode.NOT_FOLLOWED }
    // [IGNORE] MARKET-5: bounded book; a full book is no proof of misbehaviour.
    if (this.live.size >= this.opts.maxBids) {
      this.log.warn({ limit: this.opts.maxBids }, 'bid book full')
      return { result: 'ignore', code: BookCode.FULL }
    }
    if ((this.perParticipant.get(bid.address) ?? 0) >= this.opts.maxBidsPerParticipant)
      return { result: 'ignore', code: BookCode.PARTICIPANT_LIMIT }
    const key = matchKey(bid.article, bid.price.currency)
    // [IGNORE] MATCH-4: late (epoch closed) or already pending.
    const a = this.matcher.add(key, matchableOf(bid), nowMs)
    if (a.result !== 'accept') return a
    this.live.set(bid.id, { bid, bytes, key })
    this.perParticipant.set(bid.address, (this.perParticipant.get(bid.address) ?? 0) + 1)
    this.opts.metrics.bookSize.set(this.live.size)
    return { result: 'accept', bid }
  }

  private admitCancel(cancel: Cancel, nowMs: number, article: string | undefined): BookAddResult {
    const target = this.live.get(cancel.bidId)
    // [IGNORE] MARKET-4: unknown or terminal bid (we may not have seen it; no proof of anything).
    if (target === undefined) return { result: 'ignore', code: BookCode.UNKNOWN_BID }
    // [REJECT] MARKET-4: signed by someone else than the bidder.
    if (!cancelApplies(cancel, target.bid)) return { result: 'reject', code: BookCode.NOT_OWNER }
    // [REJECT] MARKET-3: a cancel travels on its bid's topic.
    if (article !== undefined && target.bid.article !== article)
      return { result: 'reject', code: BookCode.WRONG_TOPIC }
    // [IGNORE] MATCH-4 / MATCH-10: late or already queued.
    const a = this.matcher.cancel(
      target.key,
      { bidId: cancel.bidId, bidCreatedMs: target.bid.createdMs, createdMs: cancel.createdMs },
      nowMs
    )
    if (a.result !== 'accept') return a
    return { result: 'accept', cancel }
  }

  private forget(id: string): void {
    const l = this.live.get(id)
    if (l === undefined) return
    this.live.delete(id)
    const n = (this.perParticipant.get(l.bid.address) ?? 1) - 1
    if (n <= 0) this.perParticipant.delete(l.bid.address)
    else this.perParticipant.set(l.bid.address, n)
  }
}

function byId(a: LiveBid, b: LiveBid): number {
  return a.bid.id < b.bid.id ? -1 : a.bid.id > b.bid.id ? 1 : 0
}
