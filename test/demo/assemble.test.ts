import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  assemble,
  DemoCode,
  imagesEqual,
  MAX_TILES,
  type RgbaImage,
  tilesFor
} from '../../node/demo/index.js'
import { throwsCode } from '../support/errors.js'

function solid(width: number, height: number, v: number): RgbaImage {
  return { width, height, data: new Uint8Array(width * height * 4).fill(v) }
}

describe('demo/assemble', () => {
  it('splits 320×240 into 16 square-ish tiles of 80×60 row by row', () => {
    const tiles = tilesFor(320, 240, 16)
    assert.equal(tiles.length, 16)
    assert.deepEqual(tiles[0], { x: 0, y: 0, w: 80, h: 60 })
    assert.deepEqual(tiles[1], { x: 80, y: 0, w: 80, h: 60 })
    assert.deepEqual(tiles[15], { x: 240, y: 180, w: 80, h: 60 })
  })

  it('picks the factorisation closest to square tiles', () => {
    assert.deepEqual(
      tilesFor(100, 10, 10).map((t) => t.w),
      Array(10).fill(10)
    ) // 10 columns of 10×10, not 10 rows of 100×1
    assert.equal(tilesFor(10, 100, 10)[0]?.w, 10)
    assert.deepEqual(
      tilesFor(5, 1, 5).map((t) => t.x),
      [0, 1, 2, 3, 4]
    )
  })

  it('covers every pixel exactly once with exactly k tiles (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 64 }),
        (w, h, k) => {
          let tiles: ReturnType<typeof tilesFor>
          try {
            tiles = tilesFor(w, h, k)
          } catch {
            // Only when no factorisation cols·rows = k fits into w × h.
            for (let c = 1; c <= k; c++) if (k % c === 0) assert.ok(c > w || k / c > h)
            return
          }
          assert.equal(tiles.length, k)
          const cover = new Uint8Array(w * h)
          for (const t of tiles) {
            assert.ok(t.w >= 1 && t.h >= 1 && t.x + t.w <= w && t.y + t.h <= h)
            for (let y = t.y; y < t.y + t.h; y++) for (let x = t.x; x < t.x + t.w; x++) cover[y * w + x]! += 1
          }
          assert.ok(cover.every((c) => c === 1))
        }
      ),
      { numRuns: 300 }
    )
  })

  it('rejects impossible tilings', () => {
    for (const k of [0, -1, 1.5, Number.NaN, MAX_TILES + 1])
      throwsCode(() => tilesFor(10, 10, k), DemoCode.badTiling, String(k))
    throwsCode(() => tilesFor(2, 2, 5), DemoCode.badTiling) // prime k above both sides
    throwsCode(() => tilesFor(0, 2, 1), DemoCode.badTiling)
  })

  it('pastes tiles into place', () => {
    const tiles = tilesFor(4, 2, 2)
    const img = assemble(
      4,
      2,
      tiles.map((tile, i) => ({ tile, image: solid(tile.w, tile.h, i + 1) }))
    )
    assert.deepEqual([...img.data.filter((_, i) => i % 4 === 0)], [1, 1, 2, 2, 1, 1, 2, 2])
  })

  it('rejects tiles of the wrong size, outside, overlapping or missing', () => {
    const [a, b] = tilesFor(4, 2, 2) as [ReturnType<typeof tilesFor>[0], ReturnType<typeof tilesFor>[0]]
    const ok = { tile: a, image: solid(2, 2, 1) }
    const cases: [string, Parameters<typeof assemble>[2]][] = [
      ['wrong size', [ok, { tile: b, image: solid(3, 2, 1) }]],
      ['short data', [ok, { tile: b, image: { width: 2, height: 2, data: new Uint8Array(15) } }]],
      ['outside', [ok, { tile: { ...b, x: 3 }, image: solid(2, 2, 1) }]],
      ['overlap', [ok, { tile: { ...b, x: 1 }, image: solid(2, 2, 1) }]],
      ['missing', [ok]],
      ['negative', [ok, { tile: { ...b, x: -1 }, image: solid(2, 2, 1) }]]
    ]
    for (const [label, tiles] of cases) throwsCode(() => assemble(4, 2, tiles), DemoCode.tileMismatch, label)
  })

  it('compares images by size and bytes', () => {
    assert.ok(imagesEqual(solid(2, 2, 3), solid(2, 2, 3)))
    assert.ok(!imagesEqual(solid(2, 2, 3), solid(2, 2, 4)))
    assert.ok(!imagesEqual(solid(1, 4, 3), solid(2, 2, 3)))
  })
})
