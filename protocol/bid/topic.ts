import type { Network } from '../identity/index.js'
import { CANCEL_KIND, type Cancel, validateCancel } from './cancel.js'
import type { Bid } from './document.js'
import type { BidErrorCode } from './errors.js'
import type { FeeRatio } from './fee.js'
import { validateBid } from './validate.js'

/**
 * Code of a valid bid (or of a cancel's bid) whose article is not the article of the topic it
 * travels on (MARKET-3, GOSSIP-3): a reject, its author chose the topic. The bid book names it
 * `BookCodes.WRONG_TOPIC`.
 */
export const WRONG_TOPIC_CODE = 'BOOK_WRONG_TOPIC'

/** Code of {@link WRONG_TOPIC_CODE}'s type. */
export type WrongTopicCode = typeof WRONG_TOPIC_CODE

/** The leading bytes of every cancel on a bid topic (MARKET-3 step 1, GOSSIP-3). */
const CANCEL_PREFIX = Uint8Array.from(`kind=${CANCEL_KIND}&`, (c) => c.charCodeAt(0))

/**
 * True when bytes of a bid topic are to be judged as a cancel (MARKET-3 step 1): they start with
 * `kind=bitwrk-cancel-v1&`. Anything else is judged as a bid, so a wrong kind is the bid
 * validator's BID-3 reject.
 */
export function isCancelMessage(data: Uint8Array): boolean {
  if (data.length < CANCEL_PREFIX.length) return false
  for (let i = 0; i < CANCEL_PREFIX.length; i++) if (data[i] !== CANCEL_PREFIX[i]) return false
  return true
}

/** Inputs of {@link validateTopicBid} and {@link validateBidTopicMessage}. */
export interface BidTopicContext {
  /** Current time, ms since the Unix epoch. */
  readonly nowMs: number
  /** Allowed clock difference for bids and cancels dated in the future (BID-15, CANCEL-7). */
  readonly maxClockSkewMs: number
  /**
   * The article of the topic (or of the sync session): a bid must name it (MARKET-3). Without
   * it, a bid of any article passes.
   */
  readonly article?: string
  /** Bids created before `nowMs − lateCutoffMs` are ignored (BID-16); none when absent (sync). */
  readonly lateCutoffMs?: number
  /** True when a bid or cancel id was seen before (BID-17, CANCEL-9). Default: never. */
  readonly isDuplicate?: (id: string) => boolean
  /** Network fee ratio for the price range check (BID-7); default 0. */
  readonly feeRatio?: FeeRatio
  /** Address network of the market (BID-8, CANCEL-5); default mainnet. */
  readonly network?: Network
}

/** A failed validation: the first failing rule's code. */
export type TopicFailure =
  | { readonly result: 'ignore'; readonly code: BidErrorCode }
  | { readonly result: 'reject'; readonly code: BidErrorCode | WrongTopicCode }

/** Result of {@link validateTopicBid}: the decoded bid on accept. */
export type TopicBidValidation = { readonly result: 'accept'; readonly bid: Bid } | TopicFailure

/** Result of {@link validateBidTopicMessage}: the decoded bid or cancel on accept. */
export type BidTopicValidation =
  | { readonly result: 'accept'; readonly bid: Bid; readonly cancel?: undefined }
  | { readonly result: 'accept'; readonly cancel: Cancel; readonly bid?: undefined }
  | TopicFailure

/**
 * The bid validator of a bid topic and of book sync (MARKET-3 step 2 and 3, GOSSIP-3, SYNC-8):
 * `validateBid` (BID-1 … BID-18, cheap checks first, signature last), then [REJECT]
 * {@link WRONG_TOPIC_CODE} when the bid's article is not `ctx.article`.
 */
export function validateTopicBid(data: Uint8Array, ctx: BidTopicContext): TopicBidValidation {
  // the context is a BidValidationContext plus the article
  const r = validateBid(data, ctx)
  if (r.result !== 'accept') return r
  // [REJECT] MARKET-3 / GOSSIP-3: a bid travels only on its own article's topic.
  if (ctx.article !== undefined && r.bid.article !== ctx.article)
    return { result: 'reject', code: WRONG_TOPIC_CODE }
  return r
}

/**
 * The one validator of bid-topic bytes (MARKET-3, GOSSIP-3): a signed cancel
 * ({@link isCancelMessage}) runs `validateCancel` (CANCEL-1 … CANCEL-10); anything else runs
 * {@link validateTopicBid}. Whether a cancel's bid is known, is the signer's and is of the topic's
 * article (MARKET-4) needs the book, which checks it after this.
 */
export function validateBidTopicMessage(data: Uint8Array, ctx: BidTopicContext): BidTopicValidation {
  if (!isCancelMessage(data)) return validateTopicBid(data, ctx)
  // the context is a CancelValidationContext plus the bid-only fields
  return validateCancel(data, ctx)
}
