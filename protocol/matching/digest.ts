import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { BitwrkError } from '../errors.js'
import { type Match, MatchCode } from './types.js'

/** Domain tag that starts every epoch record (MATCH-13): the 14 ASCII bytes `bitwrk/match/1`. */
export const MATCH_DIGEST_DOMAIN = 'bitwrk/match/1'

/** Digest of a book before its first match (MATCH-13): 32 zero bytes, as hex. */
export const GENESIS_DIGEST = '0'.repeat(64)

const DOMAIN_BYTES = utf8ToBytes(MATCH_DIGEST_DOMAIN)
/** Bytes per match in the record: buy id 32, sell id 32, price 8, maker 1. */
const MATCH_BYTES = 73
/** Largest key length a u16 length prefix holds. */
const MAX_KEY_BYTES = 0xffff

/** UTF-8 bytes of a match key; throws `MATCH_BAD_PARAMS` when empty or longer than 65,535 bytes. */
export function matchKeyBytes(key: string): Uint8Array {
  const bytes = utf8ToBytes(key)
  if (bytes.length === 0 || bytes.length > MAX_KEY_BYTES)
    throw new BitwrkError(MatchCode.BAD_PARAMS, 'match key must have 1..65535 UTF-8 bytes', {
      length: bytes.length
    })
  return bytes
}

/** Value of one lowercase hex digit (the ids were checked by MATCH-3). */
function nibble(c: number): number {
  return c <= 57 ? c - 48 : c - 87
}

/** Decodes a 64-character lowercase hex id into `out` at `offset`, without allocating. */
function writeHex32(out: Uint8Array, offset: number, hex: string): void {
  for (let i = 0; i < 32; i++)
    out[offset + i] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1))
}

/**
 * Canonical bytes of one epoch's matches chained to the previous digest (MATCH-13):
 * `domain(14) ‖ prev(32) ‖ u16 keyLen ‖ key ‖ u64 epoch ‖ u32 count ‖ count × (buyId(32) ‖
 * sellId(32) ‖ u64 price ‖ u8 maker)`; integers big-endian, maker 0 = BUY rested, 1 = SELL.
 */
export function encodeEpochRecord(
  prevDigest: string,
  key: string | Uint8Array,
  epoch: number,
  matches: readonly Match[]
): Uint8Array {
  const keyBytes = typeof key === 'string' ? matchKeyBytes(key) : key
  const prev = hexToBytes(prevDigest)
  const size = DOMAIN_BYTES.length + 32 + 2 + keyBytes.length + 8 + 4 + matches.length * MATCH_BYTES
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  let o = 0
  out.set(DOMAIN_BYTES, o)
  o += DOMAIN_BYTES.length
  out.set(prev, o)
  o += 32
  view.setUint16(o, keyBytes.length)
  o += 2
  out.set(keyBytes, o)
  o += keyBytes.length
  view.setBigUint64(o, BigInt(epoch))
  o += 8
  view.setUint32(o, matches.length)
  o += 4
  for (const m of matches) {
    writeHex32(out, o, m.buyId)
    o += 32
    writeHex32(out, o, m.sellId)
    o += 32
    view.setBigUint64(o, m.price)
    o += 8
    out[o] = m.maker === 'BUY' ? 0 : 1
    o += 1
  }
  return out
}

/**
 * Digest after an epoch (MATCH-13): SHA-256 of {@link encodeEpochRecord} as lowercase hex, or
 * `prevDigest` unchanged when the epoch has no matches.
 */
export function chainDigest(
  prevDigest: string,
  key: string | Uint8Array,
  epoch: number,
  matches: readonly Match[]
): string {
  if (matches.length === 0) return prevDigest
  return bytesToHex(sha256(encodeEpochRecord(prevDigest, key, epoch, matches)))
}
