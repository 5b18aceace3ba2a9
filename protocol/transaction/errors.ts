import { BitwrkError } from '../errors.js'

/**
 * Error codes of `protocol/transaction` (spec: protocol/spec/transactions.md, TX-20).
 * A refused message never changes the transaction; the code says why it was refused.
 */
export const TxCode = {
  /** The encoded message or its document exceeds the size limits (TX-6). */
  TOO_LARGE: 'TX_TOO_LARGE',
  /** Not a canonical form document (bad escaping, empty fields) or bad wire framing (TX-5, TX-6). */
  MALFORMED: 'TX_MALFORMED',
  /** The domain tag is not `kind=bitwrk-tx-v1` or `msg` names no transaction message (TX-4). */
  BAD_KIND: 'TX_BAD_KIND',
  /** The argument names of the message kind are wrong, or a value is invalid (TX-7). */
  BAD_ARGUMENT: 'TX_BAD_ARGUMENT',
  /** The document names another transaction id (TX-9). */
  WRONG_TXID: 'TX_WRONG_TXID',
  /** The message is validly signed, but by the other party of the transaction (TX-10). */
  WRONG_PARTY: 'TX_WRONG_PARTY',
  /** The transaction is already retired (TX-11). */
  RETIRED: 'TX_RETIRED',
  /** The (phase, message kind) pair is not in the transition table (TX-12). */
  WRONG_PHASE: 'TX_WRONG_PHASE',
  /** The message arrived at or after the phase deadline (TX-13). */
  EXPIRED: 'TX_EXPIRED',
  /** The published buyer secret does not open the work-secret commitment (TX-15). */
  BAD_SECRET: 'TX_BAD_SECRET',
  /** The signature is by neither party: forged, a stranger's, or the document was changed (TX-8). */
  BAD_SIGNATURE: 'TX_BAD_SIGNATURE',
  /** The receipt in a transmit-finished message is not the buyer's signature (TX-16). */
  BAD_RECEIPT: 'TX_BAD_RECEIPT',
  /** `retire` was called before the deadline (TX-18). */
  NOT_DUE: 'TX_NOT_DUE',
  /** `createTransaction` got an invalid match (thrown: a caller bug, TX-2). */
  BAD_MATCH: 'TX_BAD_MATCH'
} as const

/** Union of the transaction error codes. */
export type TxErrorCode = (typeof TxCode)[keyof typeof TxCode]

/** Codes with which {@link applyMessage} refuses a message. */
export type TxRefusalCode = Exclude<TxErrorCode, 'TX_NOT_DUE' | 'TX_BAD_MATCH'>

/**
 * How a gossip validator should treat a refused transaction message (DESIGN.md invariant 3):
 * `reject` only where the refusal is provable from the message and the transaction's own
 * signed data alone, `ignore` where it depends on the receiver's view (phase, clock).
 */
export const TX_REFUSAL_SEVERITY: Readonly<Record<TxRefusalCode, 'ignore' | 'reject'>> = Object.freeze({
  TX_TOO_LARGE: 'reject',
  TX_MALFORMED: 'reject',
  TX_BAD_KIND: 'reject',
  TX_BAD_ARGUMENT: 'reject',
  TX_WRONG_TXID: 'ignore',
  TX_WRONG_PARTY: 'reject',
  TX_RETIRED: 'ignore',
  TX_WRONG_PHASE: 'ignore',
  TX_EXPIRED: 'ignore',
  TX_BAD_SECRET: 'reject',
  TX_BAD_SIGNATURE: 'reject',
  TX_BAD_RECEIPT: 'reject'
})

/** Builds the BitwrkError thrown by the transaction parse functions. */
export function txError(
  code: TxErrorCode,
  message: string,
  details: Record<string, unknown> = {}
): BitwrkError {
  return new BitwrkError(code, message, details)
}
