/**
 * A strict, bounded, streaming reader of `multipart/form-data` (RFC 7578) that yields the
 * content of one field (API-6). Memory is bounded by the part-header limit plus one source
 * chunk: field content is yielded as it arrives, other fields are discarded.
 */
import { ApiCode, ApiError } from './errors.js'

/** Most bytes of one part's header block (a bound; browsers send well under 1 KiB). */
export const MULTIPART_MAX_HEADER_BYTES = 8192
/** Most parts in one body (a bound). */
export const MULTIPART_MAX_PARTS = 64
/** Most bytes before the first delimiter (preamble). */
export const MULTIPART_MAX_PREAMBLE_BYTES = 1024

/** RFC 2046 boundary characters, 1..70 of them, not ending in a space. */
const BOUNDARY_RE = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/

function bad(message: string): ApiError {
  return new ApiError(ApiCode.BAD_REQUEST, `multipart: ${message}`)
}

/**
 * The boundary of a `multipart/form-data` content type, undefined for any other type; throws
 * `API_BAD_REQUEST` for a multipart type without a valid boundary.
 */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined
  const [type = '', ...params] = contentType.split(';')
  if (type.trim().toLowerCase() !== 'multipart/form-data') return undefined
  for (const p of params) {
    const eq = p.indexOf('=')
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'boundary') continue
    let v = p.slice(eq + 1).trim()
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1)
    if (!BOUNDARY_RE.test(v)) throw bad('invalid boundary')
    return v
  }
  throw bad('missing boundary')
}

/** The `name` of a part from its headers; throws for a part that is not `form-data`. */
function partName(headerBlock: string): string {
  let disposition: string | undefined
  for (const line of headerBlock.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon <= 0) throw bad('malformed part header')
    if (line.slice(0, colon).trim().toLowerCase() === 'content-disposition') {
      if (disposition !== undefined) throw bad('two Content-Disposition headers')
      disposition = line.slice(colon + 1).trim()
    }
  }
  if (disposition === undefined) throw bad('part without Content-Disposition')
  const [kind = '', ...params] = disposition.split(';')
  if (kind.trim().toLowerCase() !== 'form-data') throw bad('part is not form-data')
  for (const p of params) {
    const m = /^\s*name\s*=\s*(?:"([^"]*)"|([^\s";]+))\s*$/i.exec(p)
    if (m) return m[1] ?? m[2] ?? ''
  }
  throw bad('part without a name')
}

type State = 'preamble' | 'delimiter' | 'headers' | 'body' | 'end'

/**
 * Yields the content of field `field` of a multipart body read from `source`, then checks the
 * rest of the body up to the closing delimiter. Throws `API_BAD_REQUEST` when the field is
 * missing or repeated, or the body is malformed (no closing delimiter, oversized headers, too
 * many parts). The consumer must read to the end for the checks to run.
 */
export async function* multipartField(
  source: AsyncIterable<Uint8Array>,
  boundary: string,
  field: string
): AsyncGenerator<Uint8Array, void, undefined> {
  // The first delimiter may start the body; a virtual CRLF in front makes every delimiter
  // `CRLF--boundary`, so one search handles all.
  const delim = Buffer.from(`\r\n--${boundary}`)
  let buf: Buffer = Buffer.from('\r\n')
  const st: { state: State } = { state: 'preamble' }
  let parts = 0
  let found = false
  let current = false
  let preamble = 0
  const step = function* (): Generator<Uint8Array, boolean, undefined> {
    // Processes `buf` as far as possible; returns false when more input is needed.
    for (;;) {
      if (st.state === 'preamble' || st.state === 'body') {
        const at = buf.indexOf(delim)
        if (at < 0) {
          const safe = Math.max(0, buf.length - (delim.length - 1))
          if (st.state === 'body' && current && safe > 0) yield buf.subarray(0, safe)
          if (st.state === 'preamble') {
            preamble += safe
            if (preamble > MULTIPART_MAX_PREAMBLE_BYTES) throw bad('no delimiter')
          }
          buf = buf.subarray(safe)
          return false
        }
        if (st.state === 'body' && current && at > 0) yield buf.subarray(0, at)
        if (st.state === 'preamble' && preamble + at > MULTIPART_MAX_PREAMBLE_BYTES) throw bad('no delimiter')
        buf = buf.subarray(at + delim.length)
        current = false
        st.state = 'delimiter'
      } else if (st.state === 'delimiter') {
        if (buf.length < 2) return false
        const two = buf.toString('latin1', 0, 2)
        if (two === '--') {
          st.state = 'end'
          return true
        }
        if (two !== '\r\n') throw bad('bad delimiter line')
        buf = buf.subarray(2)
        if (++parts > MULTIPART_MAX_PARTS) throw bad('too many parts')
        st.state = 'headers'
      } else if (st.state === 'headers') {
        const at = buf.indexOf('\r\n\r\n')
        if (at < 0) {
          if (buf.length > MULTIPART_MAX_HEADER_BYTES) throw bad('part headers too long')
          return false
        }
        if (at > MULTIPART_MAX_HEADER_BYTES) throw bad('part headers too long')
        const name = partName(buf.toString('latin1', 0, at))
        buf = buf.subarray(at + 4)
        if (name === field) {
          if (found) throw bad(`field '${field}' given twice`)
          found = true
          current = true
        }
        st.state = 'body'
      } else return true
    }
  }
  for await (const chunk of source) {
    if (st.state === 'end') continue
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    buf = buf.length === 0 ? b : Buffer.concat([buf, b])
    yield* step()
  }
  if (st.state !== 'end') yield* step()
  if (st.state !== 'end') throw bad('body ends before the closing delimiter')
  if (!found) throw bad(`no field '${field}'`)
}
