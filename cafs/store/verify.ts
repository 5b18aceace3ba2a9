import { CHUNK_MAX_SIZE } from '../chunker.js'
import { CafsErrorCode, cafsError } from '../errors.js'
import { checkKey, keysEqual, sha256 } from '../keys.js'
import type { Key } from '../types.js'

/**
 * The checks every store runs on `put` before touching its state (CAFS-12): a 32-byte key, a
 * chunk of 1…{@link CHUNK_MAX_SIZE} bytes, and SHA-256(bytes) equal to the key. Throws
 * `CAFS_BAD_KEY`, `CAFS_CHUNK_SIZE` or `CAFS_HASH_MISMATCH`.
 */
export function verifyChunk(key: Key, bytes: Uint8Array): void {
  checkKey(key)
  checkChunkSize(bytes)
  if (!keysEqual(sha256(bytes), key))
    throw cafsError(CafsErrorCode.HASH_MISMATCH, 'chunk does not hash to key')
}

/** Throws `CAFS_CHUNK_SIZE` unless `bytes` is a Uint8Array of 1…{@link CHUNK_MAX_SIZE} bytes. */
export function checkChunkSize(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > CHUNK_MAX_SIZE)
    throw cafsError(CafsErrorCode.CHUNK_SIZE, 'chunk must be 1 to CHUNK_MAX_SIZE bytes', {
      size: bytes instanceof Uint8Array ? bytes.length : undefined
    })
}
