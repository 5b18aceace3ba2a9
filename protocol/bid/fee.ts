import { type Money, money } from '../money/index.js'

/** A fee as an exact fraction of the price: fee = ceil(price · numerator / denominator). */
export interface FeeRatio {
  /** Non-negative numerator. */
  readonly numerator: bigint
  /** Positive denominator. */
  readonly denominator: bigint
}

/**
 * The default fee ratio: 0. bitwrk-node has no operator to pay, so the original 3 % fee is
 * replaced by this network parameter (spec BID-21).
 */
export const NO_FEE: FeeRatio = Object.freeze({ numerator: 0n, denominator: 1n })

/** The original server's fee ratio 3/100 (original §2.3), kept for compatibility and tests. */
export const ORIGINAL_FEE_RATIO: FeeRatio = Object.freeze({ numerator: 3n, denominator: 100n })

/** Fee amount in smallest units: ceil(amount · num / den) for amount >= 0 (original: (3p + 99) div 100). */
export function feeAmount(amount: bigint, ratio: FeeRatio = NO_FEE): bigint {
  if (ratio.numerator < 0n || ratio.denominator <= 0n)
    throw new RangeError('fee ratio must be >= 0 with a positive denominator')
  if (amount < 0n) throw new RangeError('fee of a negative price')
  return (amount * ratio.numerator + ratio.denominator - 1n) / ratio.denominator
}

/** Fee of a price, in the price's currency (throws `MONEY_OUT_OF_RANGE` if unrepresentable). */
export function feeFor(price: Money, ratio: FeeRatio = NO_FEE): Money {
  return money(price.currency, feeAmount(price.amount, ratio))
}

/** The original's fee: ceil(3 · price / 100) (original §2.3; vectors C). */
export function originalFee(price: Money): Money {
  return feeFor(price, ORIGINAL_FEE_RATIO)
}
