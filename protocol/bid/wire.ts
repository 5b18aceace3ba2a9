import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { BidCode, type BidErrorCode } from './errors.js'

/** Separator between the signed document and its Base64 signature on the wire (BID-2). */
export const WIRE_SEPARATOR = 0x0a

/** A signed document split off its wire form, without copying the document bytes. */
export interface SignedParts {
  /** The document's bytes: a view into the wire bytes (what is hashed and signed). */
  readonly docBytes: Uint8Array
  /** The document as text (ASCII). */
  readonly document: string
  /** The Base64 compact signature text. */
  readonly signature: string
}

const ascii = new TextDecoder('latin1')

/**
 * Splits `document "\n" signature` (BID-1, BID-2): at most `maxBytes`, exactly one LF, every
 * other byte printable ASCII 0x21..0x7e (no spaces: escaped documents never contain one).
 */
export function splitSigned(bytes: Uint8Array, maxBytes: number): SignedParts | BidErrorCode {
  if (!(bytes instanceof Uint8Array)) return BidCode.malformed
  if (bytes.length > maxBytes) return BidCode.tooLarge
  let nl = -1
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number
    if (b === WIRE_SEPARATOR) {
      if (nl >= 0) return BidCode.malformed
      nl = i
    } else if (b < 0x21 || b > 0x7e) return BidCode.malformed
  }
  if (nl <= 0 || nl === bytes.length - 1) return BidCode.malformed
  const docBytes = bytes.subarray(0, nl)
  // latin1 is exact for the ASCII range checked above.
  return { docBytes, document: ascii.decode(docBytes), signature: ascii.decode(bytes.subarray(nl + 1)) }
}

/** `document "\n" signature` as bytes (documents and signatures are ASCII). */
export function joinSigned(document: string, signature: string): Uint8Array {
  const out = new Uint8Array(document.length + 1 + signature.length)
  for (let i = 0; i < document.length; i++) out[i] = document.charCodeAt(i)
  out[document.length] = WIRE_SEPARATOR
  for (let i = 0; i < signature.length; i++) out[document.length + 1 + i] = signature.charCodeAt(i)
  return out
}

/**
 * Id of a signed document (BID-19): lowercase hex SHA-256 of the document bytes, signature
 * excluded (ECDSA signatures are malleable, so they must not change an id).
 */
export function documentId(document: string | Uint8Array): string {
  const bytes = typeof document === 'string' ? Uint8Array.from(document, (c) => c.charCodeAt(0)) : document
  return bytesToHex(sha256(bytes))
}

/**
 * Splits a document `name=value&…` into raw values for the `names` in that exact order
 * (BID-4); `undefined` when a name differs, a field is missing or extra.
 */
export function splitFields(document: string, names: readonly string[]): string[] | undefined {
  const parts = document.split('&')
  if (parts.length !== names.length) return undefined
  const values: string[] = []
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string
    const name = names[i] as string
    if (
      part.length <= name.length ||
      !part.startsWith(name) ||
      part.charCodeAt(name.length) !== 0x3d /* '=' */
    )
      return undefined
    values.push(part.slice(name.length + 1))
  }
  return values
}

/** Value of the leading `kind=` field, or `undefined` if the document does not start with one. */
export function peekKind(document: string): string | undefined {
  if (!document.startsWith('kind=')) return undefined
  const end = document.indexOf('&')
  return document.slice(5, end < 0 ? document.length : end)
}

/** Canonical decimal milliseconds (BID-12): no sign, no leading zeros, at most 2^53 − 1. */
export function parseMillis(text: string): number | undefined {
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) return undefined
  const n = Number(text)
  return Number.isSafeInteger(n) ? n : undefined
}
