import { secp256k1 } from '@noble/curves/secp256k1.js'

/** The subset of the native `secp256k1` addon this module calls. */
interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed?: boolean): Uint8Array
}

// The native libsecp256k1 addon is ~10x faster than pure JS for recovery; a missing or
// broken prebuild must not break the node, so fall back to @noble/curves.
let native: NativeSecp256k1 | undefined
try {
  native = (await import('secp256k1/bindings.js')).default
} catch {
  native = undefined
}

/** True when the native libsecp256k1 addon loaded (else recovery uses @noble/curves). */
export function nativeSecp256k1Available(): boolean {
  return native !== undefined
}

/**
 * Public key recovered by libsecp256k1 from a 64-byte `r || s` signature, or `undefined`
 * when r or s is out of range or no point exists. High S is accepted.
 */
export function recoverNative(
  rs: Uint8Array,
  recid: number,
  digest: Uint8Array,
  compressed: boolean
): Uint8Array | undefined {
  if (native === undefined) return undefined
  try {
    return native.ecdsaRecover(rs, recid, digest, compressed)
  } catch {
    return undefined
  }
}

/** The same recovery in pure JavaScript (@noble/curves); high S is accepted. */
export function recoverNoble(
  rs: Uint8Array,
  recid: number,
  digest: Uint8Array,
  compressed: boolean
): Uint8Array | undefined {
  try {
    const sig = new Uint8Array(65)
    sig[0] = recid
    sig.set(rs, 1)
    const pub = secp256k1.recoverPublicKey(sig, digest, { prehash: false })
    return compressed ? pub : secp256k1.Point.fromBytes(pub).toBytes(false)
  } catch {
    return undefined
  }
}

/**
 * Recovers the SEC1 public key (33 bytes if `compressed`, else 65) that produced signature
 * `rs` (64 bytes, r || s big-endian) with recovery id `recid` (0..3) over the 32-byte
 * `digest`; `undefined` if none. Uses libsecp256k1 when loaded, @noble/curves otherwise.
 */
export function recoverPublicKey(
  rs: Uint8Array,
  recid: number,
  digest: Uint8Array,
  compressed: boolean
): Uint8Array | undefined {
  return native !== undefined
    ? recoverNative(rs, recid, digest, compressed)
    : recoverNoble(rs, recid, digest, compressed)
}
