import type { EpochResult, MatchableBid, MatchableCancel, Side } from '../../protocol/matching/index.js'
import { mulberry32 } from '../../protocol/util/prng.js'

/** A readable bid id: `n` in hex, left-padded to 64 characters (so id order = numeric order). */
export function idOf(n: number): string {
  return n.toString(16).padStart(64, '0')
}

/** Lifetime of a bid in the original (bitwrk-original.md §2.3). */
export const LIFETIME_MS = 120_000

/** Builds a matchable bid; `expiresMs` defaults to the original 120 s lifetime. */
export function mkBid(
  n: number,
  side: Side,
  price: bigint | number,
  createdMs: number,
  participant = `p${n}`,
  expiresMs = createdMs + LIFETIME_MS
): MatchableBid {
  return { id: idOf(n), side, price: BigInt(price), createdMs, expiresMs, participant }
}

/** A cancel of bid `n` (created at `bidCreatedMs`), itself created at `createdMs`. */
export function cx(n: number, bidCreatedMs: number, createdMs: number): MatchableCancel {
  return { bidId: idOf(n), bidCreatedMs, createdMs }
}

/** Canonical text of results, for byte-for-byte comparison (bigints as decimal strings). */
export function serialize(results: readonly EpochResult[]): string {
  return JSON.stringify(results, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
}

/** Deterministic PRNG (mulberry32) for arrival simulations driven by a fast-check seed. */
export const prng = mulberry32
