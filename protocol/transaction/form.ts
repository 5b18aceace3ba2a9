/**
 * Form encoding of signed documents (spec TX-5): Go's `url.QueryEscape`, which the original
 * BitWrk used for every signed document, and its strict inverse.
 */

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Bytes that stay literal: ALPHA / DIGIT / `-` `_` `.` `~` (Go `shouldEscape` for query components). */
function isUnreserved(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) || // 0-9
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    b === 0x2d || // -
    b === 0x5f || // _
    b === 0x2e || // .
    b === 0x7e // ~
  )
}

const HEX = '0123456789ABCDEF'
const PLAIN = /^[0-9A-Za-z._~-]*$/

/**
 * Escapes a value exactly like Go's `url.QueryEscape`: unreserved bytes literal, space as `+`,
 * every other UTF-8 byte as `%XX` with upper-case hex.
 */
export function queryEscape(value: string): string {
  if (PLAIN.test(value)) return value
  let out = ''
  for (const b of encoder.encode(value)) {
    if (isUnreserved(b)) out += String.fromCharCode(b)
    else if (b === 0x20) out += '+'
    else out += '%' + HEX[b >> 4] + HEX[b & 15]
  }
  return out
}

/**
 * Inverse of {@link queryEscape} that accepts only its canonical output: returns undefined for
 * bad `%` escapes, lower-case hex, escaped unreserved bytes, literal reserved characters or
 * invalid UTF-8, so that every value has exactly one encoding.
 */
export function queryUnescape(text: string): string | undefined {
  // Fast path: most values (hex, names, tags) are unreserved bytes only and unescape to themselves.
  if (PLAIN.test(text)) return text
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x2b) bytes.push(0x20)
    else if (c === 0x25) {
      const hi = HEX.indexOf(text[i + 1] ?? 'x')
      const lo = HEX.indexOf(text[i + 2] ?? 'x')
      if (hi < 0 || lo < 0) return undefined
      const b = hi * 16 + lo
      if (isUnreserved(b) || b === 0x20) return undefined
      bytes.push(b)
      i += 2
    } else if (c < 0x80 && isUnreserved(c)) bytes.push(c)
    else return undefined
  }
  try {
    return decoder.decode(new Uint8Array(bytes))
  } catch {
    return undefined
  }
}

/** One `name=value` field of a form document, values unescaped. */
export interface FormField {
  /** The field name. */
  readonly name: string
  /** The unescaped value. */
  readonly value: string
}

/**
 * Splits a form document into its fields in order. Every field must be `name=value` with a
 * non-empty canonical name; returns undefined for anything else (empty fields, a missing `=`,
 * non-canonical escaping).
 */
export function parseForm(text: string): FormField[] | undefined {
  const fields: FormField[] = []
  for (const part of text.split('&')) {
    const eq = part.indexOf('=')
    if (eq <= 0) return undefined
    const name = queryUnescape(part.slice(0, eq))
    const value = queryUnescape(part.slice(eq + 1))
    if (name === undefined || value === undefined) return undefined
    fields.push({ name, value })
  }
  return fields
}

/** Renders fields in the given order as `name=value` joined by `&` (TX-5). */
export function renderForm(fields: readonly FormField[]): string {
  return fields.map((f) => queryEscape(f.name) + '=' + queryEscape(f.value)).join('&')
}

/**
 * The original BitWrk's transaction document (notes §4.4): every parameter rendered
 * `QueryEscape(name)=QueryEscape(value)` (just the name when the value is empty), sorted as
 * whole strings, joined by `&`. bitwrk-node does not sign these; the function exists to check
 * the original's vectors and to document the difference (spec TX-5, vectors D).
 */
export function originalTxDocument(params: Readonly<Record<string, string>>): string {
  return Object.entries(params)
    .map(([name, value]) => (value === '' ? queryEscape(name) : queryEscape(name) + '=' + queryEscape(value)))
    .sort()
    .join('&')
}
