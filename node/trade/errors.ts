import { errorBuilder, errorGuard } from '../../protocol/errors.js'
import type { Phase } from '../../protocol/transaction/index.js'

/**
 * Error codes of the trade protocol (protocol/spec/trade.md, TRADE-14). A buyer that gets one
 * of these can buy again from another seller; the transaction itself retires by the phase rules.
 */
export const TradeCode = {
  /** A phase deadline (TX-13) passed while this side was waiting. */
  TIMEOUT: 'TRADE_TIMEOUT',
  /** The seller could not be dialled, or the stream to it failed or fell silent. */
  SELLER_UNREACHABLE: 'TRADE_SELLER_UNREACHABLE',
  /** The buyer's stream failed or fell silent (seller side). */
  BUYER_GONE: 'TRADE_BUYER_GONE',
  /** The seller rejected the work (its hash or commitment): WORK_DISPUTED. */
  WORK_REJECTED: 'TRADE_WORK_REJECTED',
  /**
   * The seller's worker failed on the work (or its result was too large): the seller published
   * reject-work (WORK_DISPUTED, the phase machine's one way out of WORKING), but the work was
   * not at fault (TRADE-18; `details.cause` on the seller holds the worker's code).
   */
  WORKER_FAILED: 'TRADE_WORKER_FAILED',
  /** The buyer's check rejected the decrypted result: RESULT_DISPUTED. */
  RESULT_REJECTED: 'TRADE_RESULT_REJECTED',
  /**
   * The published sealed result key does not open with the buyer's key (TX-23): the buyer
   * rejected the result (RESULT_DISPUTED); `details.sealCode` is the `TX_SEAL_*` code.
   */
  BAD_SEALED_KEY: 'TRADE_BAD_SEALED_KEY',
  /** The peer broke the trade protocol (bad frame, unexpected message, wrong hash). */
  PROTOCOL: 'TRADE_PROTOCOL',
  /** The peer reported an error; `details.remoteCode` holds its code. */
  PEER_ERROR: 'TRADE_PEER_ERROR',
  /** The transaction left the phases this step needs (retired, disputed, another phase). */
  UNEXPECTED_PHASE: 'TRADE_UNEXPECTED_PHASE',
  /** The transaction channel refused our own signed message; `details.txCode` says why. */
  PUBLISH_REFUSED: 'TRADE_PUBLISH_REFUSED',
  /** The caller passed arguments that do not fit the transaction (a caller bug). */
  BAD_ARGUMENT: 'TRADE_BAD_ARGUMENT',
  /** The seller does not expect a buyer for this transaction. */
  UNKNOWN_TX: 'TRADE_UNKNOWN_TX',
  /** The stream comes from another peer than the transaction's buyer. */
  WRONG_PEER: 'TRADE_WRONG_PEER',
  /** The peer used up its invalid-request budget: its trade streams are reset unread (TRADE-16). */
  PEER_REFUSED: 'TRADE_PEER_REFUSED',
  /** A trade session for this transaction is already running. */
  BUSY: 'TRADE_BUSY',
  /**
   * The peer sent more bytes than the current step allows unread (TRADE-19), e.g. anything
   * after HELLO before READY: the excess was dropped, the stream is cut.
   */
  OVERRUN: 'TRADE_OVERRUN',
  /**
   * Seller side: the peer already holds its `maxPeerStreams` trade streams over all its
   * connections, or all `maxStreams` slots are taken (`details.scope`, TRADE-19); reset unread.
   */
  STREAM_LIMIT: 'TRADE_STREAM_LIMIT',
  /** The worker already runs a job (one job per worker). */
  WORKER_BUSY: 'TRADE_WORKER_BUSY',
  /** A result or work file exceeds its size limit. */
  TOO_LARGE: 'TRADE_TOO_LARGE',
  /** The caller's signal fired or the service stopped. */
  ABORTED: 'TRADE_ABORTED'
} as const

/** Union of the trade error codes. */
export type TradeErrorCode = (typeof TradeCode)[keyof typeof TradeCode]

/** The details of the trade codes whose details are read (issue 13); others carry any. */
export type TradeDetails = {
  /** The peer's ERROR code. */
  [TradeCode.PEER_ERROR]: { remoteCode: string }
  /** The phase the transaction left to (absent for an unknown transaction). */
  [TradeCode.UNEXPECTED_PHASE]: { phase?: Phase; txid?: string; what?: string }
}

/** Builds a trade error. */
export const tradeError = errorBuilder<TradeErrorCode, TradeDetails>()

/** True when `err` is the trade error `code`; narrows its details ({@link TradeDetails}). */
export const isTradeError = errorGuard<TradeErrorCode, TradeDetails>()
