import { BitwrkError } from '../../protocol/errors.js'

/**
 * Error codes of the demo article `net.bitwrk/rays/0` (spec: protocol/spec/demo-article.md,
 * RAYS-9). Work and PNG decoders face untrusted bytes (a seller receives work from a buyer, a
 * buyer receives PNG tiles from sellers), so every way to fail has its own code.
 */
export const DemoCode = {
  /** Work bytes exceed {@link WORK_MAX_BYTES} (RAYS-2). */
  workTooLarge: 'DEMO_WORK_TOO_LARGE',
  /** Work bytes are not UTF-8 JSON of the work shape: wrong or missing fields, wrong types (RAYS-2). */
  badWork: 'DEMO_BAD_WORK',
  /** Work bytes parse but are not the canonical encoding of what they contain (RAYS-2). */
  workNotCanonical: 'DEMO_WORK_NOT_CANONICAL',
  /** Image width/height outside 1 … 4096 or not an integer (RAYS-3). */
  badImageSize: 'DEMO_BAD_IMAGE_SIZE',
  /** Tile rectangle empty, not integral, or not inside the image (RAYS-3). */
  badTile: 'DEMO_BAD_TILE',
  /** Samples per pixel outside 1 … 64 or not an integer (RAYS-3). */
  badSamples: 'DEMO_BAD_SAMPLES',
  /** Tile pixels × samples exceed the per-work budget (RAYS-3). */
  workTooCostly: 'DEMO_WORK_TOO_COSTLY',
  /** The scene does not follow the scene format (RAYS-4); `details.path` names the field. */
  badScene: 'DEMO_BAD_SCENE',
  /** The scene exceeds a count limit: objects, lights, depth (RAYS-4). */
  sceneTooLarge: 'DEMO_SCENE_TOO_LARGE',
  /** Not a PNG: the 8-byte signature is wrong (RAYS-7). */
  pngBadSignature: 'DEMO_PNG_BAD_SIGNATURE',
  /** The PNG ends inside a chunk or before IEND (RAYS-7). */
  pngTruncated: 'DEMO_PNG_TRUNCATED',
  /** A chunk's CRC-32 does not match (RAYS-7). */
  pngBadCrc: 'DEMO_PNG_BAD_CRC',
  /** A chunk with a bad length, bad type, unknown critical type, or out of order (RAYS-7). */
  pngBadChunk: 'DEMO_PNG_BAD_CHUNK',
  /** IHDR is malformed (length, zero dimension, compression/filter method) (RAYS-7). */
  pngBadHeader: 'DEMO_PNG_BAD_HEADER',
  /** Valid PNG outside the result profile: not 8-bit RGBA, or interlaced (RAYS-7). */
  pngUnsupported: 'DEMO_PNG_UNSUPPORTED',
  /** Input bytes, dimensions or pixel count above the decoder's limits (RAYS-7). */
  pngTooLarge: 'DEMO_PNG_TOO_LARGE',
  /** The IDAT stream is not valid zlib (RAYS-7). */
  pngBadZlib: 'DEMO_PNG_BAD_ZLIB',
  /** The IDAT stream inflates to more or fewer bytes than the image needs (bomb guard) (RAYS-7). */
  pngBadDataSize: 'DEMO_PNG_BAD_DATA_SIZE',
  /** A scanline names a filter type other than 0 … 4 (RAYS-7). */
  pngBadFilter: 'DEMO_PNG_BAD_FILTER',
  /** Bytes follow the IEND chunk (RAYS-7). */
  pngTrailingData: 'DEMO_PNG_TRAILING_DATA',
  /** `work.asset.size` above {@link ASSET_LIMITS}.maxBytes (RAYS-10). */
  assetTooLarge: 'DEMO_ASSET_TOO_LARGE',
  /**
   * The worker could not get the asset from its node: no node API in its environment, the node
   * answered with an error (not held and not found on the network), or the deadline passed
   * (RAYS-11). Not provably the work's fault: the worker exits 3.
   */
  assetUnavailable: 'DEMO_ASSET_UNAVAILABLE',
  /** The asset served for `work.asset.key` does not have `work.asset.size` bytes (RAYS-11). */
  assetWrongSize: 'DEMO_ASSET_WRONG_SIZE',
  /** The asset served for `work.asset.key` does not hash to that key (RAYS-11). */
  assetWrongHash: 'DEMO_ASSET_WRONG_HASH',
  /** A tiling request that cannot be met (k < 1, k > limit, more tiles than pixels) (RAYS-8). */
  badTiling: 'DEMO_BAD_TILING',
  /** A decoded tile whose size or position does not fit its slot in the image (RAYS-8). */
  tileMismatch: 'DEMO_TILE_MISMATCH'
} as const

/** One of the {@link DemoCode} values. */
export type DemoErrorCode = (typeof DemoCode)[keyof typeof DemoCode]

/** Throws a {@link BitwrkError} with a demo code; `never` so callers can `return fail(...)`. */
export function fail(code: DemoErrorCode, message: string, details: Record<string, unknown> = {}): never {
  throw new BitwrkError(code, message, details)
}
