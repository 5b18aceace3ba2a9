import assert from 'node:assert/strict'
import * as zlib from 'node:zlib'
import fc from 'fast-check'
import {
  crc32,
  DemoCode,
  decodePng,
  encodePng,
  PNG_SIGNATURE,
  type RgbaImage
} from '../../node/demo/index.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { throwsCode } from '../support/errors.js'

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s)

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n >>> 0)
  return b
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** A chunk built independently of the codec (CRC from node:zlib). */
function chunk(type: string, data: Uint8Array, crc?: number): Uint8Array {
  const td = concat(ascii(type), data)
  return concat(u32(data.length), td, u32(crc ?? zlib.crc32(td)))
}

interface Header {
  width: number
  height: number
  depth: number
  colour: number
  compression: number
  filter: number
  interlace: number
}

function ihdr(h: Partial<Header> = {}): Uint8Array {
  const v = { width: 2, height: 2, depth: 8, colour: 6, compression: 0, filter: 0, interlace: 0, ...h }
  return chunk(
    'IHDR',
    concat(
      u32(v.width),
      u32(v.height),
      Uint8Array.from([v.depth, v.colour, v.compression, v.filter, v.interlace])
    )
  )
}

/** Filtered scanlines of a 2×2 RGBA image: row 0 with filter 1 (Sub), row 1 with filter 2 (Up). */
const RAW_2X2 = Uint8Array.from([
  1, 10, 20, 30, 255, /* second pixel minus first: */ 5, 5, 5, 0, 2, 1, 1, 1, 0, /* up: */ 2, 2, 2, 0
])
/** The pixels RAW_2X2 decodes to. */
const PIXELS_2X2 = Uint8Array.from([10, 20, 30, 255, 15, 25, 35, 255, 11, 21, 31, 255, 17, 27, 37, 255])

function png(
  parts: { header?: Partial<Header>; idat?: Uint8Array[]; before?: Uint8Array[]; after?: Uint8Array[] } = {}
): Uint8Array {
  const idat = parts.idat ?? [chunk('IDAT', zlib.deflateSync(RAW_2X2))]
  return concat(
    PNG_SIGNATURE,
    ihdr(parts.header),
    ...(parts.before ?? []),
    ...idat,
    ...(parts.after ?? []),
    chunk('IEND', new Uint8Array(0))
  )
}

const VALID = png()
const IEND = chunk('IEND', new Uint8Array(0))

/** Hostile PNGs: [label, bytes, code]. */
const HOSTILE: [string, Uint8Array, string][] = [
  ['empty', new Uint8Array(0), DemoCode.pngBadSignature],
  ['bad signature', concat(ascii('GIF89a..'), VALID.subarray(8)), DemoCode.pngBadSignature],
  ['signature only', PNG_SIGNATURE, DemoCode.pngTruncated],
  ['truncated in IDAT', VALID.subarray(0, VALID.length - 20), DemoCode.pngTruncated],
  ['missing IEND', VALID.subarray(0, VALID.length - 12), DemoCode.pngTruncated],
  [
    'bad CRC in IHDR',
    (() => {
      const b = VALID.slice()
      b[8 + 8] = (b[8 + 8] as number) ^ 1
      return b
    })(),
    DemoCode.pngBadCrc
  ],
  ['bad CRC in IEND', concat(VALID.subarray(0, VALID.length - 4), u32(0)), DemoCode.pngBadCrc],
  [
    'first chunk not IHDR',
    concat(PNG_SIGNATURE, chunk('IDAT', new Uint8Array(0)), IEND),
    DemoCode.pngBadChunk
  ],
  ['chunk type with a digit', png({ before: [chunk('tEX1', new Uint8Array(1))] }), DemoCode.pngBadChunk],
  ['unknown critical chunk', png({ before: [chunk('ABCD', new Uint8Array(1))] }), DemoCode.pngBadChunk],
  ['second IHDR', png({ before: [ihdr()] }), DemoCode.pngBadChunk],
  ['PLTE after IDAT', png({ after: [chunk('PLTE', new Uint8Array(3))] }), DemoCode.pngBadChunk],
  [
    'IDAT chunks not consecutive',
    png({
      idat: [
        chunk('IDAT', zlib.deflateSync(RAW_2X2)),
        chunk('tEXt', ascii('a\0b')),
        chunk('IDAT', new Uint8Array(0))
      ]
    }),
    DemoCode.pngBadChunk
  ],
  ['no IDAT', png({ idat: [] }), DemoCode.pngBadChunk],
  [
    'IEND with data',
    concat(VALID.subarray(0, VALID.length - 12), chunk('IEND', new Uint8Array(1))),
    DemoCode.pngBadChunk
  ],
  [
    'chunk length 2^31',
    concat(PNG_SIGNATURE, u32(0x80000000), ascii('IHDR'), new Uint8Array(4)),
    DemoCode.pngBadChunk
  ],
  ['IHDR of 12 bytes', concat(PNG_SIGNATURE, chunk('IHDR', new Uint8Array(12)), IEND), DemoCode.pngBadHeader],
  ['width 0', png({ header: { width: 0 } }), DemoCode.pngBadHeader],
  ['height 2^31', png({ header: { height: 0x80000000 } }), DemoCode.pngBadHeader],
  ['compression method 1', png({ header: { compression: 1 } }), DemoCode.pngBadHeader],
  ['filter method 1', png({ header: { filter: 1 } }), DemoCode.pngBadHeader],
  ['interlace method 2', png({ header: { interlace: 2 } }), DemoCode.pngBadHeader],
  ['bit depth 16', png({ header: { depth: 16 } }), DemoCode.pngUnsupported],
  ['bit depth 1', png({ header: { depth: 1 } }), DemoCode.pngUnsupported],
  ['colour type 2 (RGB)', png({ header: { colour: 2 } }), DemoCode.pngUnsupported],
  ['colour type 3 (palette)', png({ header: { colour: 3 } }), DemoCode.pngUnsupported],
  ['Adam7 interlace', png({ header: { interlace: 1 } }), DemoCode.pngUnsupported],
  ['width 4097', png({ header: { width: 4097 } }), DemoCode.pngTooLarge],
  ['65535 × 65535', png({ header: { width: 65535, height: 65535 } }), DemoCode.pngTooLarge],
  ['IDAT not zlib', png({ idat: [chunk('IDAT', ascii('not zlib at all'))] }), DemoCode.pngBadZlib],
  [
    'IDAT zlib truncated',
    png({ idat: [chunk('IDAT', zlib.deflateSync(RAW_2X2).subarray(0, 8))] }),
    DemoCode.pngBadZlib
  ],
  [
    'bytes after the zlib stream',
    png({ idat: [chunk('IDAT', concat(zlib.deflateSync(RAW_2X2), ascii('xx')))] }),
    DemoCode.pngBadZlib
  ],
  [
    'too little image data',
    png({ idat: [chunk('IDAT', zlib.deflateSync(RAW_2X2.subarray(1)))] }),
    DemoCode.pngBadDataSize
  ],
  [
    'zlib bomb (32 MiB of zeros for a 2×2 image)',
    png({ idat: [chunk('IDAT', zlib.deflateSync(new Uint8Array(32 * 1024 * 1024), { level: 1 }))] }),
    DemoCode.pngBadDataSize
  ],
  [
    'filter type 5',
    png({ idat: [chunk('IDAT', zlib.deflateSync(Uint8Array.from([5, ...RAW_2X2.subarray(1)])))] }),
    DemoCode.pngBadFilter
  ],
  ['trailing data after IEND', concat(VALID, new Uint8Array(1)), DemoCode.pngTrailingData]
]

describe('demo/png', () => {
  it('computes CRC-32 as PNG and zlib do', () => {
    assert.equal(crc32(ascii('123456789')), 0xcbf43926) // the standard check value
    assert.equal(crc32(ascii('IEND')), 0xae426082) // PNG specification: the IEND chunk's CRC
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => crc32(b) === zlib.crc32(b)))
  })

  it('decodes a hand-built PNG with Sub and Up filters, split IDAT and ancillary chunks', () => {
    const z = zlib.deflateSync(RAW_2X2)
    const split = png({
      before: [chunk('tEXt', ascii('Title\0tile')), chunk('PLTE', new Uint8Array(3))],
      idat: [chunk('IDAT', z.subarray(0, 5)), chunk('IDAT', new Uint8Array(0)), chunk('IDAT', z.subarray(5))],
      after: [chunk('tIME', new Uint8Array(7))]
    })
    for (const b of [VALID, split]) assert.deepEqual(decodePng(b), { width: 2, height: 2, data: PIXELS_2X2 })
  })

  it('decodes Average and Paeth rows', () => {
    // Row 0 raw (filter 0); row 1 Average (3) then a third row Paeth (4), each predicted from row 0/1.
    const w = 1
    const r0 = [100, 50, 0, 255]
    const r1 = [110, 60, 10, 255] // Average of left (0) and up: up>>1 → filtered = raw - (up >> 1)
    const f1 = r1.map((v, i) => (v - ((r0[i] as number) >> 1)) & 0xff)
    const r2 = [90, 70, 20, 255] // Paeth with a = c = 0 picks b (up) → filtered = raw - up
    const f2 = r2.map((v, i) => (v - (r1[i] as number)) & 0xff)
    const raw = Uint8Array.from([0, ...r0, 3, ...f1, 4, ...f2])
    const b = png({ header: { width: w, height: 3 }, idat: [chunk('IDAT', zlib.deflateSync(raw))] })
    assert.deepEqual(decodePng(b).data, Uint8Array.from([...r0, ...r1, ...r2]))
  })

  it('round-trips random images and uses every filter type (property)', () => {
    const seen = new Set<number>()
    const image = fc
      .record({
        width: fc.integer({ min: 1, max: 12 }),
        height: fc.integer({ min: 1, max: 12 }),
        smooth: fc.boolean()
      })
      .chain(({ width, height, smooth }) =>
        fc.record({
          width: fc.constant(width),
          height: fc.constant(height),
          data: smooth
            ? // Gradients make Sub/Up/Average/Paeth win; noise makes None win.
              fc.tuple(fc.nat(255), fc.nat(7), fc.nat(7)).map(([base, dx, dy]) => {
                const d = new Uint8Array(width * height * 4)
                for (let i = 0; i < d.length; i++)
                  d[i] = base + dx * ((i >> 2) % width) + dy * Math.floor((i >> 2) / width) + (i & 3)
                return d
              })
            : fc.uint8Array({ minLength: width * height * 4, maxLength: width * height * 4 })
        })
      )
    fc.assert(
      fc.property(image, (img: RgbaImage) => {
        const bytes = encodePng(img)
        const back = decodePng(bytes)
        assert.equal(back.width, img.width)
        assert.equal(back.height, img.height)
        assert.deepEqual(back.data, img.data)
        // Read the filter bytes through node:zlib: IDAT starts after signature + IHDR chunk (8 + 25).
        const idatLen = new DataView(bytes.buffer, bytes.byteOffset).getUint32(33)
        const raw = zlib.inflateSync(bytes.subarray(41, 41 + idatLen))
        for (let y = 0; y < img.height; y++) seen.add(raw[y * (img.width * 4 + 1)] as number)
      }),
      { numRuns: 300 }
    )
    assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4])
  })

  it('refuses to encode an image whose data does not match its size', () => {
    assert.throws(() => encodePng({ width: 2, height: 2, data: new Uint8Array(15) }), RangeError)
    assert.throws(() => encodePng({ width: 0, height: 0, data: new Uint8Array(0) }), RangeError)
  })

  for (const [label, bytes, code] of HOSTILE)
    it(`rejects a hostile PNG: ${label} (${code})`, () => {
      throwsCode(() => decodePng(bytes), code, label)
    })

  it('enforces caller limits on bytes and pixels', () => {
    throwsCode(
      () => decodePng(VALID, { maxSide: 4096, maxPixels: 4096, maxBytes: VALID.length - 1 }),
      DemoCode.pngTooLarge
    )
    throwsCode(
      () => decodePng(VALID, { maxSide: 4096, maxPixels: 3, maxBytes: 1 << 20 }),
      DemoCode.pngTooLarge
    )
    throwsCode(
      () => decodePng(VALID, { maxSide: 1, maxPixels: 4096, maxBytes: 1 << 20 }),
      DemoCode.pngTooLarge
    )
  })

  it('fails every prefix and every bit flip of a valid PNG with a DEMO_PNG code (property)', () => {
    const good = encodePng({ width: 3, height: 2, data: Uint8Array.from({ length: 24 }, (_, i) => i * 10) })
    for (let n = 0; n < good.length; n++)
      assert.throws(
        () => decodePng(good.subarray(0, n)),
        (e: unknown) => isBitwrkError(e) && e.code.startsWith('DEMO_PNG_')
      )
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const b = good.slice()
        b[i] = (b[i] as number) ^ x
        try {
          decodePng(b)
          // Only the signature's and CRC-covered bytes exist: every flip must be detected.
          assert.fail('a bit flip went unnoticed')
        } catch (e) {
          assert.ok(isBitwrkError(e) && e.code.startsWith('DEMO_PNG_'), String(e))
        }
      }),
      { numRuns: 300 }
    )
  })
})
