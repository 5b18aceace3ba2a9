import { secp256k1 } from '@noble/curves/secp256k1.js'
import { base58CheckDecode, base58CheckEncode } from './base58.js'
import { IdentityCode, identityError } from './errors.js'

/** Bitcoin network whose address version byte an address carries. */
export type Network = 'mainnet' | 'testnet'

/** A decoded private key and whether its public key (and address) use the compressed form. */
export interface KeyPair {
  /** 32-byte big-endian scalar d, 1 <= d <= n-1. */
  privateKey: Uint8Array
  /** True for a compressed (33-byte) public key, as WIF flag byte 0x01 says. */
  compressed: boolean
}

/** Order n of the secp256k1 group (SEC 2). */
export const CURVE_ORDER: bigint = secp256k1.Point.Fn.ORDER

/** WIF version byte (Bitcoin mainnet secret key prefix 128, original §1.4). */
export const WIF_VERSION = 0x80

/** WIF suffix byte that marks a compressed public key (original §1.4). */
export const WIF_COMPRESSED_FLAG = 0x01

// A WIF string is at most 52 Base58 characters (38 bytes); anything longer is garbage.
const WIF_MAX_CHARS = 60

/** Big-endian unsigned integer of `bytes`. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let n = 0n
  for (const b of bytes) n = (n << 8n) | BigInt(b)
  return n
}

/** `n` as `length` big-endian bytes (n must fit). */
export function bigIntToBytes(n: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length)
  let v = n
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

/** True when `privateKey` is 32 bytes and a scalar in [1, n-1]. */
export function isValidPrivateKey(privateKey: Uint8Array): boolean {
  if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32) return false
  const d = bytesToBigInt(privateKey)
  return d >= 1n && d < CURVE_ORDER
}

/** Returns `privateKey` when valid, else throws `ID_BAD_PRIVATE_KEY`. */
export function checkPrivateKey(privateKey: Uint8Array): Uint8Array {
  if (!isValidPrivateKey(privateKey))
    throw identityError(IdentityCode.BAD_PRIVATE_KEY, 'private key must be 32 bytes in [1, n-1]')
  return privateKey
}

/** SEC1 public key of `privateKey`: 33 bytes compressed or 65 bytes uncompressed. */
export function publicKeyFromPrivate(privateKey: Uint8Array, compressed: boolean): Uint8Array {
  return secp256k1.getPublicKey(checkPrivateKey(privateKey), compressed)
}

/**
 * Wallet Import Format of a private key: Base58Check of `0x80 || key [|| 0x01]`; the flag
 * byte is present for compressed keys (WIF starts with K/L), absent for uncompressed (5).
 */
export function encodeWif(privateKey: Uint8Array, compressed: boolean): string {
  checkPrivateKey(privateKey)
  const payload = new Uint8Array(compressed ? 34 : 33)
  payload[0] = WIF_VERSION
  payload.set(privateKey, 1)
  if (compressed) payload[33] = WIF_COMPRESSED_FLAG
  return base58CheckEncode(payload)
}

/**
 * Decodes a WIF private key. Throws `ID_BAD_WIF` with `details.reason` one of
 * `base58` (not Base58 text), `length` (decoded length not 37 or 38), `checksum`,
 * `version` (first byte not 0x80), `flag` (38-byte form whose last payload byte is not 0x01),
 * `key` (scalar 0 or >= n).
 */
export function decodeWif(wif: string): KeyPair {
  if (typeof wif !== 'string') throw identityError(IdentityCode.BAD_WIF, 'WIF must be a string', 'base58')
  // 1 version + 32 key [+ 1 flag] + 4 checksum.
  const r = base58CheckDecode(wif, [37, 38], WIF_MAX_CHARS)
  if (!r.ok) throw identityError(IdentityCode.BAD_WIF, `bad WIF (${r.reason})`, r.reason)
  const p = r.payload
  if (p[0] !== WIF_VERSION) throw identityError(IdentityCode.BAD_WIF, 'bad WIF version byte', 'version')
  const compressed = p.length === 34
  if (compressed && p[33] !== WIF_COMPRESSED_FLAG)
    throw identityError(IdentityCode.BAD_WIF, 'bad WIF compression flag', 'flag')
  const privateKey = p.slice(1, 33)
  if (!isValidPrivateKey(privateKey)) throw identityError(IdentityCode.BAD_WIF, 'WIF key out of range', 'key')
  return { privateKey, compressed }
}
