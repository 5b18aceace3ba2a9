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
