import { MoneyErrorCode, moneyError } from './errors.js'
import { type Money, money } from './money.js'
import { unitBySymbol } from './units.js'

/**
 * Longest text {@link parseMoney} looks at (MON-3). The longest canonical form is 26
 * characters (`satoshi -99999999999999999`); 64 leaves room for leading/trailing zeros while
 * keeping the regular expression's work bounded on hostile input.
 */
export const MONEY_MAX_TEXT_LENGTH = 64

/**
 * Grammar of the original (MON-3): symbol, at most one space, optional minus, integer digits,
 * optional `.` and fraction digits. ASCII digits only; no `+`, no comma, no bare dot.
 */
const MONEY_RE = /^([A-Za-z€$£]+) ?(-)?([0-9]+)(?:\.([0-9]+))?$/

/** Smallest units of a parsed integer part are limited to below 10^18 by digit count (MON-5). */
const INTEGER_DIGITS_LIMIT = 10n ** 18n

/**
 * Parses a money string such as `mBTC 1.5`, `BTC0.0001`, `€ -3`, `satoshi 12` (MON-3 … MON-5).
 * Throws a `BitwrkError` with `MONEY_BAD_FORMAT`, `MONEY_UNKNOWN_CURRENCY`,
 * `MONEY_TOO_PRECISE` or `MONEY_OUT_OF_RANGE`.
 */
export function parseMoney(text: string): Money {
  if (typeof text !== 'string') moneyError(MoneyErrorCode.badFormat, 'money must be a string')
  if (text.length > MONEY_MAX_TEXT_LENGTH)
    moneyError(MoneyErrorCode.badFormat, 'money text too long', { length: text.length })
  const m = MONEY_RE.exec(text)
  if (m === null) moneyError(MoneyErrorCode.badFormat, 'not a money string', { text })
  const [, symbol = '', minus, intDigits = '', fracDigits = ''] = m
  const unit = unitBySymbol(symbol)
  if (unit === undefined) moneyError(MoneyErrorCode.unknownCurrency, 'unknown money unit', { symbol })
  // The original counts every typed fraction digit, zeros included: the i-th digit is worth
  // factor/10^i, and a digit worth nothing is an error ("satoshi 0.0" fails).
  if (fracDigits.length > unit.decimals)
    moneyError(MoneyErrorCode.tooPrecise, 'too many digits in fractional part', { text })
  // Likewise the integer part is limited by its digit count, leading zeros included.
  if (unit.factor * 10n ** BigInt(intDigits.length) >= INTEGER_DIGITS_LIMIT)
    moneyError(MoneyErrorCode.outOfRange, 'too many digits in integral part', { text })
  const frac = fracDigits === '' ? 0n : BigInt(fracDigits) * 10n ** BigInt(unit.decimals - fracDigits.length)
  const abs = BigInt(intDigits) * unit.factor + frac
  return money(unit.currency, minus === undefined ? abs : -abs)
}

/** Decodes the JSON form of money (MON-7): a string that {@link parseMoney} accepts. */
export function moneyFromJSON(value: unknown): Money {
  if (typeof value !== 'string') moneyError(MoneyErrorCode.badFormat, 'money JSON must be a string')
  return parseMoney(value)
}
