import { CHUNK_MAX_SIZE } from '../chunker.js'
import { CafsCode, cafsError } from '../errors.js'
import { checkKey, keysEqual, sha256 } from '../keys.js'
import type { AbortOptions, ChunkStore, Key } from '../types.js'
import { VerifiedChunk } from '../verified.js'

/**
 * The checks every store runs on `put` before touching its state (CAFS-12): a 32-byte key, a
 * chunk of 1…{@link CHUNK_MAX_SIZE} bytes, and SHA-256(bytes) equal to the key. Throws
 * `CAFS_BAD_KEY`, `CAFS_CHUNK_SIZE` or `CAFS_HASH_MISMATCH`.
 */
export function verifyChunk(key: Key, bytes: Uint8Array): void {
  checkKey(key)
  checkChunkSize(bytes)
  if (!keysEqual(sha256(bytes), key)) throw cafsError(CafsCode.HASH_MISMATCH, 'chunk does not hash to key')
}

/** Throws `CAFS_CHUNK_SIZE` unless `bytes` is a Uint8Array of 1…{@link CHUNK_MAX_SIZE} bytes. */
export function checkChunkSize(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > CHUNK_MAX_SIZE)
    throw cafsError(CafsCode.CHUNK_SIZE, 'chunk must be 1 to CHUNK_MAX_SIZE bytes', {
      size: bytes instanceof Uint8Array ? bytes.length : undefined
    })
}

/**
 * Stores a chunk verified in this process: through `putVerified` (no second hash) when the
 * store has it, else through `put` (which re-hashes).
 */
export function putChunk(store: ChunkStore, chunk: VerifiedChunk, options?: AbortOptions): Promise<void> {
  return store.putVerified ? store.putVerified(chunk, options) : store.put(chunk.key, chunk.bytes, options)
}

/**
 * The checks of `putVerified`: a real {@link VerifiedChunk} token (a forged look-alike is a
 * caller bug: `CAFS_HASH_MISMATCH`, as if it were hashed), a 32-byte key and a chunk of
 * 1…{@link CHUNK_MAX_SIZE} bytes. No hash: the token proves it was done.
 */
export function checkVerified(chunk: VerifiedChunk): void {
  if (!VerifiedChunk.is(chunk))
    throw cafsError(CafsCode.HASH_MISMATCH, 'not a VerifiedChunk made by hashing the bytes')
  checkKey(chunk.key)
  checkChunkSize(chunk.bytes)
}
