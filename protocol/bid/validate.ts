import {
  bytesEqual,
  decodeCompactSignature,
  hash160,
  messageDigest,
  type Network,
  recoverPublicKey,
  tryDecodeAddress,
  tryPeerIdKeyBytes
} from '../identity/index.js'
import { type Bid, decodeBidBytes } from './document.js'
import { BidCode, type BidErrorCode } from './errors.js'
import type { FeeRatio } from './fee.js'

/**
 * What {@link validateBid} decides (STYLE.md; maps 1:1 to GossipSub Accept / Ignore / Reject):
 * the decoded bid on accept, the first failing rule's code otherwise.
 */
export type BidValidation =
  | { result: 'accept'; bid: Bid }
  | { result: 'ignore'; code: BidErrorCode }
  | { result: 'reject'; code: BidErrorCode }

/**
 * BID-15 / GOSSIP-3: the default allowance for bids and cancels dated in the future. Clocks of
 * honest nodes synchronised by NTP differ by well under a second; 5 s leaves room for slow hosts
 * without letting a bid claim a later epoch (DESIGN.md invariant 4).
 */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 5000

/** Inputs of {@link validateBid}; time is an argument, the pure core reads no clock. */
export interface BidValidationContext {
  /** Current time, ms since the Unix epoch. */
  readonly nowMs: number
  /** Allowed clock difference for bids dated in the future (BID-15). */
  readonly maxClockSkewMs: number
  /**
   * True when a bid with this id was already seen (BID-17). Default: never. Record ids only
   * after accept: this check runs before the signature, so a forged copy must not count.
   */
  readonly isDuplicate?: (id: string) => boolean
  /** Bids created before `nowMs − lateCutoffMs` are ignored (BID-16: their epoch closed). */
  readonly lateCutoffMs?: number
  /** Network fee ratio for the price range check (BID-7); default 0. */
  readonly feeRatio?: FeeRatio
  /** Address network of the market (BID-8); default mainnet. */
  readonly network?: Network
}

/**
 * Validates one encoded signed bid (spec protocol/spec/bids.md): cheap checks first, in rule
 * order BID-1 … BID-17, the signature (BID-18) last. Ignore = drop without blame (time,
 * duplicates); reject = the bytes are provably invalid.
 */
export function validateBid(bytes: Uint8Array, ctx: BidValidationContext): BidValidation {
  // [REJECT] BID-1 … BID-13: size, encoding, kind, grammar and every field.
  const decoded = decodeBidBytes(bytes, ctx)
  if (typeof decoded === 'string') return { result: 'reject', code: decoded }
  const { bid } = decoded
  // [IGNORE] BID-14: already expired.
  if (bid.expiresMs <= ctx.nowMs) return { result: 'ignore', code: BidCode.expired }
  // [IGNORE] BID-15: dated in the future beyond the clock allowance (clocks differ; not malice).
  if (bid.createdMs > ctx.nowMs + ctx.maxClockSkewMs) return { result: 'ignore', code: BidCode.fromFuture }
  // [IGNORE] BID-16: created before the late cutoff, its epoch is closed (invariant 4).
  if (ctx.lateCutoffMs !== undefined && bid.createdMs < ctx.nowMs - ctx.lateCutoffMs)
    return { result: 'ignore', code: BidCode.tooLate }
  // [IGNORE] BID-17: seen before (same document; a malleated signature has the same id).
  if (ctx.isDuplicate?.(bid.id)) return { result: 'ignore', code: BidCode.duplicate }
  // [REJECT] BID-18: the signature must recover exactly the peer's (= participant's) key.
  if (!signatureMatchesKey(bid.signature, decoded.docBytes, decoded.peerKey))
    return { result: 'reject', code: BidCode.badSignature }
  return { result: 'accept', bid }
}

/**
 * True when `signature` is a compressed-key (header 31..34) compact signature of `document`
 * that recovers exactly `compressedKey` (33 bytes). Comparing key bytes is the same as
 * comparing hash160s when the key already hashes to the address, and cheaper.
 */
export function signatureMatchesKey(
  signature: string,
  document: Uint8Array,
  compressedKey: Uint8Array
): boolean {
  const sig = decodeCompactSignature(signature)
  if (sig === undefined || !sig.compressed) return false
  const pub = recoverPublicKey(sig.rs, sig.recid, messageDigest(document), true)
  return pub !== undefined && bytesEqual(pub, compressedKey)
}

/**
 * True when `bid.signature` is valid for its document and its peer's key, and that key
 * hashes to the participant address (BID-10 and BID-18 alone, for bids built in memory).
 */
export function verifyBidSignature(bid: Bid): boolean {
  const peer = tryPeerIdKeyBytes(bid.peerId)
  const addr = tryDecodeAddress(bid.address)
  if (!peer.ok || !addr.ok || !bytesEqual(hash160(peer.publicKey), addr.hash160)) return false
  return signatureMatchesKey(bid.signature, asciiBytes(bid.document), peer.publicKey)
}

function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0))
}
