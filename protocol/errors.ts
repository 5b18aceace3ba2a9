/**
 * The one error base class of bitwrk-node. Every expected failure carries a string `code`
 * prefixed by its module (`BID_BAD_SIGNATURE`, `MONEY_BAD_FORMAT`, ...). Tests, metrics and the
 * HTTP API use the code, never the message text.
 *
 * Typed details (issue 13): a module may declare a details map from its codes to the shape of
 * their `details` (e.g. `type TradeDetails = { [TradeCode.PEER_ERROR]: { remoteCode: string } }`;
 * codes not in it carry any {@link ErrorDetails}). `errorBuilder<C, M>()` then checks the
 * details each code is built with, and `errorGuard<C, M>()` makes the module's guard
 * (`isTradeError(err, TradeCode.PEER_ERROR)`) that narrows `err.details` to the declared shape.
 */

/**
 * Details of a code without a declared shape: any context, where `cause` (if present) is the
 * code or text of the failure behind this one.
 */
export type ErrorDetails = Readonly<Record<string, unknown>> & { readonly cause?: string }

/** A module's details map: code → shape of its `details` (only codes whose details are read). */
export type DetailsMap<C extends string> = { readonly [K in C]?: object }

/** The details shape of code `K` in the details map `M` ({@link ErrorDetails} if not declared). */
export type DetailsOf<M, K extends string> = K extends keyof M ? Readonly<M[K]> : ErrorDetails

/**
 * The details argument(s) of code `K`: required and of the declared shape when `M` declares
 * one, else optional.
 */
export type DetailsArg<M, K extends string> = K extends keyof M
  ? [details: M[K]]
  : [details?: Record<string, unknown>]

/**
 * A bitwrk-node error: its `code` (of type `C`) and its `details` (of shape `D`, see
 * {@link DetailsOf}).
 */
export class BitwrkError<C extends string = string, D extends object = ErrorDetails> extends Error {
  /** Machine-readable error code, prefixed by module. */
  readonly code: C
  /** Structured context for logs and API answers; never secrets. */
  readonly details: Readonly<D>

  constructor(code: C, message: string, details?: D) {
    super(message)
    this.name = 'BitwrkError'
    this.code = code
    this.details = details ?? ({} as D)
  }
}

/** True when `err` is a {@link BitwrkError}, optionally with the given code. */
export function isBitwrkError(err: unknown, code?: string): err is BitwrkError {
  return err instanceof BitwrkError && (code === undefined || err.code === code)
}

/**
 * Builds the BitwrkErrors of one module, its code checked against the module's table and its
 * details against the module's details map `M`.
 */
export type ErrorBuilder<C extends string, M extends DetailsMap<C> = Record<never, never>> = <K extends C>(
  code: K,
  message: string,
  ...details: DetailsArg<M, K>
) => BitwrkError<K, DetailsOf<M, K>>

/**
 * The error builder of a module whose codes are `C` (its table's union type) and whose details
 * map is `M` (optional): one way to make a module's errors, e.g.
 * `export const tradeError = errorBuilder<TradeErrorCode, TradeDetails>()`.
 */
export function errorBuilder<
  C extends string,
  M extends DetailsMap<C> = Record<never, never>
>(): ErrorBuilder<C, M> {
  return <K extends C>(code: K, message: string, ...[details]: DetailsArg<M, K>) =>
    new BitwrkError<K, DetailsOf<M, K>>(code, message, (details ?? {}) as DetailsOf<M, K>)
}

/**
 * The typed guard of one module's errors: true when `err` is a {@link BitwrkError} with `code`,
 * narrowing `err.details` to the shape the details map `M` declares for it.
 */
export type ErrorGuard<C extends string, M extends DetailsMap<C> = Record<never, never>> = <K extends C>(
  err: unknown,
  code: K
) => err is BitwrkError<K, DetailsOf<M, K>>

/**
 * The typed guard of a module whose codes are `C` and whose details map is `M`, e.g.
 * `export const isTradeError = errorGuard<TradeErrorCode, TradeDetails>()`.
 */
export function errorGuard<C extends string, M extends DetailsMap<C> = Record<never, never>>(): ErrorGuard<
  C,
  M
> {
  return <K extends C>(err: unknown, code: K): err is BitwrkError<K, DetailsOf<M, K>> =>
    isBitwrkError(err, code)
}
