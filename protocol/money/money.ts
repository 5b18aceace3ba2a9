import { MoneyCode, moneyError } from './errors.js'
import { formatMoney } from './format.js'
import { type Currency, isCurrency } from './units.js'

/** An exact amount of a currency, counted in its smallest unit (BTC: satoshi; fiat: 10^-9). */
export interface Money {
  /** The currency. */
  readonly currency: Currency
  /** The amount in the currency's smallest unit; may be negative. */
  readonly amount: bigint
}

/**
 * Largest absolute amount (MON-5): 10^17 − 1 smallest units. It is exactly the set of amounts
 * the original's parser can produce (its "too many digits" rule keeps every unit below 10^17
 * smallest units), so every Money formats to a string that parses back to itself.
 */
export const MONEY_MAX_ABS: bigint = 10n ** 17n - 1n

/** Shared `toJSON` so that `JSON.stringify` writes the canonical string (MON-7). */
function toJSON(this: Money): string {
  return formatMoney(this)
}

/**
 * Builds a frozen {@link Money}, checking the currency and the range (MON-5). The value also
 * carries a non-enumerable `toJSON`, so `JSON.stringify({ price })` writes `"mBTC 1.5"`.
 * Throws `MONEY_UNKNOWN_CURRENCY`, `MONEY_BAD_AMOUNT` or `MONEY_OUT_OF_RANGE`.
 */
export function money(currency: Currency, amount: bigint): Money {
  if (!isCurrency(currency))
    moneyError(MoneyCode.unknownCurrency, 'unknown currency', { currency: String(currency) })
  if (typeof amount !== 'bigint') moneyError(MoneyCode.badAmount, 'amount must be a bigint')
  checkRange(amount)
  const m = { currency, amount }
  Object.defineProperty(m, 'toJSON', { value: toJSON, enumerable: false })
  return Object.freeze(m)
}

/** Throws `MONEY_OUT_OF_RANGE` unless |amount| <= {@link MONEY_MAX_ABS}. */
function checkRange(amount: bigint): void {
  if (amount > MONEY_MAX_ABS || amount < -MONEY_MAX_ABS)
    moneyError(MoneyCode.outOfRange, 'amount out of range', { amount: amount.toString() })
}

/** True when `value` is a structurally valid, in-range {@link Money}. */
export function isMoney(value: unknown): value is Money {
  if (typeof value !== 'object' || value === null) return false
  const v = value as { currency?: unknown; amount?: unknown }
  return (
    isCurrency(v.currency) &&
    typeof v.amount === 'bigint' &&
    v.amount <= MONEY_MAX_ABS &&
    v.amount >= -MONEY_MAX_ABS
  )
}

function sameCurrency(a: Money, b: Money): Currency {
  if (a.currency !== b.currency)
    moneyError(MoneyCode.currencyMismatch, 'currencies differ', { a: a.currency, b: b.currency })
  return a.currency
}

/** a + b (MON-8); throws `MONEY_CURRENCY_MISMATCH` or `MONEY_OUT_OF_RANGE`. */
export function addMoney(a: Money, b: Money): Money {
  return money(sameCurrency(a, b), a.amount + b.amount)
}

/** a − b (MON-8); throws `MONEY_CURRENCY_MISMATCH` or `MONEY_OUT_OF_RANGE`. */
export function subMoney(a: Money, b: Money): Money {
  return money(sameCurrency(a, b), a.amount - b.amount)
}

/** −1, 0 or 1 as a is less than, equal to or greater than b (MON-8); same currency only. */
export function compareMoney(a: Money, b: Money): -1 | 0 | 1 {
  sameCurrency(a, b)
  return a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0
}

/** True when both have the same currency and amount. */
export function moneyEquals(a: Money, b: Money): boolean {
  return a.currency === b.currency && a.amount === b.amount
}
