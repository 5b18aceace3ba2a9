/** Standard Base64 alphabet (RFC 4648 §4), used padded for compact signatures. */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const DECODE = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i

/** Padded standard Base64 of `bytes`. */
export function base64Encode(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  for (; i + 2 < bytes.length; i += 3) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number)
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!
  }
  const rest = bytes.length - i
  if (rest === 1) {
    const n = (bytes[i] as number) << 16
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + '=='
  } else if (rest === 2) {
    const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8)
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + '='
  }
  return out
}

/**
 * Bytes of canonical padded Base64 `text`, or `undefined` when the text is not exactly the
 * encoding {@link base64Encode} would produce (bad length, characters, padding, or non-zero
 * unused bits): a signature has one textual form only.
 */
export function base64Decode(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined
  let pad = 0
  if (text.endsWith('==')) pad = 2
  else if (text.endsWith('=')) pad = 1
  const out = new Uint8Array((text.length / 4) * 3 - pad)
  let o = 0
  for (let i = 0; i < text.length; i += 4) {
    let n = 0
    const last = i + 4 === text.length
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j)
      let v: number
      if (last && c === 61 /* '=' */ && j >= 4 - pad) v = 0
      else {
        v = c < 128 ? (DECODE[c] as number) : -1
        if (v < 0) return undefined
      }
      n = (n << 6) | v
    }
    const remaining = out.length - o
    if (remaining >= 3) {
      out[o++] = n >> 16
      out[o++] = (n >> 8) & 0xff
      out[o++] = n & 0xff
    } else {
      // Unused low bits of the last group must be zero, else two texts map to one value.
      if (remaining === 2 && (n & 0xff) !== 0) return undefined
      if (remaining === 1 && (n & 0xffff) !== 0) return undefined
      if (remaining >= 1) out[o++] = n >> 16
      if (remaining === 2) out[o++] = (n >> 8) & 0xff
    }
  }
  return out
}
