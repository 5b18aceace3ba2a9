import type { ByteReader, ByteWriter } from './codec.js'
import { XferCode, xferError } from './errors.js'

/**
 * Wishlists as ranges of manifest indices (XFER-6). On the wire:
 * `varint(count) || count × (varint(gap) || varint(run))`; range i covers
 * `[start_i, start_i + run_i)` with `start_0 = gap_0` and `start_i = end_{i−1} + gap_i`.
 * Canonical form: `run ≥ 1` and `gap ≥ 1` after the first range (no empty or touching ranges),
 * so a wishlist has exactly one encoding. A full transfer is one range (4–8 bytes); a
 * differential one costs a few bytes per changed region.
 */

/** A half-open range `[start, end)` of manifest indices. */
export interface IndexRange {
  readonly start: number
  readonly end: number
}

/** Canonical ranges of an ascending list of distinct indices. */
export function rangesFromIndices(indices: readonly number[]): IndexRange[] {
  const out: IndexRange[] = []
  let start = -1
  let end = -1
  for (const i of indices) {
    if (i === end) end++
    else {
      if (start >= 0) out.push({ start, end })
      start = i
      end = i + 1
    }
  }
  if (start >= 0) out.push({ start, end })
  return out
}

/** The indices of `ranges`, ascending. */
export function indicesOfRanges(ranges: readonly IndexRange[]): number[] {
  const out: number[] = []
  for (const r of ranges) for (let i = r.start; i < r.end; i++) out.push(i)
  return out
}

/** Appends the wire form of canonical `ranges`. */
export function encodeRanges(w: ByteWriter, ranges: readonly IndexRange[]): void {
  w.varint(ranges.length)
  let prev = 0
  for (const r of ranges) {
    w.varint(r.start - prev).varint(r.end - r.start)
    prev = r.end
  }
}

/**
 * Reads ranges over a manifest of `n` chunks: `CAFS_XFER_BAD_WISHLIST` for an empty or
 * touching range, `CAFS_XFER_WISHLIST_OUT_OF_RANGE` for an index ≥ n.
 */
export function decodeRanges(r: ByteReader, n: number): IndexRange[] {
  const count = r.varint()
  if (count > n) throw xferError(XferCode.WISHLIST_OUT_OF_RANGE, 'more ranges than chunks', { count, n })
  // Each range takes at least two bytes: refuse a count the body cannot hold before looping.
  if (count * 2 > r.remaining) throw xferError(XferCode.BAD_MESSAGE, 'wishlist ends early')
  const out: IndexRange[] = []
  let prev = 0
  for (let i = 0; i < count; i++) {
    const gap = r.varint()
    const run = r.varint()
    if (run === 0) throw xferError(XferCode.BAD_WISHLIST, 'empty range', { range: i })
    if (i > 0 && gap === 0) throw xferError(XferCode.BAD_WISHLIST, 'touching ranges', { range: i })
    const start = prev + gap
    const end = start + run
    if (end > n)
      throw xferError(XferCode.WISHLIST_OUT_OF_RANGE, 'range beyond the manifest', { start, end, n })
    out.push({ start, end })
    prev = end
  }
  return out
}
