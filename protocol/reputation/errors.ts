import { BitwrkError } from '../errors.js'

/**
 * Error codes of `protocol/reputation` (spec: protocol/spec/reputation.md, REP-20). The
 * equivocation codes are what {@link verifyEquivocation} returns; every one of them is
 * provable from the proof bytes alone, so a gossip validator rejects on all of them.
 */
export const ReputationCode = {
  /** The encoded proof exceeds {@link MAX_EQUIVOCATION_BYTES} (REP-12). */
  TOO_LARGE: 'REP_TOO_LARGE',
  /** Not five non-empty printable-ASCII lines, a bad header, or documents not in canonical order (REP-12). */
  MALFORMED: 'REP_MALFORMED',
  /** The header's first field is not `kind=bitwrk-equivocation-v1` (REP-12). */
  BAD_KIND: 'REP_BAD_KIND',
  /** The header names no known equivocation case (REP-12). */
  BAD_CASE: 'REP_BAD_CASE',
  /** A document is not a valid document of the kind its case requires (REP-13 … REP-15). */
  BAD_DOCUMENT: 'REP_BAD_DOCUMENT',
  /** Both documents are the same text: one document is never a conflict, whatever its signatures (REP-16). */
  SAME_DOCUMENT: 'REP_SAME_DOCUMENT',
  /** Two valid documents that an honest participant may both sign (REP-13 … REP-15). */
  NOT_CONFLICTING: 'REP_NOT_CONFLICTING',
  /** bid-reuse: the named bid ids do not hash to the documents' transaction ids (REP-13). */
  CONTEXT_MISMATCH: 'REP_CONTEXT_MISMATCH',
  /** A signature is not a canonical 65-byte compact signature, or recovers no key (REP-16). */
  BAD_SIGNATURE: 'REP_BAD_SIGNATURE',
  /**
   * A document is not signed by the participant: signed by somebody else, or the signature or
   * document was altered (the two cannot be told apart) (REP-16).
   */
  WRONG_SIGNER: 'REP_WRONG_SIGNER',
  /** Events were asked of a transaction that is not retired (thrown: a caller bug, REP-7). */
  NOT_RETIRED: 'REP_NOT_RETIRED',
  /** An argument out of its domain: counters, times, thresholds, result hashes (thrown: a caller bug). */
  BAD_ARGUMENT: 'REP_BAD_ARGUMENT'
} as const

/** Union of the reputation error codes. */
export type ReputationErrorCode = (typeof ReputationCode)[keyof typeof ReputationCode]

/** Codes with which an equivocation proof is refused. */
export type EquivocationRefusalCode = Exclude<ReputationErrorCode, 'REP_NOT_RETIRED' | 'REP_BAD_ARGUMENT'>

/** Builds the BitwrkError thrown for caller bugs in this module. */
export function reputationError(code: ReputationErrorCode, message: string): BitwrkError {
  return new BitwrkError(code, message)
}
