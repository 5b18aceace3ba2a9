import { createHash, type Hash, hash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { CafsCode, cafsError } from './errors.js'
import { KEY_LENGTH, type Key } from './types.js'

/** Multihash code of sha2-256 (multicodec table). */
export const SHA2_256_CODE = 0x12

/** SHA-256 of the empty content: the file key of an empty file (notes I, CAFS-5). */
export const EMPTY_KEY_HEX = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'

/** Views a Node Buffer as a plain Uint8Array (same memory) so keys compare with deepEqual. */
function plain(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/** SHA-256 of `bytes` (node:crypto one-shot, native): the key of a chunk or of a small file. */
export function sha256(bytes: Uint8Array): Key {
  return plain(hash('sha256', bytes, 'buffer'))
}

/** The key of a chunk: SHA-256 of its bytes (CAFS-5). */
export const chunkKey = sha256

/**
 * Incremental SHA-256 of a whole file, fed while chunking (CAFS-5: the file key is independent
 * of the chunking).
 */
export class FileHasher {
  private readonly h: Hash = createHash('sha256')
  private done = false
  /** Bytes fed so far. */
  size = 0

  /** Feeds the next bytes of the file. */
  update(bytes: Uint8Array): void {
    this.h.update(bytes)
    this.size += bytes.length
  }

  /** The file key; the hasher cannot be used afterwards. */
  digest(): Key {
    if (this.done) throw new Error('FileHasher.digest called twice')
    this.done = true
    return plain(this.h.digest())
  }
}

/** True when `k` is a Uint8Array of {@link KEY_LENGTH} bytes. */
export function isKey(k: unknown): k is Key {
  return k instanceof Uint8Array && k.length === KEY_LENGTH
}

/** Throws `CAFS_BAD_KEY` unless `k` is a key; returns it. */
export function checkKey(k: unknown): Key {
  if (!isKey(k)) throw cafsError(CafsCode.BAD_KEY, 'key must be 32 bytes')
  return k
}

/** Byte-wise equality of two keys. */
export function keysEqual(a: Key, b: Key): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Lowercase hex form of a key (64 characters, as in the original's JSON and URLs). */
export function keyToHex(k: Key): string {
  return Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('hex')
}

const HEX_KEY = /^[0-9a-f]{64}$/

/** Parses a 64-character lowercase hex key; throws `CAFS_BAD_KEY` otherwise. */
export function keyFromHex(hex: string): Key {
  if (typeof hex !== 'string' || !HEX_KEY.test(hex))
    throw cafsError(CafsCode.BAD_KEY, 'key must be 64 lowercase hex characters')
  return plain(Buffer.from(hex, 'hex'))
}

/** The CIDv1 (raw codec, sha2-256 multihash) naming content with this key, for DHT records (CAFS-7). */
export function keyToCid(k: Key): CID {
  checkKey(k)
  return CID.createV1(raw.code, createDigest(SHA2_256_CODE, k))
}

/** The key inside a CID; throws `CAFS_BAD_CID` unless it is CIDv1 / raw / sha2-256 / 32 bytes. */
export function cidToKey(cid: CID): Key {
  if (
    cid.version !== 1 ||
    cid.code !== raw.code ||
    cid.multihash.code !== SHA2_256_CODE ||
    cid.multihash.digest.length !== KEY_LENGTH
  )
    throw cafsError(CafsCode.BAD_CID, 'CID must be CIDv1, raw codec, sha2-256', {
      cid: cid.toString()
    })
  return Uint8Array.from(cid.multihash.digest)
}

/** Parses a CID string (base32 `bafk…` etc.) into a key; throws `CAFS_BAD_CID`. */
export function cidStringToKey(s: string): Key {
  let cid: CID
  try {
    cid = CID.parse(s)
  } catch {
    throw cafsError(CafsCode.BAD_CID, 'not a CID')
  }
  return cidToKey(cid)
}
