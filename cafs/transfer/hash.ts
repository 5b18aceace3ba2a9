import { createHash, type Hash } from 'node:crypto'
import type { Key } from '../types.js'

/** SHA-256 of `bytes` (native; chunks are hashed on the hot path). */
export function sha256(bytes: Uint8Array): Key {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/** True when two keys hold the same bytes. */
export function keysEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Lowercase hex of a key (map keys, logs). */
export function keyHex(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.length).toString('hex')
}

/** Incremental SHA-256 over a file's chunks, fed in manifest order. */
export class FileHasher {
  private readonly h: Hash = createHash('sha256')

  /** Adds the next chunk. */
  update(bytes: Uint8Array): void {
    this.h.update(bytes)
  }

  /** The file key. */
  digest(): Key {
    return new Uint8Array(this.h.digest())
  }
}
