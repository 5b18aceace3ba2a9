/**
 * The sealed result key (spec TX-23): ECIES over secp256k1 that encrypts the one-time result key
 * of a transaction to the buyer's public key, so that transmit-finished can be gossiped and
 * checked by everyone while only the buyer can read the key (DESIGN.md invariant 7).
 *
 * `sealed = E ‖ c ‖ t` (97 bytes): E = e·G compressed (e: ephemeral scalar from the injected
 * random source), Z = x(e·P), (pad ‖ macKey) = HKDF-SHA256(IKM Z, no salt,
 * info "bitwrk/result-key/1" ‖ txid ‖ E ‖ P, 64 bytes), c = key ⊕ pad, t = HMAC-SHA256(macKey, c).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, hexToBytes } from '@noble/hashes/utils.js'
import { BitwrkError } from '../errors.js'
import { isValidPrivateKey } from '../identity/index.js'

/** HKDF domain tag of the sealed result key (TX-23); a new construction gets a new tag. */
export const RESULT_KEY_SEAL_TAG = 'bitwrk/result-key/1'

/** Length of a result key in bytes (AES-256, TRADE-11). */
export const SEALED_KEY_PLAIN_BYTES = 32

/** Length of a compressed secp256k1 point (SEC1). */
const POINT_BYTES = 33

/** Length of the HMAC-SHA256 tag. */
const TAG_BYTES = 32

/** Length of a sealed result key: E (33) ‖ c (32) ‖ t (32). */
export const SEALED_KEY_BYTES = POINT_BYTES + SEALED_KEY_PLAIN_BYTES + TAG_BYTES

// As Identity.generate: 32 random bytes miss [1, n-1] with probability about 2^-128, so more
// than a few misses mean a broken random source.
const EPHEMERAL_ATTEMPTS = 16

// TX-1's txid form; kept here so that document.ts can import this module without a cycle.
const TXID = /^[0-9a-f]{64}$/
const TAG_BYTES_UTF8 = new TextEncoder().encode(RESULT_KEY_SEAL_TAG)
const SEALED_HEX = new RegExp(`^0[23][0-9a-f]{${2 * SEALED_KEY_BYTES - 2}}$`)

/** Codes of sealing and opening (TX-23). */
export const SealCode = {
  /** Not a sealed key: wrong length, not lower-case hex, or E is not a point of secp256k1. */
  MALFORMED: 'TX_SEAL_MALFORMED',
  /** The tag does not verify: sealed to another key or another transaction, or altered. */
  MISMATCH: 'TX_SEAL_MISMATCH',
  /** A caller's key is unusable: recipient not a compressed point, private key or result key invalid, random source broken. */
  BAD_KEY: 'TX_SEAL_BAD_KEY'
} as const

/** Union of the seal codes. */
export type SealErrorCode = (typeof SealCode)[keyof typeof SealCode]

function sealError(code: SealErrorCode, message: string): BitwrkError {
  return new BitwrkError(code, message)
}

/** The point of `bytes` (33-byte compressed SEC1) or undefined when it is not on the curve. */
function pointOf(bytes: Uint8Array): InstanceType<typeof secp256k1.Point> | undefined {
  if (bytes.length !== POINT_BYTES || (bytes[0] !== 0x02 && bytes[0] !== 0x03)) return undefined
  try {
    return secp256k1.Point.fromBytes(bytes)
  } catch {
    return undefined
  }
}

/**
 * True when `hex` has the form of a sealed key (TX-7): 194 lower-case hex digits whose first 33
 * bytes are a compressed point of secp256k1. Whether it opens only the recipient can tell.
 */
export function isSealedKeyText(hex: string): boolean {
  return SEALED_HEX.test(hex) && pointOf(hexToBytes(hex.slice(0, 2 * POINT_BYTES))) !== undefined
}

/** pad ‖ macKey of TX-23 from the shared x-coordinate and the context. */
function derive(
  z: Uint8Array,
  txid: string,
  e: Uint8Array,
  p: Uint8Array
): { pad: Uint8Array; macKey: Uint8Array } {
  const okm = hkdf(sha256, z, undefined, concatBytes(TAG_BYTES_UTF8, hexToBytes(txid), e, p), 64)
  return { pad: okm.subarray(0, 32), macKey: okm.subarray(32) }
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ (b[i] as number)
  return out
}

/** Byte equality in time independent of where the inputs differ (tags are secrets' images). */
function equalTimeSafe(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number)
  return d === 0
}

function checkTxid(txid: string): void {
  if (!TXID.test(txid)) throw sealError(SealCode.BAD_KEY, 'txid must be 64 lower-case hex digits')
}

/**
 * Seals the 32-byte result `key` of transaction `txid` to `recipient` (the buyer's 33-byte
 * compressed public key, named by the buy bid's peer id) under an ephemeral scalar drawn from
 * `random` (TX-23). Returns the 97 sealed bytes. Throws `TX_SEAL_BAD_KEY` for a recipient that is
 * not a compressed point, a key that is not 32 bytes, a bad txid, or a random source that yields
 * no scalar in [1, n-1].
 */
export function sealResultKey(
  recipient: Uint8Array,
  txid: string,
  key: Uint8Array,
  random: (n: number) => Uint8Array
): Uint8Array {
  checkTxid(txid)
  const p = pointOf(recipient)
  if (p === undefined) throw sealError(SealCode.BAD_KEY, 'recipient must be a compressed secp256k1 point')
  if (key.length !== SEALED_KEY_PLAIN_BYTES) throw sealError(SealCode.BAD_KEY, 'result key must be 32 bytes')
  for (let i = 0; i < EPHEMERAL_ATTEMPTS; i++) {
    const eph = random(32)
    if (!isValidPrivateKey(eph)) continue
    const e = secp256k1.getPublicKey(eph, true)
    const z = secp256k1.getSharedSecret(eph, recipient, true).subarray(1)
    const { pad, macKey } = derive(z, txid, e, recipient)
    const c = xor(key, pad)
    return concatBytes(e, c, hmac(sha256, macKey, c))
  }
  throw sealError(SealCode.BAD_KEY, 'random source yields no ephemeral scalar')
}

/**
 * Opens a sealed result key of transaction `txid` with the recipient's 32-byte private key
 * (TX-23). Throws `TX_SEAL_MALFORMED` when `sealed` is not 97 bytes with a curve point in front,
 * `TX_SEAL_MISMATCH` when the tag does not verify (another recipient, another transaction, an
 * altered byte), `TX_SEAL_BAD_KEY` for an invalid private key or txid.
 */
export function openResultKey(privateKey: Uint8Array, txid: string, sealed: Uint8Array): Uint8Array {
  checkTxid(txid)
  if (!isValidPrivateKey(privateKey))
    throw sealError(SealCode.BAD_KEY, 'private key must be 32 bytes in [1, n-1]')
  if (sealed.length !== SEALED_KEY_BYTES) throw sealError(SealCode.MALFORMED, 'sealed key must be 97 bytes')
  const e = sealed.subarray(0, POINT_BYTES)
  if (pointOf(e) === undefined) throw sealError(SealCode.MALFORMED, 'ephemeral key is not a curve point')
  const c = sealed.subarray(POINT_BYTES, POINT_BYTES + SEALED_KEY_PLAIN_BYTES)
  const t = sealed.subarray(POINT_BYTES + SEALED_KEY_PLAIN_BYTES)
  const z = secp256k1.getSharedSecret(privateKey, e, true).subarray(1)
  const { pad, macKey } = derive(z, txid, e, secp256k1.getPublicKey(privateKey, true))
  if (!equalTimeSafe(hmac(sha256, macKey, c), t))
    throw sealError(SealCode.MISMATCH, 'sealed key does not open with this key for this transaction')
  return xor(c, pad)
}
