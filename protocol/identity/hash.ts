import { ripemd160 } from '@noble/hashes/legacy.js'
import { sha256 } from '@noble/hashes/sha2.js'

/** SHA-256 applied twice (Bitcoin's checksum and signed-message hash). */
export function sha256d(data: Uint8Array): Uint8Array {
  return sha256(sha256(data))
}

/** RIPEMD-160 of SHA-256: the 20-byte key hash inside a P2PKH address. */
export function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(sha256(data))
}

/** Constant-shape byte equality (lengths first, then every byte). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number)
  return diff === 0
}
