import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import {
  BLENDER_WORK_MAX_BYTES,
  BlenderCode,
  blenderTiles,
  boundsOf,
  COST_CLASSES,
  decodeBlenderWork,
  encodeBlenderWork,
  isBlenderArticle,
  MAX_FRAME,
  parseBlenderArticle,
  tileOf
} from '../../node/blender/index.js'
import { throwsCode } from '../support/errors.js'

/** The spec's minimal .blend stand-in (BLEND-5 checks only the 12-byte header). */
const BLEND = new Uint8Array(Buffer.from('BLENDER-v304REND'))

/** A record `tag ‖ uint32 BE length ‖ value`. */
function rec(tag: string, value: Uint8Array | number, length?: number): Buffer {
  const v = typeof value === 'number' ? Buffer.alloc(4) : Buffer.from(value)
  if (typeof value === 'number') v.writeInt32BE(value)
  const h = Buffer.alloc(8)
  h.write(tag, 0, 'latin1')
  h.writeUInt32BE(length ?? v.length, 4)
  return Buffer.concat([h, v])
}

function stream(...records: Buffer[]): Uint8Array {
  return new Uint8Array(Buffer.concat(records))
}

const INTS = (o: Partial<Record<'xmin' | 'ymin' | 'xmax' | 'ymax' | 'fram', number>> = {}): Buffer[] =>
  (['xmin', 'ymin', 'xmax', 'ymax', 'fram'] as const).map((t) =>
    rec(t, o[t] ?? { xmin: 0, ymin: 0, xmax: 2, ymax: 1, fram: 1 }[t])
  )

describe('blender/work (BLEND-2 … BLEND-5)', () => {
  it('BLEND-2 vector: the canonical encoding of the spec example', () => {
    const bytes = encodeBlenderWork({ xmin: 0, ymin: 0, xmax: 2, ymax: 1, frame: 1, blend: BLEND })
    assert.equal(
      Buffer.from(bytes).toString('hex'),
      '786d696e0000000400000000' +
        '796d696e0000000400000000' +
        '786d61780000000400000002' +
        '796d61780000000400000001' +
        '6672616d0000000400000001' +
        '626c656e00000010424c454e4445522d7633303452454e44'
    )
    assert.equal(bytes.length, 84)
    assert.equal(
      createHash('sha256').update(bytes).digest('hex'),
      '51fa11b65a385397fab8722bf4d55475629a9b200d66b9aced9d1ab2765eaad6'
    )
    const w = decodeBlenderWork(bytes)
    assert.deepEqual(
      { ...w, blend: Buffer.from(w.blend).toString() },
      {
        xmin: 0,
        ymin: 0,
        xmax: 2,
        ymax: 1,
        frame: 1,
        blend: 'BLENDER-v304REND'
      }
    )
  })

  it('BLEND-3: integer records in any order; negative frames; round trip of any valid work', () => {
    const [xmin, ymin, xmax, ymax, fram] = INTS({ fram: -3 }) as Buffer[]
    const w = decodeBlenderWork(
      stream(
        fram as Buffer,
        ymax as Buffer,
        xmin as Buffer,
        xmax as Buffer,
        ymin as Buffer,
        rec('blen', BLEND)
      )
    )
    assert.equal(w.frame, -3)
    assert.equal(w.xmax, 2)
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: -MAX_FRAME, max: MAX_FRAME }),
        (x, y, w, h, frame) => {
          const work = {
            xmin: x,
            ymin: y,
            xmax: Math.min(65536, x + w),
            ymax: Math.min(65536, y + h),
            frame,
            blend: BLEND
          }
          const back = decodeBlenderWork(encodeBlenderWork(work))
          assert.deepEqual({ ...back, blend: [...back.blend] }, { ...work, blend: [...BLEND] })
        }
      ),
      { numRuns: 200, seed: 17 }
    )
  })

  const hostile: [string, Uint8Array, string][] = [
    ['empty input', new Uint8Array(0), BlenderCode.missingTag],
    ['a partial header', stream(Buffer.from('xmin\0\0\0')), BlenderCode.truncated],
    ['a length beyond the input', stream(rec('xmin', 0, 0xffffffff)), BlenderCode.truncated],
    [
      'a blen length beyond the input',
      stream(...INTS(), rec('blen', BLEND, BLEND.length + 1)),
      BlenderCode.truncated
    ],
    ['an unknown tag', stream(rec('abcd', 1), ...INTS(), rec('blen', BLEND)), BlenderCode.unknownTag],
    [
      'a non-ASCII tag',
      stream(rec('\u0000\u0001\u00ff\u0002', 1), rec('blen', BLEND)),
      BlenderCode.unknownTag
    ],
    [
      'an rsrc record',
      stream(...INTS(), rec('rsrc', new Uint8Array(8)), rec('blen', BLEND)),
      BlenderCode.resourcesUnsupported
    ],
    ['a repeated tag', stream(...INTS(), rec('xmin', 0), rec('blen', BLEND)), BlenderCode.duplicateTag],
    ['a missing fram', stream(...INTS().slice(0, 4), rec('blen', BLEND)), BlenderCode.missingTag],
    ['no blen', stream(...INTS()), BlenderCode.missingTag],
    [
      'an integer of 8 bytes',
      stream(rec('xmin', new Uint8Array(8)), rec('blen', BLEND)),
      BlenderCode.badLength
    ],
    ['bytes after blen', stream(...INTS(), rec('blen', BLEND), Buffer.from('x')), BlenderCode.trailingData],
    ['a record after blen', stream(rec('blen', BLEND), ...INTS()), BlenderCode.trailingData],
    ['an empty tile', stream(...INTS({ xmax: 0 }), rec('blen', BLEND)), BlenderCode.badTile],
    ['a negative bound', stream(...INTS({ ymin: -1 }), rec('blen', BLEND)), BlenderCode.badTile],
    [
      'a bound beyond 65536',
      stream(...INTS({ xmin: 65536, xmax: 65537 }), rec('blen', BLEND)),
      BlenderCode.badTile
    ],
    ['a side beyond 4096', stream(...INTS({ xmax: 4097 }), rec('blen', BLEND)), BlenderCode.badTile],
    [
      "a frame beyond Blender's range",
      stream(...INTS({ fram: MAX_FRAME + 1 }), rec('blen', BLEND)),
      BlenderCode.badFrame
    ],
    [
      'a blen that is no .blend',
      stream(...INTS(), rec('blen', Buffer.from('hello, world'))),
      BlenderCode.notBlend
    ],
    ['a short blen', stream(...INTS(), rec('blen', Buffer.from('BLENDER'))), BlenderCode.notBlend],
    [
      'a gzip .blend',
      stream(...INTS(), rec('blen', Buffer.from([0x1f, 0x8b, 8, 0]))),
      BlenderCode.compressedBlend
    ],
    [
      'a zstd .blend',
      stream(...INTS(), rec('blen', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0]))),
      BlenderCode.compressedBlend
    ]
  ]
  for (const [what, bytes, code] of hostile)
    it(`refuses ${what} with ${code}`, () => throwsCode(() => decodeBlenderWork(bytes), code))

  it(`BLEND-2: refuses work above ${BLENDER_WORK_MAX_BYTES} bytes before reading it`, () => {
    throwsCode(() => decodeBlenderWork(new Uint8Array(BLENDER_WORK_MAX_BYTES + 1)), BlenderCode.workTooLarge)
  })

  it('BLEND-1: article names and cost classes', () => {
    assert.equal(parseBlenderArticle('net.bitwrk/blender/0/3.4/512M').maxCost, 512 * 2 ** 20)
    assert.equal(parseBlenderArticle('net.bitwrk/blender/0/3.4/32G~trusted').maxCost, COST_CLASSES['32G'])
    for (const bad of [
      'net.bitwrk/blender/0/2.79/512M',
      'net.bitwrk/blender/0/3.4/1G',
      'net.bitwrk/blender/0/3.4',
      'x y',
      'net.bitwrk/blender/0/3.4/constructor'
    ])
      assert.equal(isBlenderArticle(bad), false, bad)
    throwsCode(() => parseBlenderArticle('net.bitwrk/blender/0/3.4/toString'), BlenderCode.badArticle)
  })

  it('BLEND-10: tiles cover the frame; Blender bounds count rows from the bottom', () => {
    const tiles = blenderTiles(160, 120, 6)
    assert.deepEqual(tiles[0]?.bounds, { xmin: 0, xmax: 53, ymin: 60, ymax: 120 })
    assert.deepEqual(tiles[5]?.bounds, { xmin: 106, xmax: 160, ymin: 0, ymax: 60 })
    for (const t of tiles) assert.deepEqual(tileOf(boundsOf(t.tile, 120), 120), t.tile)
  })
})
