import { BitwrkError, errorBuilder } from '../protocol/errors.js'

/**
 * Every error code CAFS (chunker, keys, manifests, stores, import/export) raises. Tests, metrics
 * and the API use these codes, never message text. See protocol/spec/cafs.md, section "Error
 * codes"; each code below names the rule that raises it.
 */
export const CafsCode = {
  /** A key is not 32 bytes, or a hex key not 64 lowercase hex characters (CAFS-5, CAFS-12). */
  BAD_KEY: 'CAFS_BAD_KEY',
  /** A CID is not CIDv1 / raw codec / sha2-256 multihash of 32 bytes (CAFS-7). */
  BAD_CID: 'CAFS_BAD_CID',
  /** A chunk's SHA-256 is not the key it was offered under (CAFS-12; DESIGN.md invariant 8). */
  HASH_MISMATCH: 'CAFS_HASH_MISMATCH',
  /** A chunk is empty or longer than {@link CHUNK_MAX_SIZE} (CAFS-12). */
  CHUNK_SIZE: 'CAFS_CHUNK_SIZE',
  /** A chunk does not fit: larger than the budget, or every other chunk is pinned (CAFS-13). */
  STORE_FULL: 'CAFS_STORE_FULL',
  /** The store was closed (CAFS-17). */
  STORE_CLOSED: 'CAFS_STORE_CLOSED',
  /** The on-disk store has another (or no) schema version (CAFS-17). */
  STORE_SCHEMA: 'CAFS_STORE_SCHEMA',
  /** `unpin` of a chunk whose reference count is already zero, a caller bug (CAFS-14). */
  NOT_PINNED: 'CAFS_NOT_PINNED',
  /** A chunk a manifest lists is not in the store (CAFS-16). */
  CHUNK_MISSING: 'CAFS_CHUNK_MISSING',
  /** The bytes read back do not hash to the manifest's file key, or differ in length (CAFS-16). */
  FILE_KEY_MISMATCH: 'CAFS_FILE_KEY_MISMATCH',
  /** Manifest encoding ends early (CAFS-9). */
  MANIFEST_TRUNCATED: 'CAFS_MANIFEST_TRUNCATED',
  /** Manifest encoding is longer than {@link MANIFEST_MAX_BYTES} (CAFS-9). */
  MANIFEST_OVERSIZED: 'CAFS_MANIFEST_OVERSIZED',
  /** Manifest encoding does not start with the magic `bwmf` (CAFS-9). */
  MANIFEST_BAD_MAGIC: 'CAFS_MANIFEST_BAD_MAGIC',
  /** Manifest encoding has an unknown version byte (CAFS-9). */
  MANIFEST_BAD_VERSION: 'CAFS_MANIFEST_BAD_VERSION',
  /** More than {@link MANIFEST_MAX_CHUNKS} chunks (CAFS-9). */
  MANIFEST_TOO_MANY_CHUNKS: 'CAFS_MANIFEST_TOO_MANY_CHUNKS',
  /** Bytes after the last chunk entry (CAFS-9). */
  MANIFEST_TRAILING_BYTES: 'CAFS_MANIFEST_TRAILING_BYTES',
  /** The chunk sizes do not sum to the file size (CAFS-9). */
  MANIFEST_SIZE_MISMATCH: 'CAFS_MANIFEST_SIZE_MISMATCH',
  /** A chunk entry of length zero (CAFS-9). */
  MANIFEST_EMPTY_CHUNK: 'CAFS_MANIFEST_EMPTY_CHUNK',
  /** A chunk entry longer than {@link CHUNK_MAX_SIZE} (CAFS-9). */
  MANIFEST_CHUNK_TOO_LARGE: 'CAFS_MANIFEST_CHUNK_TOO_LARGE',
  /** A key of the wrong length, or a file key that contradicts the chunks (0 or 1 chunk; CAFS-9). */
  MANIFEST_KEY_MISMATCH: 'CAFS_MANIFEST_KEY_MISMATCH'
} as const

/** Union of the CAFS error code strings. */
export type CafsErrorCode = (typeof CafsCode)[keyof typeof CafsCode]

/** A {@link BitwrkError} carrying a CAFS code. */
export const cafsError = errorBuilder<CafsErrorCode>()
