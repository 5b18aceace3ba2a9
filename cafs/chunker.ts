import { defaultScanner, type GearScanner } from './gear-scan.js'
import type { AbortOptions } from './types.js'

/**
 * Content-defined chunking (CAFS-1…CAFS-4): a FastCDC-style gear-hash chunker with normalised
 * chunking (two masks). Parameters are chosen for work files of MiBs to GiBs; see
 * protocol/spec/cafs.md CAFS-1 for the measurements behind them.
 */

/**
 * Smallest chunk (except the last one of a file): normal / 2 rather than FastCDC's normal / 4,
 * because the first `min - 1` bytes of a chunk are skipped unhashed (42 % of all bytes instead
 * of 22 %) while the dedup figure of CAFS-1 stays the same (measured).
 */
export const CHUNK_MIN_SIZE = 16 * 1024
/**
 * Length where the chunker switches from the strict to the lax mask (FastCDC "normal size").
 * 32 KiB, not 64 KiB: measured in CAFS-1, 64 KiB resends up to 7 % when 1 % of a 64 MiB file
 * changes at 20 places (insertions), 32 KiB about 3.3 %.
 */
export const CHUNK_NORMAL_SIZE = 32 * 1024
/** Largest chunk: a chunk is cut here whatever the content (normal × 4). */
export const CHUNK_MAX_SIZE = 128 * 1024
/** Mask bits below the normal size: the 17 top bits of the hash must be zero (p = 2^-17). */
export const MASK_SMALL_BITS = 17
/** Mask bits from the normal size on: the 13 top bits must be zero (p = 2^-13). */
export const MASK_LARGE_BITS = 13

// The masks select the TOP bits of the 32-bit gear hash: bit k of (h << 1) + g depends on the
// last k + 1 bytes only, so the top bits carry the widest window (16…32 bytes here).
const MASK_SMALL = (0xffffffff << (32 - MASK_SMALL_BITS)) | 0
const MASK_LARGE = (0xffffffff << (32 - MASK_LARGE_BITS)) | 0

/**
 * Streaming chunker: push input of any sizes, receive completed chunks. Boundaries depend only
 * on the content, never on how it was split into pushes (CAFS-3). Memory use is bounded by one
 * chunk ({@link CHUNK_MAX_SIZE}).
 *
 * Zero-copy: a chunk that lies inside one pushed buffer is returned as a `subarray` view of it;
 * a chunk spanning pushes is copied once. The chunker keeps views of pushed buffers until their
 * chunk completes, so callers must not modify a buffer after pushing it.
 */
export class Chunker {
  private parts: Uint8Array[] = []
  private len = 0
  private h = 0
  private readonly scan: GearScanner

  /** `scanner` selects the hot-loop engine (tests compare them); the default is the fastest. */
  constructor(scanner: GearScanner = defaultScanner) {
    this.scan = scanner
  }

  /** Feeds `data`; returns the chunks it completed, in order (possibly none). */
  push(data: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = []
    const end = data.length
    let pos = 0
    while (pos < end) {
      // `base` is where the current chunk starts in `data` coordinates (negative when it
      // started in an earlier push). A byte at index j makes the chunk j - base + 1 long.
      const base = pos - this.len
      const hashFrom = Math.max(pos, base + CHUNK_MIN_SIZE - 1)
      const maxEnd = Math.min(end, base + CHUNK_MAX_SIZE)
      // Bytes before normalEnd make a chunk shorter than the normal size: strict mask.
      const normalEnd = Math.max(hashFrom, Math.min(end, base + CHUNK_NORMAL_SIZE - 1))
      let cut = -1
      let h = this.h
      if (hashFrom < maxEnd) {
        const r = this.scan(data, hashFrom, normalEnd, maxEnd, h, MASK_SMALL, MASK_LARGE)
        if (r >= 0) cut = r
        else h = (-1 - r) | 0
      }
      if (cut < 0 && maxEnd === base + CHUNK_MAX_SIZE) cut = maxEnd
      if (cut < 0) {
        this.parts.push(pos === 0 ? data : data.subarray(pos))
        this.len += end - pos
        this.h = h
        return out
      }
      out.push(this.take(data.subarray(pos, cut)))
      pos = cut
    }
    return out
  }

  /** Ends the input: returns the last, possibly short chunk (none when nothing is pending). */
  finish(): Uint8Array[] {
    if (this.len === 0) return []
    return [this.take(new Uint8Array(0))]
  }

  /** Completes the current chunk with `tail` and resets the state. */
  private take(tail: Uint8Array): Uint8Array {
    let chunk: Uint8Array
    if (this.parts.length === 0) chunk = tail
    else if (this.parts.length === 1 && tail.length === 0) chunk = this.parts[0]!
    else {
      chunk = new Uint8Array(this.len + tail.length)
      let o = 0
      for (const p of this.parts) {
        chunk.set(p, o)
        o += p.length
      }
      chunk.set(tail, o)
    }
    this.parts = []
    this.len = 0
    this.h = 0
    return chunk
  }
}

/** Chunks a whole buffer (views into `data`). Empty input gives no chunks. */
export function chunkBytes(data: Uint8Array, scanner?: GearScanner): Uint8Array[] {
  const c = new Chunker(scanner)
  return [...c.push(data), ...c.finish()]
}

/** Chunks a stream, yielding each chunk as soon as it completes. */
export async function* chunkStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: AbortOptions = {}
): AsyncGenerator<Uint8Array, void, undefined> {
  const c = new Chunker()
  for await (const data of source) {
    options.signal?.throwIfAborted()
    yield* c.push(data)
  }
  options.signal?.throwIfAborted()
  yield* c.finish()
}
