import { MoneyCode, type MoneyErrorCode, moneyError } from './errors.js'
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

/** What a money string looks like: named, with examples, by every parse error (MON-10). */
export const MONEY_FORMS =
  "a unit, then the amount, e.g. 'mBTC 2', 'BTC 0.002', 'satoshi 200000', 'EUR 1.5' (units: BTC mBTC uBTC satoshi EUR € USD $ BRL R$ GBP £)"

/** The words of a money string the other way round (`2 mBTC`, `0.5BTC`), for MON-10's suggestion. */
const REVERSED_RE = /^(-)?([0-9]+(?:\.[0-9]+)?) ?([A-Za-z€$£]+)$/

/** Throws a parse error whose message and `details.forms` name the accepted forms (MON-10). */
function refuse(code: MoneyErrorCode, why: string, details: Record<string, unknown> = {}): never {
  return moneyError(code, `${why}; write ${MONEY_FORMS}`, { ...details, forms: MONEY_FORMS })
}

/** MON-10: `2 mBTC` → `mBTC 2` when the words are a known unit and an amount the other way round. */
function suggestion(text: string): string | undefined {
  const r = REVERSED_RE.exec(text)
  const symbol = r?.[3]
  return r === null || symbol === undefined || unitBySymbol(symbol) === undefined
    ? undefined
    : `${symbol} ${r[1] ?? ''}${r[2]}`
}

/**
 * Parses a money string such as `mBTC 1.5`, `BTC0.0001`, `€ -3`, `satoshi 12` (MON-3 … MON-5).
 * Throws a `BitwrkError` with `MONEY_BAD_FORMAT`, `MONEY_UNKNOWN_CURRENCY`,
 * `MONEY_TOO_PRECISE` or `MONEY_OUT_OF_RANGE`, whose message names the accepted forms with
 * examples (MON-10).
 */
export function parseMoney(text: string): Money {
  if (typeof text !== 'string') refuse(MoneyCode.badFormat, 'money must be a string')
  if (text.length > MONEY_MAX_TEXT_LENGTH)
    refuse(MoneyCode.badFormat, `money text too long (${MONEY_MAX_TEXT_LENGTH} characters at most)`, {
      length: text.length
    })
  const m = MONEY_RE.exec(text)
  if (m === null) {
    const instead = suggestion(text)
    if (instead !== undefined)
      refuse(MoneyCode.badFormat, `not a money string: the unit comes first, '${instead}'`, {
        text,
        suggestion: instead
      })
    refuse(MoneyCode.badFormat, 'not a money string', { text })
  }
  const [, symbol = '', minus, intDigits = '', fracDigits = ''] = m
  const unit = unitBySymbol(symbol)
  if (unit === undefined) refuse(MoneyCode.unknownCurrency, `unknown money unit '${symbol}'`, { symbol })
  // The original counts every typed fraction digit, zeros included: the i-th digit is worth
  // factor/10^i, and a digit worth nothing is an error ("satoshi 0.0" fails).
  if (fracDigits.length > unit.decimals)
    refuse(
      MoneyCode.tooPrecise,
      `too many digits in fractional part: ${symbol} takes ${unit.decimals} at most (a smaller unit takes more)`,
      { text, decimals: unit.decimals }
    )
  // Likewise the integer part is limited by its digit count, leading zeros included.
  if (unit.factor * 10n ** BigInt(intDigits.length) >= INTEGER_DIGITS_LIMIT)
    refuse(MoneyCode.outOfRange, 'too many digits in integral part', { text })
  const frac = fracDigits === '' ? 0n : BigInt(fracDigits) * 10n ** BigInt(unit.decimals - fracDigits.length)
  const abs = BigInt(intDigits) * unit.factor + frac
  return money(unit.currency, minus === undefined ? abs : -abs)
}

/** Decodes the JSON form of money (MON-7): a string that {@link parseMoney} accepts. */
export function moneyFromJSON(value: unknown): Money {
  if (typeof value !== 'string') refuse(MoneyCode.badFormat, 'money JSON must be a string')
  return parseMoney(value)
}
