import {
  bytesEqual,
  decodeCompactSignature,
  hash160,
  messageDigest,
  type Network,
  recoverPublicKey,
  tryDecodeAddress
} from '../identity/index.js'
import { BID_MAX_LIFETIME_MS } from './document.js'
import { BidCode, type BidErrorCode } from './errors.js'
import { queryEscape } from './escape.js'
import { documentId, parseMillis, peekKind, splitFields, splitSigned } from './wire.js'

/** Domain tag of a cancel document (CANCEL-2): `kind=bitwrk-cancel-v1`. */
export const CANCEL_KIND = 'bitwrk-cancel-v1'

/** Field names of a cancel document in their only allowed order (CANCEL-3). */
export const CANCEL_FIELD_NAMES = ['kind', 'bid', 'address', 'created'] as const

/** Largest encoded signed cancel (CANCEL-1): a valid one is about 250 bytes. */
export const CANCEL_MAX_ENCODED_BYTES = 512

/** The signed content of a cancel: "participant withdraws bid `bidId`". */
export interface CancelFields {
  /** Id (hex SHA-256 of the document) of the cancelled bid. */
  readonly bidId: string
  /** The participant address; must equal the bid's address for the cancel to apply. */
  readonly address: string
  /** Creation time of the cancel, ms since the Unix epoch. */
  readonly createdMs: number
}

/** A decoded signed cancel. */
export interface Cancel extends CancelFields {
  /** Cancel id: hex SHA-256 of `document`. */
  readonly id: string
  /** The exact signed document text. */
  readonly document: string
  /** Base64 compact signature by `address`. */
  readonly signature: string
}

const BID_ID_RE = /^[0-9a-f]{64}$/

/** Document text of a cancel (fields assumed valid: the id is hex and the address Base58). */
export function cancelDocumentUnchecked(f: CancelFields): string {
  return `kind=${CANCEL_KIND}&bid=${f.bidId}&address=${queryEscape(f.address)}&created=${f.createdMs}`
}

/** Checks CANCEL-4 … CANCEL-6 on decoded fields; returns the first failing code. */
export function checkCancelFields(f: CancelFields, network: Network = 'mainnet'): BidErrorCode | undefined {
  // [REJECT] CANCEL-4: the bid id must be 64 lowercase hex digits.
  if (typeof f.bidId !== 'string' || !BID_ID_RE.test(f.bidId)) return BidCode.badBidId
  // [REJECT] CANCEL-5: the address must decode and belong to the market's network.
  const addr = tryDecodeAddress(f.address)
  if (!addr.ok || addr.network !== network) return BidCode.badAddress
  // [REJECT] CANCEL-6: created must be a canonical non-negative safe integer.
  if (!Number.isSafeInteger(f.createdMs) || f.createdMs < 0) return BidCode.badTime
  return undefined
}

/** Decodes a signed cancel, checking CANCEL-1 … CANCEL-6; returns the first failing code. */
export function decodeCancelBytes(
  bytes: Uint8Array,
  network: Network = 'mainnet'
): { cancel: Cancel; docBytes: Uint8Array; hash160: Uint8Array } | BidErrorCode {
  // [REJECT] CANCEL-1: size and `document LF signature` in printable ASCII (as BID-1, BID-2).
  const parts = splitSigned(bytes, CANCEL_MAX_ENCODED_BYTES)
  if (typeof parts === 'string') return parts
  // [REJECT] CANCEL-2: the first field must be kind=bitwrk-cancel-v1.
  const kind = peekKind(parts.document)
  if (kind === undefined) return BidCode.malformed
  if (kind !== CANCEL_KIND) return BidCode.wrongKind
  // [REJECT] CANCEL-3: exact field names and order; no value of a valid cancel needs escaping.
  const raw = splitFields(parts.document, CANCEL_FIELD_NAMES)
  if (raw === undefined) return BidCode.malformed
  const [, bidId, address, createdText] = raw as [string, string, string, string]
  const fields: CancelFields = { bidId, address, createdMs: parseMillis(createdText) ?? -1 }
  const code = checkCancelFields(fields, network)
  if (code !== undefined) return code
  // Valid values contain no escapable characters, so this only re-checks canonical form.
  if (cancelDocumentUnchecked(fields) !== parts.document) return BidCode.malformed
  const addr = tryDecodeAddress(address)
  if (!addr.ok) return BidCode.badAddress
  const cancel: Cancel = Object.freeze({
    ...fields,
    id: documentId(parts.docBytes),
    document: parts.document,
    signature: parts.signature
  })
  return { cancel, docBytes: parts.docBytes, hash160: addr.hash160 }
}

/** Inputs of {@link validateCancel}. */
export interface CancelValidationContext {
  /** Current time, ms since the Unix epoch. */
  readonly nowMs: number
  /** Allowed clock difference for cancels dated in the future (CANCEL-7). */
  readonly maxClockSkewMs: number
  /** True when a cancel with this id was already seen (CANCEL-9). */
  readonly isDuplicate?: (id: string) => boolean
  /** Address network of the market; default mainnet. */
  readonly network?: Network
}

/** Result of {@link validateCancel}: the decoded cancel on accept. */
export type CancelValidation =
  | { result: 'accept'; cancel: Cancel }
  | { result: 'ignore'; code: BidErrorCode }
  | { result: 'reject'; code: BidErrorCode }

/**
 * Validates one encoded signed cancel: CANCEL-1 … CANCEL-9 cheap checks, the signature
 * (CANCEL-10) last. Whether the bid exists and belongs to the same address is the book's
 * business ({@link cancelApplies}).
 */
export function validateCancel(bytes: Uint8Array, ctx: CancelValidationContext): CancelValidation {
  const decoded = decodeCancelBytes(bytes, ctx.network)
  if (typeof decoded === 'string') return { result: 'reject', code: decoded }
  const { cancel } = decoded
  // [IGNORE] CANCEL-7: dated in the future beyond the clock allowance.
  if (cancel.createdMs > ctx.nowMs + ctx.maxClockSkewMs) return { result: 'ignore', code: BidCode.fromFuture }
  // [IGNORE] CANCEL-8: older than any bid can live, so it can no longer cancel anything.
  if (cancel.createdMs < ctx.nowMs - BID_MAX_LIFETIME_MS - ctx.maxClockSkewMs)
    return { result: 'ignore', code: BidCode.expired }
  // [IGNORE] CANCEL-9: seen before.
  if (ctx.isDuplicate?.(cancel.id)) return { result: 'ignore', code: BidCode.duplicate }
  // [REJECT] CANCEL-10: the signature must recover a key hashing to the address.
  if (!signatureMatchesHash(cancel.signature, decoded.docBytes, decoded.hash160))
    return { result: 'reject', code: BidCode.badSignature }
  return { result: 'accept', cancel }
}

/** True when `signature` of `document` recovers a key (either form) whose hash160 is `keyHash`. */
export function signatureMatchesHash(signature: string, document: Uint8Array, keyHash: Uint8Array): boolean {
  const sig = decodeCompactSignature(signature)
  if (sig === undefined) return false
  const pub = recoverPublicKey(sig.rs, sig.recid, messageDigest(document), sig.compressed)
  return pub !== undefined && bytesEqual(hash160(pub), keyHash)
}

/** True when an accepted `cancel` withdraws `bid`: same bid id and same participant. */
export function cancelApplies(cancel: CancelFields, bid: { id: string; address: string }): boolean {
  return cancel.bidId === bid.id && cancel.address === bid.address
}
