import { deflateSync, inflateSync } from 'node:zlib'
import { DemoCode, fail } from './errors.js'
import type { RgbaImage } from './tracer.js'

/**
 * PNG codec for the result of `net.bitwrk/rays/0` (spec: protocol/spec/demo-article.md,
 * RAYS-7): 8-bit RGBA, not interlaced. The encoder picks a filter per row (the PNG
 * specification's minimum-sum-of-absolute-differences heuristic); the decoder accepts any of
 * the five filters and any chunk layout the PNG specification allows for that profile, and
 * treats its input as hostile: it checks every length against the bytes that are there, every
 * CRC, every limit, and inflates with an output cap so a zlib bomb costs no more memory than
 * the image it claims to be.
 */

/** The 8-byte PNG signature (PNG specification §5.2). */
export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/** Limits of {@link decodePng}. */
export interface PngLimits {
  /** Largest width and height (default 4096, the largest image of RAYS-3). */
  readonly maxSide: number
  /** Largest width × height (default 4096²). */
  readonly maxPixels: number
  /** Largest input in bytes (default 80 MiB: a 4096² RGBA image stored uncompressed, plus framing). */
  readonly maxBytes: number
}

/** Default {@link PngLimits}: anything a valid `net.bitwrk/rays/0` result can be. */
export const DEFAULT_PNG_LIMITS: PngLimits = {
  maxSide: 4096,
  maxPixels: 4096 * 4096,
  maxBytes: 80 * 1024 * 1024
}

/** PNG specification §5.3: a chunk length is at most 2^31 − 1. */
const MAX_CHUNK_LENGTH = 0x7fffffff
const BYTES_PER_PIXEL = 4

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC-32 (ISO 3309 / ITU-T V.42, as PNG uses it) of `bytes[start, end)`. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff
  for (let i = start; i < end; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length)
  const view = new DataView(out.buffer)
  view.setUint32(0, data.length)
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i)
  out.set(data, 8)
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length))
  return out
}

/** Paeth predictor (PNG specification §9.4). */
function paeth(a: number, b: number, c: number): number {
  const p = a + b - c
  const pa = Math.abs(p - a)
  const pb = Math.abs(p - b)
  const pc = Math.abs(p - c)
  if (pa <= pb && pa <= pc) return a
  return pb <= pc ? b : c
}

/** The filtered byte of filter `type` for raw byte x with neighbours a (left), b (up), c (up-left). */
function predict(type: number, a: number, b: number, c: number): number {
  switch (type) {
    case 1:
      return a
    case 2:
      return b
    case 3:
      return (a + b) >>> 1
    case 4:
      return paeth(a, b, c)
    default:
      return 0
  }
}

/**
 * Encodes an RGBA8 image as PNG (IHDR, one IDAT, IEND). Deterministic for a given Node binary
 * (zlib level 9). Throws `RangeError` for an image whose data length does not match its size.
 */
export function encodePng(image: RgbaImage): Uint8Array {
  const { width, height, data } = image
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new RangeError('encodePng: width and height must be positive integers')
  if (data.length !== width * height * BYTES_PER_PIXEL)
    throw new RangeError('encodePng: data length mismatch')
  const stride = width * BYTES_PER_PIXEL
  const raw = new Uint8Array(height * (stride + 1))
  const candidate = new Uint8Array(stride)
  for (let y = 0; y < height; y++) {
    const row = y * stride
    const prev = row - stride
    let bestType = 0
    let bestSum = Infinity
    for (let type = 0; type <= 4; type++) {
      let sum = 0
      for (let i = 0; i < stride; i++) {
        const a = i >= BYTES_PER_PIXEL ? (data[row + i - BYTES_PER_PIXEL] as number) : 0
        const b = y > 0 ? (data[prev + i] as number) : 0
        const c = y > 0 && i >= BYTES_PER_PIXEL ? (data[prev + i - BYTES_PER_PIXEL] as number) : 0
        const f = ((data[row + i] as number) - predict(type, a, b, c)) & 0xff
        candidate[i] = f
        // Heuristic of PNG specification §12.8: bytes as signed values, smallest |sum| wins.
        sum += f < 128 ? f : 256 - f
      }
      if (sum < bestSum) {
        bestSum = sum
        bestType = type
        raw.set(candidate, y * (stride + 1) + 1)
      }
    }
    raw[y * (stride + 1)] = bestType
  }
  const ihdr = new Uint8Array(13)
  const view = new DataView(ihdr.buffer)
  view.setUint32(0, width)
  view.setUint32(4, height)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 6 // colour type: truecolour with alpha
  // compression 0, filter method 0, interlace 0: bytes 10-12 stay zero.
  const idat = deflateSync(raw, { level: 9 })
  const parts = [PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122)
}

/**
 * Decodes an untrusted PNG of the RAYS-7 profile (8-bit RGBA, no interlace) into RGBA8.
 * Ancillary chunks (lower-case first letter) are skipped after their CRC is checked; `PLTE`
 * (a suggested palette, allowed for truecolour) is skipped too; any other critical chunk is an
 * error.
 * @throws BitwrkError with a `DEMO_PNG_*` code (see {@link DemoCode}).
 */
export function decodePng(bytes: Uint8Array, limits: PngLimits = DEFAULT_PNG_LIMITS): RgbaImage {
  if (!(bytes instanceof Uint8Array)) return fail(DemoCode.pngBadSignature, 'PNG input must be bytes')
  if (bytes.length > limits.maxBytes)
    fail(DemoCode.pngTooLarge, `PNG has ${bytes.length} > ${limits.maxBytes} bytes`)
  if (bytes.length < PNG_SIGNATURE.length) fail(DemoCode.pngBadSignature, 'not a PNG')
  for (let i = 0; i < PNG_SIGNATURE.length; i++)
    if (bytes[i] !== PNG_SIGNATURE[i]) fail(DemoCode.pngBadSignature, 'not a PNG')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let pos = PNG_SIGNATURE.length
  let width = 0
  let height = 0
  let seenIhdr = false
  let idatState: 'before' | 'in' | 'after' = 'before'
  const idat: Uint8Array[] = []
  let idatBytes = 0
  for (;;) {
    if (pos + 12 > bytes.length) fail(DemoCode.pngTruncated, 'PNG ends before IEND')
    const length = view.getUint32(pos)
    if (length > MAX_CHUNK_LENGTH) fail(DemoCode.pngBadChunk, 'chunk length above 2^31 - 1')
    if (pos + 12 + length > bytes.length) fail(DemoCode.pngTruncated, 'PNG ends inside a chunk')
    const t = bytes.subarray(pos + 4, pos + 8)
    if (!t.every(isLetter)) fail(DemoCode.pngBadChunk, 'chunk type is not four ASCII letters')
    const type = String.fromCharCode(...t)
    const data = bytes.subarray(pos + 8, pos + 8 + length)
    if (view.getUint32(pos + 8 + length) !== crc32(bytes, pos + 4, pos + 8 + length))
      fail(DemoCode.pngBadCrc, `bad CRC in ${type}`, { chunk: type })
    pos += 12 + length
    if (!seenIhdr) {
      if (type !== 'IHDR') fail(DemoCode.pngBadChunk, 'first chunk is not IHDR')
      ;({ width, height } = readHeader(data, limits))
      seenIhdr = true
      continue
    }
    if (type === 'IDAT') {
      if (idatState === 'after') fail(DemoCode.pngBadChunk, 'IDAT chunks are not consecutive')
      idatState = 'in'
      idat.push(data)
      idatBytes += length
      continue
    }
    if (idatState === 'in') idatState = 'after'
    if (type === 'IEND') {
      if (length !== 0) fail(DemoCode.pngBadChunk, 'IEND has data')
      break
    }
    const critical = ((t[0] as number) & 0x20) === 0
    if (type === 'IHDR') fail(DemoCode.pngBadChunk, 'second IHDR')
    if (type === 'PLTE' && idatState === 'before') continue
    if (critical) fail(DemoCode.pngBadChunk, `unsupported critical chunk ${type}`, { chunk: type })
  }
  if (pos !== bytes.length) fail(DemoCode.pngTrailingData, 'bytes after IEND')
  if (idat.length === 0) fail(DemoCode.pngBadChunk, 'no IDAT chunk')
  const stride = width * BYTES_PER_PIXEL
  const expected = height * (stride + 1)
  const compressed = new Uint8Array(idatBytes)
  let o = 0
  for (const d of idat) {
    compressed.set(d, o)
    o += d.length
  }
  let raw: Uint8Array
  let consumed: number
  try {
    // Cap the output one byte above the exact size: a longer stream is detected, not inflated.
    // `info: true` also returns the engine, whose bytesWritten is the input the stream consumed.
    const r = inflateSync(compressed, { maxOutputLength: expected + 1, info: true }) as unknown as InflateInfo
    raw = r.buffer
    consumed = r.engine.bytesWritten
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE')
      return fail(DemoCode.pngBadDataSize, 'image data inflates beyond the image size')
    return fail(DemoCode.pngBadZlib, 'image data is not a valid zlib stream')
  }
  // inflateSync ignores bytes after the end of the zlib stream; the PNG profile does not.
  if (consumed !== compressed.length) fail(DemoCode.pngBadZlib, 'bytes after the end of the zlib stream')
  if (raw.length !== expected)
    fail(DemoCode.pngBadDataSize, `image data inflates to ${raw.length}, expected ${expected} bytes`)
  return { width, height, data: unfilter(raw, width, height) }
}

/** What `inflateSync(…, { info: true })` returns (Node's typings only declare the Buffer form). */
interface InflateInfo {
  buffer: Buffer
  engine: { bytesWritten: number }
}

function readHeader(data: Uint8Array, limits: PngLimits): { width: number; height: number } {
  if (data.length !== 13) fail(DemoCode.pngBadHeader, 'IHDR must have 13 bytes')
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const width = v.getUint32(0)
  const height = v.getUint32(4)
  if (width === 0 || height === 0 || width > MAX_CHUNK_LENGTH || height > MAX_CHUNK_LENGTH)
    fail(DemoCode.pngBadHeader, 'width and height must be in 1 … 2^31 - 1')
  if (data[10] !== 0 || data[11] !== 0) fail(DemoCode.pngBadHeader, 'unknown compression or filter method')
  if (data[12] !== 0 && data[12] !== 1) fail(DemoCode.pngBadHeader, 'unknown interlace method')
  if (data[8] !== 8 || data[9] !== 6 || data[12] !== 0)
    fail(DemoCode.pngUnsupported, 'only 8-bit RGBA without interlacing is accepted', {
      bitDepth: data[8],
      colourType: data[9],
      interlace: data[12]
    })
  if (width > limits.maxSide || height > limits.maxSide || width * height > limits.maxPixels)
    fail(DemoCode.pngTooLarge, `image ${width}×${height} above the limits`, { width, height })
  return { width, height }
}

/** Reverses the per-row filters of PNG specification §9.2 into packed RGBA rows. */
function unfilter(raw: Uint8Array, width: number, height: number): Uint8Array {
  const stride = width * BYTES_PER_PIXEL
  const out = new Uint8Array(height * stride)
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)] as number
    if (type > 4) fail(DemoCode.pngBadFilter, `row ${y} has filter type ${type}`, { row: y })
    const src = y * (stride + 1) + 1
    const row = y * stride
    const prev = row - stride
    for (let i = 0; i < stride; i++) {
      const a = i >= BYTES_PER_PIXEL ? (out[row + i - BYTES_PER_PIXEL] as number) : 0
      const b = y > 0 ? (out[prev + i] as number) : 0
      const c = y > 0 && i >= BYTES_PER_PIXEL ? (out[prev + i - BYTES_PER_PIXEL] as number) : 0
      out[row + i] = ((raw[src + i] as number) + predict(type, a, b, c)) & 0xff
    }
  }
  return out
}
