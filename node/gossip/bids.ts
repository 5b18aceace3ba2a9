import {
  type Bid,
  CANCEL_KIND,
  type Cancel,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  type FeeRatio,
  validateBid,
  validateCancel
} from '../../protocol/bid/index.js'
import type { Network } from '../../protocol/identity/index.js'
import { BookCodes } from '../market/book.js'
import type { MessageValidator, ValidationResult } from './types.js'

/** GOSSIP-3: the protocol's default clock allowance (BID-15), re-exported for the node. */
export { DEFAULT_MAX_CLOCK_SKEW_MS }

/** Options of {@link bidTopicValidator}. */
export interface BidTopicValidatorOptions {
  /** Allowance for documents dated in the future, ms (BID-15, CANCEL-7). */
  maxClockSkewMs?: number
  /** Bids created longer ago than this are ignored (BID-16, the matcher's closed epochs). */
  lateCutoffMs?: number
  /** Network fee ratio for the price range check (BID-7). */
  feeRatio?: FeeRatio
  /** Address network of the market; default mainnet. */
  network?: Network
  /** True when a bid or cancel id was seen before (BID-17, CANCEL-9): e.g. the bid book. */
  isDuplicate?: (id: string) => boolean
  /** Called with every accepted bid (before GossipSub forwards it). */
  onBid?: (bid: Bid) => void
  /** Called with every accepted cancel. */
  onCancel?: (cancel: Cancel) => void
}

const CANCEL_PREFIX = new TextEncoder().encode(`kind=${CANCEL_KIND}&`)

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.byteLength < prefix.byteLength) return false
  for (let i = 0; i < prefix.byteLength; i++) if (data[i] !== prefix[i]) return false
  return true
}

/**
 * The validator of a bid topic (GOSSIP-3): a bid topic carries signed bids and signed cancels,
 * told apart by their leading `kind=` field. Bids run `protocol/bid`'s `validateBid` (cheap
 * checks first, signature last) and must name the topic's article (`BOOK_WRONG_TOPIC`,
 * reject: the author chose the topic; the same code as the node's book validator, MARKET-3); cancels run `validateCancel`.
 */
export function bidTopicValidator(opts: BidTopicValidatorOptions = {}): MessageValidator {
  const maxClockSkewMs = opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS
  const common = {
    maxClockSkewMs,
    ...(opts.isDuplicate !== undefined ? { isDuplicate: opts.isDuplicate } : {}),
    ...(opts.network !== undefined ? { network: opts.network } : {})
  }
  return (data, ctx): ValidationResult => {
    if (startsWith(data, CANCEL_PREFIX)) {
      const r = validateCancel(data, { ...common, nowMs: ctx.nowMs })
      if (r.result !== 'accept') return r
      opts.onCancel?.(r.cancel)
      return { result: 'accept' }
    }
    // anything else is judged as a bid: a wrong kind is the bid validator's BID-3 reject
    const r = validateBid(data, {
      ...common,
      nowMs: ctx.nowMs,
      ...(opts.lateCutoffMs !== undefined ? { lateCutoffMs: opts.lateCutoffMs } : {}),
      ...(opts.feeRatio !== undefined ? { feeRatio: opts.feeRatio } : {})
    })
    if (r.result !== 'accept') return r
    // [REJECT] GOSSIP-3: a bid travels only on its own article's topic
    if (r.bid.article !== ctx.article) return { result: 'reject', code: BookCodes.WRONG_TOPIC }
    opts.onBid?.(r.bid)
    return { result: 'accept' }
  }
}
