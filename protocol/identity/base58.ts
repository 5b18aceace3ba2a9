import { bytesEqual, sha256d } from './hash.js'

/** Bitcoin's Base58 alphabet (no 0, O, I, l). */
export const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

// Reverse lookup for ASCII; -1 marks characters outside the alphabet.
const DECODE = new Int8Array(128).fill(-1)
for (let i = 0; i < BASE58_ALPHABET.length; i++) DECODE[BASE58_ALPHABET.charCodeAt(i)] = i

/** Base58 text of `bytes`; each leading zero byte becomes one leading '1'. */
export function base58Encode(bytes: Uint8Array): string {
  let zeros = 0
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++
  // log(256)/log(58) ≈ 1.37 digits per byte.
  const size = (((bytes.length - zeros) * 138) / 100 + 1) | 0
  const digits = new Uint8Array(size)
  let length = 0
  for (let i = zeros; i < bytes.length; i++) {
    let carry = bytes[i] as number
    let j = 0
    for (let k = size - 1; (carry !== 0 || j < length) && k >= 0; k--, j++) {
      carry += 256 * (digits[k] as number)
      digits[k] = carry % 58
      carry = (carry / 58) | 0
    }
    length = j
  }
  let start = size - length
  while (start < size && digits[start] === 0) start++
  let out = '1'.repeat(zeros)
  for (let i = start; i < size; i++) out += BASE58_ALPHABET[digits[i] as number]
  return out
}

/**
 * Bytes of Base58 `text`, or `undefined` for an empty string, a character outside the
 * alphabet, or text longer than `maxChars` (decoding is quadratic, so callers bound it).
 */
export function base58Decode(text: string, maxChars: number): Uint8Array | undefined {
  if (text.length === 0 || text.length > maxChars) return undefined
  let zeros = 0
  while (zeros < text.length && text.charCodeAt(zeros) === 49 /* '1' */) zeros++
  // log(58)/log(256) ≈ 0.733 bytes per digit.
  const size = (((text.length - zeros) * 733) / 1000 + 1) | 0
  const bytes = new Uint8Array(size)
  let length = 0
  for (let i = zeros; i < text.length; i++) {
    const c = text.charCodeAt(i)
    const value = c < 128 ? (DECODE[c] as number) : -1
    if (value < 0) return undefined
    let carry = value
    let j = 0
    for (let k = size - 1; (carry !== 0 || j < length) && k >= 0; k--, j++) {
      carry += 58 * (bytes[k] as number)
      bytes[k] = carry & 0xff
      carry >>= 8
    }
    length = j
  }
  let start = size - length
  while (start < size && bytes[start] === 0) start++
  const out = new Uint8Array(zeros + size - start)
  out.set(bytes.subarray(start), zeros)
  return out
}

/** Base58Check: `payload || first 4 bytes of sha256d(payload)`, Base58-encoded. */
export function base58CheckEncode(payload: Uint8Array): string {
  const full = new Uint8Array(payload.length + 4)
  full.set(payload)
  full.set(sha256d(payload).subarray(0, 4), payload.length)
  return base58Encode(full)
}

/** Result of {@link base58CheckDecode}: the payload, or why decoding failed. */
export type Base58CheckResult =
  | { ok: true; payload: Uint8Array }
  | { ok: false; reason: 'base58' | 'length' | 'checksum' }

/**
 * Payload of a Base58Check string whose decoded length (payload + 4-byte checksum) must be
 * one of `lengths`. Text longer than `maxChars` is refused (`length`) before decoding.
 */
export function base58CheckDecode(
  text: string,
  lengths: readonly number[],
  maxChars: number
): Base58CheckResult {
  if (text.length > maxChars) return { ok: false, reason: 'length' }
  const full = base58Decode(text, maxChars)
  if (full === undefined) return { ok: false, reason: 'base58' }
  if (!lengths.includes(full.length)) return { ok: false, reason: 'length' }
  const payload = full.subarray(0, full.length - 4)
  const check = sha256d(payload).subarray(0, 4)
  if (!bytesEqual(check, full.subarray(full.length - 4))) return { ok: false, reason: 'checksum' }
  return { ok: true, payload }
}
