/**
 * The one error base class of bitwrk-node. Every expected failure carries a string `code`
 * prefixed by its module (`BID_BAD_SIGNATURE`, `MONEY_BAD_FORMAT`, ...). Tests, metrics and the
 * HTTP API use the code, never the message text.
 */
export class BitwrkError<C extends string = string> extends Error {
  /** Machine-readable error code, prefixed by module. */
  readonly code: C
  /** Structured context for logs and API answers; never secrets. */
  readonly details: Readonly<Record<string, unknown>>

  constructor(code: C, message: string, details: Record<string, unknown> = {}) {
    super(message)
    this.name = 'BitwrkError'
    this.code = code
    this.details = details
  }
}

/** True when `err` is a {@link BitwrkError}, optionally with the given code. */
export function isBitwrkError(err: unknown, code?: string): err is BitwrkError {
  return err instanceof BitwrkError && (code === undefined || err.code === code)
}

/** Builds the BitwrkErrors of one module, its code checked against the module's table. */
export type ErrorBuilder<C extends string> = (
  code: C,
  message: string,
  details?: Record<string, unknown>
) => BitwrkError<C>

/**
 * The error builder of a module whose codes are `C` (its table's union type): one way to make a
 * module's errors, e.g. `export const tradeError = errorBuilder<TradeErrorCode>()`.
 */
export function errorBuilder<C extends string>(): ErrorBuilder<C> {
  return (code, message, details = {}) => new BitwrkError(code, message, details)
}
