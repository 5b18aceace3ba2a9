import { DemoCode, fail } from './errors.js'
import type { RgbaImage } from './tracer.js'
import type { Tile } from './work.js'

/**
 * Tiling and assembly for a buyer of `net.bitwrk/rays/0` (spec: protocol/spec/demo-article.md,
 * RAYS-8): split an image into K tiles, buy each, paste the decoded tiles back, compare with a
 * local reference render.
 */

/** Most tiles per image: a buyer keeps at most this many buys of one image in flight. */
export const MAX_TILES = 1024

/**
 * Splits a `width` × `height` image into exactly `k` tiles on a grid of `cols` × `rows` with
 * `cols · rows = k`, choosing the factorisation whose tiles are closest to square (ties: fewer
 * columns). Column edges are at ⌊i·width/cols⌋, row edges at ⌊j·height/rows⌋; tiles are listed
 * row by row, top-left first. They cover every pixel exactly once.
 * @throws BitwrkError `DEMO_BAD_TILING` when k is not an integer in 1 … {@link MAX_TILES} or no
 *   factorisation fits (e.g. a prime k larger than both sides).
 */
export function tilesFor(width: number, height: number, k: number): Tile[] {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    fail(DemoCode.badTiling, 'image size must be positive integers')
  if (!Number.isInteger(k) || k < 1 || k > MAX_TILES)
    fail(DemoCode.badTiling, `tile count must be an integer in 1 … ${MAX_TILES}`)
  let best: { cols: number; rows: number; score: number } | undefined
  for (let cols = 1; cols <= k; cols++) {
    if (k % cols !== 0) continue
    const rows = k / cols
    if (cols > width || rows > height) continue
    // Tile aspect w/h = (width/cols)/(height/rows); score = max(aspect, 1/aspect) ≥ 1, 1 = square.
    const a = width * rows
    const b = height * cols
    const score = a > b ? a / b : b / a
    if (best === undefined || score < best.score) best = { cols, rows, score }
  }
  if (best === undefined) return fail(DemoCode.badTiling, `cannot split ${width}×${height} into ${k} tiles`)
  const { cols, rows } = best
  const tiles: Tile[] = []
  for (let j = 0; j < rows; j++) {
    const y = Math.floor((j * height) / rows)
    const h = Math.floor(((j + 1) * height) / rows) - y
    for (let i = 0; i < cols; i++) {
      const x = Math.floor((i * width) / cols)
      tiles.push({ x, y, w: Math.floor(((i + 1) * width) / cols) - x, h })
    }
  }
  return tiles
}

/** A decoded tile and the rectangle it was bought for. */
export interface PlacedTile {
  readonly tile: Tile
  readonly image: RgbaImage
}

/**
 * Pastes decoded tiles into a `width` × `height` image. Every tile must lie inside the image,
 * have exactly its rectangle's size, and together the tiles must cover every pixel exactly once.
 * @throws BitwrkError `DEMO_TILE_MISMATCH` otherwise (a seller's PNG of the wrong size lands here).
 */
export function assemble(width: number, height: number, tiles: readonly PlacedTile[]): RgbaImage {
  const data = new Uint8Array(width * height * 4)
  const covered = new Uint8Array(width * height)
  let count = 0
  for (const [n, { tile, image }] of tiles.entries()) {
    const { x, y, w, h } = tile
    const inside = Number.isInteger(x) && Number.isInteger(y) && Number.isInteger(w) && Number.isInteger(h)
    if (!inside || x < 0 || y < 0 || w < 1 || h < 1 || x + w > width || y + h > height)
      fail(DemoCode.tileMismatch, `tile ${n} is not inside the image`, { tile: n })
    if (image.width !== w || image.height !== h || image.data.length !== w * h * 4)
      fail(DemoCode.tileMismatch, `tile ${n} is ${image.width}×${image.height}, expected ${w}×${h}`, {
        tile: n
      })
    for (let j = 0; j < h; j++) {
      const line = (y + j) * width + x
      for (let i = 0; i < w; i++) {
        if (covered[line + i] !== 0) fail(DemoCode.tileMismatch, `tile ${n} overlaps another`, { tile: n })
        covered[line + i] = 1
      }
      data.set(image.data.subarray(j * w * 4, (j + 1) * w * 4), line * 4)
    }
    count += w * h
  }
  if (count !== width * height) fail(DemoCode.tileMismatch, 'tiles do not cover the image')
  return { width, height, data }
}

/** The rectangle `tile` cut out of `image` (which must contain it). */
export function cropImage(image: RgbaImage, tile: Tile): RgbaImage {
  const data = new Uint8Array(tile.w * tile.h * 4)
  for (let j = 0; j < tile.h; j++) {
    const start = ((tile.y + j) * image.width + tile.x) * 4
    data.set(image.data.subarray(start, start + tile.w * 4), j * tile.w * 4)
  }
  return { width: tile.w, height: tile.h, data }
}

/** True when both images have the same size and byte-identical pixels (RAYS-6). */
export function imagesEqual(a: RgbaImage, b: RgbaImage): boolean {
  if (a.width !== b.width || a.height !== b.height || a.data.length !== b.data.length) return false
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false
  return true
}
