/** Shared fixtures of the reputation tests: counters, records, signature malleation. */
import { base64Decode, base64Encode, CURVE_ORDER } from '../../protocol/identity/index.js'
import {
  REPUTATION_COUNTERS,
  type ReputationCounter,
  type ReputationCounters,
  type ReputationInput
} from '../../protocol/reputation/index.js'

/** Counters with the given values and every other counter at zero. */
export function counters(values: Partial<Record<ReputationCounter, number>> = {}): ReputationCounters {
  return Object.fromEntries(REPUTATION_COUNTERS.map((n) => [n, values[n] ?? 0])) as Record<
    ReputationCounter,
    number
  >
}

/** A record last updated at `lastUpdatedMs` with the given counters. */
export function record(
  values: Partial<Record<ReputationCounter, number>>,
  lastUpdatedMs = 0
): ReputationInput {
  return { counters: counters(values), lastUpdatedMs }
}

/**
 * The other valid signature of the same document by the same key: s → n − s with the
 * recovery id's parity flipped (ECDSA malleability).
 */
export function malleate(signature: string): string {
  const bytes = base64Decode(signature)
  if (bytes === undefined || bytes.length !== 65) throw new Error('not a compact signature')
  const out = bytes.slice()
  const header = out[0] as number
  const recid = (header - 27) & 3
  out[0] = header - recid + (recid ^ 1)
  let s = 0n
  for (const b of out.subarray(33)) s = (s << 8n) | BigInt(b)
  let t = CURVE_ORDER - s
  for (let i = 64; i >= 33; i--) {
    out[i] = Number(t & 0xffn)
    t >>= 8n
  }
  return base64Encode(out)
}
