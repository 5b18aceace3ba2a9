import { utf8ToBytes } from '@noble/hashes/utils.js'

const HEX = '0123456789ABCDEF'

/** True for the characters Go's `url.QueryEscape` leaves alone: `A-Z a-z 0-9 - _ . ~`. */
function isUnreserved(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x5f ||
    c === 0x2e ||
    c === 0x7e
  )
}

/**
 * True when every character of `text` is unreserved: then `text` is its own canonical
 * escaping ({@link queryUnescape} and {@link queryEscape} both return it unchanged), which
 * decoders check first to skip both passes for most values.
 */
export function isUnreservedText(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isUnreserved(text.charCodeAt(i))) return false
  return true
}

/**
 * Go's `url.QueryEscape`: unreserved characters stay, a space becomes `+`, every other UTF-8
 * byte becomes `%XX` with uppercase hex (original §2.2: `/` → `%2F`, `€` → `%E2%82%AC`).
 */
export function queryEscape(value: string): string {
  let plain = true
  let ascii = true
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (!isUnreserved(c)) plain = false
    if (c >= 0x80) {
      ascii = false
      break
    }
  }
  if (plain) return value
  let out = ''
  // ASCII text (every valid document value) is escaped char by char, without a UTF-8 copy.
  if (ascii) {
    for (let i = 0; i < value.length; i++) out += escapeByte(value.charCodeAt(i))
    return out
  }
  for (const b of utf8ToBytes(value)) out += escapeByte(b)
  return out
}

function escapeByte(b: number): string {
  if (isUnreserved(b)) return String.fromCharCode(b)
  if (b === 0x20) return '+'
  return '%' + HEX[b >> 4] + HEX[b & 15]
}

const HEX_PAIR = /^[0-9A-Fa-f]{2}$/
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * Go's `url.QueryUnescape` (`%XX` in either case, `+` → space), but strict: a `%` without two
 * hex digits, a raw non-ASCII character, or escaped bytes that are not UTF-8 give `undefined`.
 * Callers re-encode with {@link queryEscape} and compare, so only the canonical spelling is
 * accepted.
 */
export function queryUnescape(text: string): string | undefined {
  let plain = true
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0x80) return undefined
    if (c === 0x25 || c === 0x2b) plain = false
  }
  if (plain) return text
  const bytes: number[] = []
  let ascii = true
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x25) {
      const hex = text.slice(i + 1, i + 3)
      if (!HEX_PAIR.test(hex)) return undefined
      const b = Number.parseInt(hex, 16)
      if (b >= 0x80) ascii = false
      bytes.push(b)
      i += 2
    } else if (c === 0x2b) bytes.push(0x20)
    else if (c < 0x80) bytes.push(c)
    else return undefined
  }
  // ASCII bytes are their own UTF-8 decoding; only other bytes need the strict decoder.
  if (ascii) return String.fromCharCode(...bytes)
  try {
    return fatalUtf8.decode(Uint8Array.from(bytes))
  } catch {
    return undefined
  }
}

/** The original's `normalize` (§2.2): remove every space, then {@link queryEscape}. */
export function normalize(value: string): string {
  return queryEscape(value.replaceAll(' ', ''))
}
