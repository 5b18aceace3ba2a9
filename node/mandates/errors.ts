import { errorBuilder } from '../../protocol/errors.js'

/**
 * Error codes of `node/mandates` (protocol/spec/local-api.md, MAN-*). A mandate is the
 * operator's standing permission to trade (original §7.6): without one the node neither buys
 * nor offers a worker for sale.
 */
export const MandateCode = {
  /** A grant with an invalid field (article, side, price, trades, expiry). Nothing is stored. */
  INVALID: 'MANDATE_INVALID',
  /** No live mandate for this article and side. */
  NOT_FOUND: 'MANDATE_NOT_FOUND',
  /** Mandates for this article and side exist, but all had expired (they are now deleted). */
  EXPIRED: 'MANDATE_EXPIRED',
  /** Live mandates exist, but the asked price is beyond every one's limit or in another currency. */
  PRICE_LIMIT: 'MANDATE_PRICE_LIMIT',
  /** Revoke of an id that is not stored. */
  UNKNOWN: 'MANDATE_UNKNOWN',
  /** More than {@link MAX_MANDATES} mandates would be stored. */
  TOO_MANY: 'MANDATE_TOO_MANY'
} as const

/** One of the {@link MandateCode} values. */
export type MandateErrorCode = (typeof MandateCode)[keyof typeof MandateCode]

/** Most mandates stored at once (a bound, DESIGN.md invariant 10; the UI lists them all). */
export const MAX_MANDATES = 1000

/** Builds a mandate BitwrkError. */
export const mandateError = errorBuilder<MandateErrorCode>()
