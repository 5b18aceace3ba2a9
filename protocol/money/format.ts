import type { Money } from './money.js'
import { autoUnits, type MoneyUnit } from './units.js'

/**
 * Writes a non-negative `value` of smallest units in a unit of `factor` (a power of ten):
 * integer part, then `.` and the fraction without trailing zeros, no fraction when it is zero.
 * `formatAmount(1n, 1000n)` is `0.001`; `formatAmount(1000n, 1000n)` is `1`.
 */
export function formatAmount(value: bigint, factor: bigint): string {
  const int = value / factor
  const frac = value % factor
  if (frac === 0n) return int.toString()
  const width = factor.toString().length - 1
  return `${int}.${frac.toString().padStart(width, '0').replace(/0+$/, '')}`
}

/**
 * The unit {@link formatMoney} writes `money` in (MON-6): zero uses the currency's first unit;
 * otherwise the first auto unit whose factor is <= |amount|, else the smallest auto unit.
 */
export function displayUnit(money: Money): MoneyUnit {
  const units = autoUnits(money.currency)
  const abs = money.amount < 0n ? -money.amount : money.amount
  const first = units[0]!
  if (abs === 0n) return first
  return units.find((u) => u.factor <= abs) ?? units[units.length - 1]!
}

/** Canonical display form (MON-6): `<unit> [-]<int>[.<frac>]`, e.g. `mBTC 1.5`, `uBTC -0.01`. */
export function formatMoney(money: Money): string {
  return format(money, ' ')
}

/** {@link formatMoney} without the space, e.g. `mBTC1.5`: the form inside signed documents (MON-7). */
export function compactMoney(money: Money): string {
  return format(money, '')
}

function format(money: Money, space: string): string {
  const unit = displayUnit(money)
  const abs = money.amount < 0n ? -money.amount : money.amount
  return `${unit.symbol}${space}${money.amount < 0n ? '-' : ''}${formatAmount(abs, unit.factor)}`
}
