import { createHash } from 'node:crypto'
import { DemoCode, fail } from './errors.js'
import { mix32 } from './tracer.js'

/**
 * Assets of the demo article `net.bitwrk/rays/0` (spec: protocol/spec/demo-article.md,
 * RAYS-10 … RAYS-12): a work item may name one input file by SHA-256 key and size next to its
 * small per-tile part. The file is a texture (RGB byte triples) that `texture` materials read
 * (RAYS-5.4); the seller's worker fetches it from its own node, which finds it on the network
 * (every seller of one job fetches the same asset, so sellers serve it to each other).
 */

/** Limits of RAYS-10. */
export const ASSET_LIMITS = {
  /**
   * Largest asset: 256 MiB. The worker holds the asset in memory while it renders (one copy),
   * so this bounds a worker's memory; four times the 64 MiB of the `swarm` bench.
   */
  maxBytes: 256 * 2 ** 20,
  /** Smallest asset: one RGB texel. */
  minBytes: 3
} as const

/** A work item's reference to its asset (RAYS-10). */
export interface AssetRef {
  /** SHA-256 of the asset's bytes, 64 lowercase hex digits (the CAFS file key, CAFS-3). */
  readonly key: string
  /** The asset's length in bytes, {@link ASSET_LIMITS}.minBytes … maxBytes. */
  readonly size: number
}

const HEX_KEY = /^[0-9a-f]{64}$/

/**
 * Checks a work item's `asset` value (RAYS-10) and returns it.
 * @throws BitwrkError `DEMO_BAD_WORK` (shape, key, size below the minimum) or
 *   `DEMO_ASSET_TOO_LARGE`.
 */
export function checkAssetRef(value: unknown): AssetRef {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return fail(DemoCode.badWork, 'work.asset must be an object')
  const keys = Object.keys(value)
  if (keys.length !== 2 || !Object.hasOwn(value, 'key') || !Object.hasOwn(value, 'size'))
    fail(DemoCode.badWork, 'work.asset must have exactly the fields key and size')
  const { key, size } = value as { key: unknown; size: unknown }
  if (typeof key !== 'string' || !HEX_KEY.test(key))
    fail(DemoCode.badWork, 'work.asset.key must be 64 lowercase hex digits (SHA-256)')
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < ASSET_LIMITS.minBytes)
    fail(DemoCode.badWork, `work.asset.size must be an integer ≥ ${ASSET_LIMITS.minBytes}`)
  if (size > ASSET_LIMITS.maxBytes)
    fail(DemoCode.assetTooLarge, `work.asset.size exceeds ${ASSET_LIMITS.maxBytes} bytes`)
  return { key, size }
}

/** The SHA-256 of `bytes` as 64 lowercase hex digits: an asset's key (RAYS-10). */
export function assetKey(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** The reference to `bytes` as a work item carries it. */
export function assetRefOf(bytes: Uint8Array): AssetRef {
  return { key: assetKey(bytes), size: bytes.length }
}

/**
 * Checks that `bytes` are the asset `ref` names (RAYS-11): size first, then SHA-256. Returns
 * the bytes.
 * @throws BitwrkError `DEMO_ASSET_WRONG_SIZE` or `DEMO_ASSET_WRONG_HASH`.
 */
export function verifyAsset(ref: AssetRef, bytes: Uint8Array): Uint8Array {
  if (bytes.length !== ref.size)
    fail(DemoCode.assetWrongSize, `asset has ${bytes.length} bytes, the work says ${ref.size}`)
  if (assetKey(bytes) !== ref.key) fail(DemoCode.assetWrongHash, 'asset does not hash to work.asset.key')
  return bytes
}

/** Weyl increment of the asset generator, as for the noise of RAYS-6. */
const GOLDEN = 0x9e3779b9

/**
 * The demo's generated asset (RAYS-12): `size` pseudo-random bytes from `seed`. Byte n is byte
 * (n mod 4), little-endian, of `mix32((seed + ⌊n/4⌋·0x9E3779B9) mod 2^32)`: the counter-based
 * generator of RAYS-6, so a buyer (or any client) regenerates the same bytes, hence the same
 * key, from (seed, size) alone. About 0.15 s per 64 MiB.
 */
export function generateAsset(seed: number, size: number): Uint8Array {
  if (!Number.isSafeInteger(size) || size < 0 || size > ASSET_LIMITS.maxBytes)
    throw new RangeError(`asset size must be an integer in 0 … ${ASSET_LIMITS.maxBytes}`)
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new RangeError('asset seed must be an integer in 0 … 2^32 − 1')
  const out = new Uint8Array(size)
  const words = size >>> 2
  for (let k = 0; k < words; k++) {
    const v = mix32((seed + Math.imul(k, GOLDEN)) >>> 0)
    const o = k << 2
    out[o] = v & 0xff
    out[o + 1] = (v >>> 8) & 0xff
    out[o + 2] = (v >>> 16) & 0xff
    out[o + 3] = v >>> 24
  }
  if (size & 3) {
    const v = mix32((seed + Math.imul(words, GOLDEN)) >>> 0)
    for (let i = 0; i < (size & 3); i++) out[(words << 2) + i] = (v >>> (8 * i)) & 0xff
  }
  return out
}
