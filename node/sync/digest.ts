import { createHash } from 'node:crypto'
import { compare } from 'uint8arrays/compare'
import { BUCKET_DIGEST_BYTES, ID_BYTES } from './codec.js'

/**
 * Buckets and bucket digests (protocol/spec/sync.md SYNC-4): a bid belongs to bucket
 * `id[0..bits)` (the first `bits` bits of its 32-byte id, big-endian); a bucket's digest is
 * the first 16 bytes of SHA-256 over its ids sorted ascending and concatenated, 16 zero bytes
 * when empty. A hash over the sorted set (not an XOR) cannot be cancelled out by crafted ids.
 */

/** Bucket index of a 32-byte id for `bits` in 0…16. */
export function bucketOf(id: Uint8Array, bits: number): number {
  if (bits === 0) return 0
  return (((id[0] as number) << 8) | (id[1] as number)) >>> (16 - bits)
}

/** Live ids of one article grouped into `2^bits` buckets, each sorted ascending. */
export function groupIds(ids: Iterable<Uint8Array>, bits: number): Uint8Array[][] {
  const buckets: Uint8Array[][] = Array.from({ length: 2 ** bits }, () => [])
  for (const id of ids) (buckets[bucketOf(id, bits)] as Uint8Array[]).push(id)
  for (const b of buckets) b.sort(compare)
  return buckets
}

/** Digest of one bucket's sorted ids (SYNC-4). */
export function bucketDigest(sortedIds: readonly Uint8Array[]): Uint8Array {
  if (sortedIds.length === 0) return new Uint8Array(BUCKET_DIGEST_BYTES)
  const h = createHash('sha256')
  for (const id of sortedIds) h.update(id)
  return new Uint8Array(h.digest().subarray(0, BUCKET_DIGEST_BYTES))
}

/** Counts and concatenated digests of grouped buckets, as a SUMMARY carries them. */
export function summarize(buckets: readonly (readonly Uint8Array[])[]): {
  counts: number[]
  digests: Uint8Array
} {
  const counts: number[] = []
  const digests = new Uint8Array(buckets.length * BUCKET_DIGEST_BYTES)
  buckets.forEach((b, i) => {
    counts.push(b.length)
    digests.set(bucketDigest(b), i * BUCKET_DIGEST_BYTES)
  })
  return { counts, digests }
}

/**
 * Bucket bits a requester asks for, from its own count of live bids (SYNC-8): about 8 bids per
 * bucket of its own book, 0 (one bucket: "send everything") for an empty book, at most `max`.
 */
export function chooseBits(localCount: number, max: number): number {
  if (localCount <= 8) return 0
  return Math.min(max, Math.ceil(Math.log2(localCount / 8)))
}

/** Raw 32-byte id from a 64-digit lowercase hex id; undefined when not such a string. */
export function idBytes(hex: string): Uint8Array | undefined {
  if (hex.length !== 2 * ID_BYTES || !/^[0-9a-f]+$/.test(hex)) return undefined
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/** 64-digit lowercase hex of a 32-byte id. */
export function idHex(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex')
}
