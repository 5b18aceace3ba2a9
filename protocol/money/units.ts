/** The currencies a price can be denominated in (original common/money/money.go). */
export type Currency = 'BTC' | 'EUR' | 'USD' | 'BRL' | 'GBP'

/** All currencies, in the original's order. */
export const CURRENCIES: readonly Currency[] = Object.freeze(['BTC', 'EUR', 'USD', 'BRL', 'GBP'])

/** A way of writing amounts of one currency. */
export interface MoneyUnit {
  /** What is written in front of the number, case-sensitive (`mBTC`, `€`, `R$`). */
  readonly symbol: string
  /** The currency the unit belongs to. */
  readonly currency: Currency
  /** How many smallest units (satoshi, nano-EUR …) one of this unit is: a power of ten. */
  readonly factor: bigint
  /** Whether {@link formatMoney} may choose this unit (symbols and satoshi are parse-only). */
  readonly auto: boolean
  /** Number of fraction digits the unit allows: log10(factor). */
  readonly decimals: number
}

function unit(symbol: string, currency: Currency, decimals: number, auto: boolean): MoneyUnit {
  return Object.freeze({ symbol, currency, factor: 10n ** BigInt(decimals), auto, decimals })
}

/**
 * Every unit, in the original's list order (MON-2). The order matters: formatting picks the
 * first auto unit of the currency whose factor fits. BTC amounts count satoshi (10^-8 BTC);
 * fiat amounts count nano-units (10^-9), as in the original.
 */
export const UNITS: readonly MoneyUnit[] = Object.freeze([
  unit('BTC', 'BTC', 8, true),
  unit('mBTC', 'BTC', 5, true),
  unit('uBTC', 'BTC', 2, true),
  unit('satoshi', 'BTC', 0, false),
  unit('EUR', 'EUR', 9, true),
  unit('€', 'EUR', 9, false),
  unit('USD', 'USD', 9, true),
  unit('$', 'USD', 9, false),
  unit('BRL', 'BRL', 9, true),
  unit('R$', 'BRL', 9, false),
  unit('GBP', 'GBP', 9, true),
  unit('£', 'GBP', 9, false)
])

const BY_SYMBOL: ReadonlyMap<string, MoneyUnit> = new Map(UNITS.map((u) => [u.symbol, u]))

/** The unit written as `symbol` (exact, case-sensitive), or undefined. */
export function unitBySymbol(symbol: string): MoneyUnit | undefined {
  return BY_SYMBOL.get(symbol)
}

// per currency, made once: formatting runs for every bid decoded (its price's canonical form)
const AUTO_UNITS: ReadonlyMap<Currency, readonly MoneyUnit[]> = new Map(
  CURRENCIES.map((c) => [c, Object.freeze(UNITS.filter((u) => u.currency === c && u.auto))])
)

/** The auto-selectable units of `currency`, in list order (largest first). */
export function autoUnits(currency: Currency): readonly MoneyUnit[] {
  return AUTO_UNITS.get(currency) ?? []
}

/** True when `value` is one of the {@link CURRENCIES}. */
export function isCurrency(value: unknown): value is Currency {
  return typeof value === 'string' && (CURRENCIES as readonly string[]).includes(value)
}
