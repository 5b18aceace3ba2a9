import { BitwrkError } from '../errors.js'

/** Error codes of `protocol/money` (spec: protocol/spec/money.md, MON-9). */
export const MoneyCode = {
  /** The text does not match the money grammar (MON-3), or is not a string, or is too long. */
  badFormat: 'MONEY_BAD_FORMAT',
  /** The unit symbol is not one of the known units (MON-2); symbols are case-sensitive. */
  unknownCurrency: 'MONEY_UNKNOWN_CURRENCY',
  /** The fraction has more digits than the unit can express (MON-4). */
  tooPrecise: 'MONEY_TOO_PRECISE',
  /** The amount is outside ±MONEY_MAX_ABS or the integer part has too many digits (MON-5). */
  outOfRange: 'MONEY_OUT_OF_RANGE',
  /** An amount that is not a bigint was given to {@link money}. */
  badAmount: 'MONEY_BAD_AMOUNT',
  /** Arithmetic or comparison between two different currencies (MON-8). */
  currencyMismatch: 'MONEY_CURRENCY_MISMATCH'
} as const

/** One of the {@link MoneyCode} values. */
export type MoneyErrorCode = (typeof MoneyCode)[keyof typeof MoneyCode]

/** Throws a {@link BitwrkError} carrying a money error code. */
export function moneyError(
  code: MoneyErrorCode,
  message: string,
  details: Record<string, unknown> = {}
): never {
  throw new BitwrkError(code, message, details)
}
