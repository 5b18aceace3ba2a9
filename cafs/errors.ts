import { BitwrkError } from '../protocol/errors.js'

/**
 * Every error code CAFS (chunker, keys, manifests, stores, import/export) raises. Tests, metrics
 * and the API use these codes, never message text. See protocol/spec/cafs.md (CAFS-20…).
 */
export const CafsErrorCode = {
  /** A key is not 32 bytes, or a hex key is not 64 lowercase hex characters. */
  BAD_KEY: 'CAFS_BAD_KEY',
  /** A CID is not CIDv1 / raw codec / sha2-256 multihash of 32 bytes. */
  BAD_CID: 'CAFS_BAD_CID',
  /** A chunk's SHA-256 is not the key it was offered under (DESIGN.md invariant 8). */
  HASH_MISMATCH: 'CAFS_HASH_MISMATCH',
  /** A chunk is empty or longer than {@link CHUNK_MAX_SIZE}. */
  CHUNK_SIZE: 'CAFS_CHUNK_SIZE',
  /** A chunk does not fit: larger than the budget, or every other chunk is pinned. */
  STORE_FULL: 'CAFS_STORE_FULL',
  /** The store was closed. */
  STORE_CLOSED: 'CAFS_STORE_CLOSED',
  /** The on-disk store has another (or no) schema version. */
  STORE_SCHEMA: 'CAFS_STORE_SCHEMA',
  /** `unpin` of a chunk whose reference count is already zero (a caller bug). */
  NOT_PINNED: 'CAFS_NOT_PINNED',
  /** A chunk a manifest lists is not in the store. */
  CHUNK_MISSING: 'CAFS_CHUNK_MISSING',
  /** The bytes read back do not hash to the manifest's file key, or their length differs. */
  FILE_KEY_MISMATCH: 'CAFS_FILE_KEY_MISMATCH',
  /** Manifest encoding ends early. */
  MANIFEST_TRUNCATED: 'CAFS_MANIFEST_TRUNCATED',
  /** Manifest encoding is longer than {@link MANIFEST_MAX_BYTES}. */
  MANIFEST_OVERSIZED: 'CAFS_MANIFEST_OVERSIZED',
  /** Manifest encoding does not start with the magic `bwmf`. */
  MANIFEST_BAD_MAGIC: 'CAFS_MANIFEST_BAD_MAGIC',
  /** Manifest encoding has an unknown version byte. */
  MANIFEST_BAD_VERSION: 'CAFS_MANIFEST_BAD_VERSION',
  /** More than {@link MANIFEST_MAX_CHUNKS} chunks. */
  MANIFEST_TOO_MANY_CHUNKS: 'CAFS_MANIFEST_TOO_MANY_CHUNKS',
  /** Bytes after the last chunk entry. */
  MANIFEST_TRAILING_BYTES: 'CAFS_MANIFEST_TRAILING_BYTES',
  /** The chunk sizes do not sum to the file size. */
  MANIFEST_SIZE_MISMATCH: 'CAFS_MANIFEST_SIZE_MISMATCH',
  /** A chunk entry of length zero. */
  MANIFEST_EMPTY_CHUNK: 'CAFS_MANIFEST_EMPTY_CHUNK',
  /** A chunk entry longer than {@link CHUNK_MAX_SIZE}. */
  MANIFEST_CHUNK_TOO_LARGE: 'CAFS_MANIFEST_CHUNK_TOO_LARGE',
  /** A key of the wrong length, or a file key that contradicts the chunks (0 or 1 chunk). */
  MANIFEST_KEY_MISMATCH: 'CAFS_MANIFEST_KEY_MISMATCH'
} as const

/** Union of the CAFS error code strings. */
export type CafsErrorCode = (typeof CafsErrorCode)[keyof typeof CafsErrorCode]

/** A {@link BitwrkError} carrying a CAFS code. */
export function cafsError(
  code: CafsErrorCode,
  message: string,
  details: Record<string, unknown> = {}
): BitwrkError<CafsErrorCode> {
  return new BitwrkError(code, message, details)
}
