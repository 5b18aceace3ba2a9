import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { addressFromHash160, tryDecodeAddress } from './address.js'
import { base64Decode, base64Encode } from './base64.js'
import { IdentityCode, identityError } from './errors.js'
import { bytesEqual, hash160 } from './hash.js'
import { bigIntToBytes, bytesToBigInt, CURVE_ORDER, checkPrivateKey, type Network } from './keys.js'
import { recoverPublicKey } from './recover.js'

/** `0x18 || "Bitcoin Signed Message:\n"`: Bitcoin Core's signed-message magic (24-byte string). */
export const MESSAGE_MAGIC: Uint8Array = utf8ToBytes('\x18Bitcoin Signed Message:\n')

/** Length of a compact recoverable signature: header(1) || r(32) || s(32) (original §1.6). */
export const COMPACT_SIGNATURE_LENGTH = 65

/** Lowest header byte (27 = uncompressed, recid 0) and highest (34 = compressed, recid 3). */
export const SIGNATURE_HEADER_MIN = 27
/** Highest valid compact-signature header byte. */
export const SIGNATURE_HEADER_MAX = 34

/**
 * Bitcoin's CompactSize varint: < 0xfd one byte; else 0xfd + 2, 0xfe + 4, 0xff + 8 bytes
 * little-endian. This is the CORRECT encoding (DESIGN.md invariant 1): the original
 * BitWrk wrote `(len >> 1)` instead of `(len >> 8)` for 253..65535, which is not copied.
 */
export function bitcoinVarint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('varint of a non-negative safe integer')
  if (n < 0xfd) return Uint8Array.of(n)
  if (n <= 0xffff) return Uint8Array.of(0xfd, n & 0xff, n >>> 8)
  if (n <= 0xffffffff) return Uint8Array.of(0xfe, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24)
  const out = new Uint8Array(9)
  out[0] = 0xff
  let v = BigInt(n)
  for (let i = 1; i < 9; i++) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

/** sha256d(0x18 "Bitcoin Signed Message:\n" || varint(len) || message), message as UTF-8. */
export function messageDigest(message: string | Uint8Array): Uint8Array {
  const body = typeof message === 'string' ? utf8ToBytes(message) : message
  // Incremental hashing: no copy of the message into a prefixed buffer.
  const inner = sha256.create().update(MESSAGE_MAGIC).update(bitcoinVarint(body.length)).update(body).digest()
  return sha256(inner)
}

/** A parsed compact signature. */
export interface CompactSignature {
  /** Recovery id 0..3 (bit 0: R.y odd; bit 1: R.x = r + n). */
  recid: number
  /** Whether the signer's address hashes the compressed public key (header 31..34). */
  compressed: boolean
  /** r || s, 64 bytes big-endian (a view into the decoded bytes). */
  rs: Uint8Array
}

/**
 * Parses a Base64 compact signature; `undefined` for non-canonical Base64, a length other
 * than 65 bytes, or a header outside 27..34. Range of r and s is checked by recovery.
 */
export function decodeCompactSignature(signature: string): CompactSignature | undefined {
  // 65 bytes are exactly 88 Base64 characters; refuse anything else before decoding.
  if (typeof signature !== 'string' || signature.length !== 88) return undefined
  const bytes = base64Decode(signature)
  if (bytes === undefined || bytes.length !== COMPACT_SIGNATURE_LENGTH) return undefined
  const header = bytes[0] as number
  if (header < SIGNATURE_HEADER_MIN || header > SIGNATURE_HEADER_MAX) return undefined
  const flag = header - SIGNATURE_HEADER_MIN
  return { recid: flag & 3, compressed: flag >= 4, rs: bytes.subarray(1) }
}

/**
 * Public key (compressed or not, per the header) that produced `signature` over
 * `message`, or `undefined` if the signature is malformed or recovers no key.
 */
export function recoverMessagePublicKey(
  signature: string,
  message: string | Uint8Array
): Uint8Array | undefined {
  const sig = decodeCompactSignature(signature)
  if (sig === undefined) return undefined
  return recoverPublicKey(sig.rs, sig.recid, messageDigest(message), sig.compressed)
}

/** Address of the key that signed `message`, or `undefined` if the signature is invalid. */
export function recoverAddress(
  signature: string,
  message: string | Uint8Array,
  network: Network = 'mainnet'
): string | undefined {
  const pub = recoverMessagePublicKey(signature, message)
  return pub === undefined ? undefined : addressFromHash160(hash160(pub), network)
}

/**
 * True when `signature` is a valid compact signature of `message` by the key of the P2PKH
 * `address` (either network). High-S signatures are accepted (original vectors use them).
 */
export function verifyMessage(address: string, signature: string, message: string | Uint8Array): boolean {
  const a = tryDecodeAddress(address)
  if (!a.ok) return false
  const pub = recoverMessagePublicKey(signature, message)
  return pub !== undefined && bytesEqual(hash160(pub), a.hash160)
}

/**
 * Signs `message` Bitcoin-style and returns the Base64 65-byte compact signature.
 * `compressed` (default true) selects header 31..34 and the compressed address.
 * Default nonce: RFC 6979 with low S (what Bitcoin Core produces). An explicit `nonce` k
 * reproduces the original BitWrk's vectors (k = 1) exactly: plain ECDSA, S NOT normalised.
 */
export function signMessage(
  privateKey: Uint8Array,
  message: string | Uint8Array,
  options: { compressed?: boolean; nonce?: bigint } = {}
): string {
  checkPrivateKey(privateKey)
  const compressed = options.compressed ?? true
  const digest = messageDigest(message)
  const out = new Uint8Array(COMPACT_SIGNATURE_LENGTH)
  let recid: number
  if (options.nonce === undefined) {
    const sig = secp256k1.sign(digest, privateKey, { prehash: false, lowS: true, format: 'recovered' })
    recid = sig[0] as number
    out.set(sig.subarray(1), 1)
  } else {
    const r = signWithNonce(privateKey, digest, options.nonce)
    recid = r.recid
    out.set(r.rs, 1)
  }
  out[0] = SIGNATURE_HEADER_MIN + recid + (compressed ? 4 : 0)
  return base64Encode(out)
}

/** Plain ECDSA with a caller-chosen k (test vectors only): no low-S normalisation. */
function signWithNonce(
  privateKey: Uint8Array,
  digest: Uint8Array,
  k: bigint
): { recid: number; rs: Uint8Array } {
  const n = CURVE_ORDER
  if (k < 1n || k >= n) throw identityError(IdentityCode.BAD_NONCE, 'nonce k must be in [1, n-1]')
  const R = secp256k1.Point.BASE.multiply(k).toAffine()
  const r = R.x % n
  const d = bytesToBigInt(privateKey)
  const e = bytesToBigInt(digest) % n
  const s = (modInverse(k, n) * ((e + r * d) % n)) % n
  if (r === 0n || s === 0n) throw identityError(IdentityCode.BAD_NONCE, 'nonce k gives r = 0 or s = 0')
  const recid = (R.y & 1n ? 1 : 0) | (R.x >= n ? 2 : 0)
  const rs = new Uint8Array(64)
  rs.set(bigIntToBytes(r, 32))
  rs.set(bigIntToBytes(s, 32), 32)
  return { recid, rs }
}

/** a^-1 mod m for prime m (extended Euclid). */
function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m]
  let [oldS, s] = [1n, 0n]
  while (r !== 0n) {
    const q = oldR / r
    ;[oldR, r] = [r, oldR - q * r]
    ;[oldS, s] = [s, oldS - q * s]
  }
  return ((oldS % m) + m) % m
}
