import { assemble, type RgbaImage, type Tile, tilesFor } from '../demo/index.js'
import type { BlenderWork } from './work.js'

/**
 * Tiling and assembly for a buyer of the Blender article (BLEND-10). Tiles are cut with the
 * demo's rule (RAYS-8: exactly k tiles, closest to square) in image coordinates (y down, as PNG
 * rows), then expressed as Blender's pixel bounds (y up from the bottom row, BLEND-4).
 */

/** A tile both ways: Blender's bounds for the work, image coordinates for assembly. */
export interface BlenderTile {
  readonly bounds: Pick<BlenderWork, 'xmin' | 'ymin' | 'xmax' | 'ymax'>
  readonly tile: Tile
}

/** A decoded PNG tile and its place. */
export interface FramedTile {
  readonly tile: BlenderTile
  readonly image: RgbaImage
}

/** Blender bounds of an image rectangle of a frame `height` pixels high. */
export function boundsOf(tile: Tile, height: number): BlenderTile['bounds'] {
  return { xmin: tile.x, xmax: tile.x + tile.w, ymin: height - (tile.y + tile.h), ymax: height - tile.y }
}

/** The image rectangle of Blender bounds in a frame `height` pixels high. */
export function tileOf(b: BlenderTile['bounds'], height: number): Tile {
  return { x: b.xmin, y: height - b.ymax, w: b.xmax - b.xmin, h: b.ymax - b.ymin }
}

/**
 * Splits a `width` × `height` frame into exactly `k` tiles (RAYS-8's rule), listed row by row
 * from the top-left.
 * @throws BitwrkError `DEMO_BAD_TILING` when k does not fit.
 */
export function blenderTiles(width: number, height: number, k: number): BlenderTile[] {
  return tilesFor(width, height, k).map((tile) => ({ tile, bounds: boundsOf(tile, height) }))
}

/**
 * Pastes decoded tiles into the frame; each must have its rectangle's size and together they
 * must cover every pixel once.
 * @throws BitwrkError `DEMO_TILE_MISMATCH` otherwise.
 */
export function assembleFrame(width: number, height: number, tiles: readonly FramedTile[]): RgbaImage {
  return assemble(
    width,
    height,
    tiles.map((t) => ({ tile: t.tile.tile, image: t.image }))
  )
}
