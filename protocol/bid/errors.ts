import { BitwrkError } from '../errors.js'

/**
 * Error codes of `protocol/bid` (spec: protocol/spec/bids.md). Each is either an IGNORE
 * (not provable misbehaviour: time, duplicates) or a REJECT (the bytes themselves are invalid,
 * so whoever forwarded them misbehaved); see {@link BID_IGNORE_CODES}.
 */
export const BidCode = {
  /** BID-1: encoded signed bid or cancel larger than its maximum size. */
  tooLarge: 'BID_TOO_LARGE',
  /** BID-2 / BID-4: not `document \n signature`, non-ASCII, wrong field names or order, non-canonical escaping. */
  malformed: 'BID_MALFORMED',
  /** BID-3: the document's `kind` is not the expected kind (e.g. a cancel given as a bid). */
  wrongKind: 'BID_WRONG_KIND',
  /** BID-5: the article name breaks the article rules (ART-1 … ART-4). */
  badArticle: 'BID_BAD_ARTICLE',
  /** BID-6: type is not exactly `BUY` or `SELL`. */
  badType: 'BID_BAD_TYPE',
  /** BID-7: price is not canonical compact money, or is negative. */
  badPrice: 'BID_BAD_PRICE',
  /** BID-7: price plus fee exceeds the largest money amount. */
  priceOutOfRange: 'BID_PRICE_OUT_OF_RANGE',
  /** BID-8: the participant address does not decode or is of another network. */
  badAddress: 'BID_BAD_ADDRESS',
  /** BID-9: the peer id is not a secp256k1 libp2p peer id. */
  badPeerId: 'BID_BAD_PEER_ID',
  /** BID-10: the peer id's key does not hash to the participant address. */
  peerMismatch: 'BID_PEER_MISMATCH',
  /** BID-11: the nonce is not 32 lowercase hex digits. */
  badNonce: 'BID_BAD_NONCE',
  /** BID-12: created/expires not canonical integers, or expires <= created. */
  badTime: 'BID_BAD_TIME',
  /** BID-13: expires − created exceeds the maximum lifetime (120 s). */
  lifetimeTooLong: 'BID_LIFETIME_TOO_LONG',
  /** BID-14: already expired at validation time. */
  expired: 'BID_EXPIRED',
  /** BID-15: created further in the future than the allowed clock skew. */
  fromFuture: 'BID_FROM_FUTURE',
  /** BID-16: created before the late cutoff (its matching epoch is closed). */
  tooLate: 'BID_TOO_LATE',
  /** BID-17: a bid (or cancel) with this id was seen before. */
  duplicate: 'BID_DUPLICATE',
  /** BID-18 / CANCEL-10: the signature is malformed or not by the participant's key. */
  badSignature: 'BID_BAD_SIGNATURE',
  /** CANCEL-4: the cancelled bid id is not 64 lowercase hex digits. */
  badBidId: 'BID_BAD_BID_ID'
} as const

/** One of the {@link BidCode} values. */
export type BidErrorCode = (typeof BidCode)[keyof typeof BidCode]

/** Codes that mean IGNORE (drop, do not forward, do not penalise); every other code is REJECT. */
export const BID_IGNORE_CODES: ReadonlySet<BidErrorCode> = new Set([
  BidCode.expired,
  BidCode.fromFuture,
  BidCode.tooLate,
  BidCode.duplicate
])

/** Throws a {@link BitwrkError} carrying a bid error code. */
export function bidError(code: BidErrorCode, message: string, details: Record<string, unknown> = {}): never {
  throw new BitwrkError(code, message, details)
}
