import { defaultScanner, type GearScanner, SCAN_MAX_BYTES } from './gear-scan.js'
import type { AbortOptions } from './types.js'

/**
 * Content-defined chunking (CAFS-1…CAFS-4): a FastCDC-style gear-hash chunker with normalised
 * chunking (two masks). Parameters are chosen for work files of MiBs to GiBs; see
 * protocol/spec/cafs.md CAFS-1 for the measurements behind them.
 */

/**
 * Smallest chunk (except the last one of a file): 8 KiB, the floor that keeps the limits derived
 * from it (a 4 GiB file, `maxFileSize`, has at most 2^19 = `MANIFEST_MAX_CHUNKS` chunks). The
 * first `min - 1` bytes of a chunk are skipped unhashed.
 */
export const CHUNK_MIN_SIZE = 8 * 1024
/**
 * Length where the chunker switches from the strict to the lax mask (FastCDC "normal size").
 * 13 KiB (issue 16): measured in CAFS-1, the share resent after a 1 % edit at 20 places of a
 * 64 MiB file drops from about 3.4 % (32 KiB) to about 2 % (at most 2.4 % over twelve
 * samples), at a 16.7 KiB mean chunk.
 */
export const CHUNK_NORMAL_SIZE = 13 * 1024
/**
 * Largest chunk: a chunk is cut here whatever the content. Unchanged since the first
 * parameters (it bounds what stores, manifests and transfers accept, so chunks cut before
 * stay valid); random data almost never reaches it (p ≈ e^-27 with the lax mask).
 */
export const CHUNK_MAX_SIZE = 128 * 1024
/** Mask bits below the normal size: the 16 top bits of the hash must be zero (p = 2^-16). */
export const MASK_SMALL_BITS = 16
/** Mask bits from the normal size on: the 12 top bits must be zero (p = 2^-12). */
export const MASK_LARGE_BITS = 12

// The masks select the TOP bits of the 32-bit gear hash: bit k of (h << 1) + g depends on the
// last k + 1 bytes only, so the top bits carry the widest window (17…32 bytes here).

/**
 * The parameters of CAFS-1 as one object. Only {@link CHUNK_PARAMS} makes the chunks of the
 * protocol; other values exist to measure candidates (`cafs-chunk` bench) and are never used
 * for content that is exchanged.
 */
export interface ChunkParams {
  /** Smallest chunk except the last (bytes before it are not hashed). */
  readonly min: number
  /** Length from which the lax mask applies. */
  readonly normal: number
  /** Length at which a chunk is cut whatever the content (at most {@link SCAN_MAX_BYTES}). */
  readonly max: number
  /** Top bits of the hash that must be zero below `normal`. */
  readonly maskSmallBits: number
  /** Top bits of the hash that must be zero from `normal` on. */
  readonly maskLargeBits: number
}

/** The parameters of CAFS-1. */
export const CHUNK_PARAMS: ChunkParams = {
  min: CHUNK_MIN_SIZE,
  normal: CHUNK_NORMAL_SIZE,
  max: CHUNK_MAX_SIZE,
  maskSmallBits: MASK_SMALL_BITS,
  maskLargeBits: MASK_LARGE_BITS
}

/** The mask selecting the top `bits` bits of the 32-bit gear hash, as an int32. */
function topBits(bits: number): number {
  return (0xffffffff << (32 - bits)) | 0
}

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
  private readonly min: number
  private readonly normal: number
  private readonly max: number
  private readonly maskSmall: number
  private readonly maskLarge: number

  /**
   * `scanner` selects the hot-loop engine (tests compare them); the default is the fastest.
   * `params` other than {@link CHUNK_PARAMS} are for measurements only.
   */
  constructor(scanner: GearScanner = defaultScanner, params: ChunkParams = CHUNK_PARAMS) {
    if (!(params.min >= 1 && params.min <= params.normal && params.normal <= params.max))
      throw new RangeError('chunk parameters need 1 <= min <= normal <= max')
    if (params.max > SCAN_MAX_BYTES) throw new RangeError('chunk max exceeds SCAN_MAX_BYTES')
    this.scan = scanner
    this.min = params.min
    this.normal = params.normal
    this.max = params.max
    this.maskSmall = topBits(params.maskSmallBits)
    this.maskLarge = topBits(params.maskLargeBits)
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
      const hashFrom = Math.max(pos, base + this.min - 1)
      const maxEnd = Math.min(end, base + this.max)
      // Bytes before normalEnd make a chunk shorter than the normal size: strict mask.
      const normalEnd = Math.max(hashFrom, Math.min(end, base + this.normal - 1))
      let cut = -1
      let h = this.h
      if (hashFrom < maxEnd) {
        const r = this.scan(data, hashFrom, normalEnd, maxEnd, h, this.maskSmall, this.maskLarge)
        if (r >= 0) cut = r
        else h = (-1 - r) | 0
      }
      if (cut < 0 && maxEnd === base + this.max) cut = maxEnd
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
export function chunkBytes(data: Uint8Array, scanner?: GearScanner, params?: ChunkParams): Uint8Array[] {
  const c = new Chunker(scanner, params)
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
