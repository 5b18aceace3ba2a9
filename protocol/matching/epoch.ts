import { BitwrkError } from '../errors.js'
import { DEFAULT_EPOCH_PARAMS, type EpochParams, MatchCode } from './types.js'

/**
 * Checks epoch parameters (MATCH-1) and returns them frozen; throws `MATCH_BAD_PARAMS`.
 * Missing fields take {@link DEFAULT_EPOCH_PARAMS}.
 */
export function checkEpochParams(params: Partial<EpochParams> = {}): EpochParams {
  const epochMs = params.epochMs ?? DEFAULT_EPOCH_PARAMS.epochMs
  const settleMs = params.settleMs ?? DEFAULT_EPOCH_PARAMS.settleMs
  if (!Number.isSafeInteger(epochMs) || epochMs <= 0)
    throw new BitwrkError(MatchCode.BAD_PARAMS, 'epochMs must be a positive integer', { epochMs })
  if (!Number.isSafeInteger(settleMs) || settleMs < 0)
    throw new BitwrkError(MatchCode.BAD_PARAMS, 'settleMs must be a non-negative integer', { settleMs })
  return Object.freeze({ epochMs, settleMs })
}

/** Epoch of a creation time (MATCH-1): `floor(createdMs / epochMs)`. */
export function epochOf(createdMs: number, params: EpochParams = DEFAULT_EPOCH_PARAMS): number {
  return Math.floor(createdMs / params.epochMs)
}

/** End of epoch `e`'s creation window, exclusive: `(e + 1) · epochMs` (MATCH-1, MATCH-6). */
export function epochEndMs(epoch: number, params: EpochParams = DEFAULT_EPOCH_PARAMS): number {
  return (epoch + 1) * params.epochMs
}

/** Earliest clock time at which epoch `e` may be matched: `(e + 1) · epochMs + settleMs` (MATCH-2). */
export function epochClosesAtMs(epoch: number, params: EpochParams = DEFAULT_EPOCH_PARAMS): number {
  return (epoch + 1) * params.epochMs + params.settleMs
}

/**
 * True when a bid (or cancel) created at `createdMs` arrives too late at `nowMs`: its epoch may
 * already have been matched, so it must be ignored and not forwarded (MATCH-4).
 */
export function isLate(
  createdMs: number,
  nowMs: number,
  params: EpochParams = DEFAULT_EPOCH_PARAMS
): boolean {
  return nowMs >= epochClosesAtMs(epochOf(createdMs, params), params)
}

/** The last epoch that may be matched at `nowMs` (may be negative before the first close). */
export function lastClosedEpoch(nowMs: number, params: EpochParams = DEFAULT_EPOCH_PARAMS): number {
  // Largest e with (e + 1) · epochMs + settleMs ≤ nowMs.
  return Math.floor((nowMs - params.settleMs) / params.epochMs) - 1
}

/** First epoch in which a bid expiring at `expiresMs` is no longer live: smallest e with `expiresMs ≤ (e+1)·epochMs` (MATCH-6). */
export function expiryEpochOf(expiresMs: number, params: EpochParams = DEFAULT_EPOCH_PARAMS): number {
  return Math.ceil(expiresMs / params.epochMs) - 1
}
