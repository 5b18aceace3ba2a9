import { verifyAsset } from './asset.js'
import { DemoCode, fail } from './errors.js'
import { encodePng } from './png.js'
import { renderTile } from './tracer.js'
import { decodeWork, type Work } from './work.js'

/**
 * The whole job of a `net.bitwrk/rays/0` worker (RAYS-1): decode untrusted work bytes strictly,
 * render the tile, return it as PNG. Pure apart from the CPU time, which the work limits bound.
 * Work with an asset (RAYS-10) needs the asset's bytes, checked here against the work's key and
 * size (RAYS-11).
 * @throws BitwrkError with a `DEMO_*` code of {@link decodeWork}, or of {@link renderChecked}.
 */
export function renderWork(work: Uint8Array, asset?: Uint8Array): Uint8Array {
  return renderChecked(decodeWork(work), asset)
}

/**
 * Renders a decoded work item as PNG (RAYS-7), with its asset verified first (RAYS-11).
 * @throws BitwrkError `DEMO_ASSET_UNAVAILABLE` (the work has an asset and none was given),
 *   `DEMO_ASSET_WRONG_SIZE`, `DEMO_ASSET_WRONG_HASH`.
 */
export function renderChecked(work: Work, asset?: Uint8Array): Uint8Array {
  if (work.asset === undefined) return encodePng(renderTile(work))
  if (asset === undefined) return fail(DemoCode.assetUnavailable, 'the work needs its asset')
  return encodePng(renderTile(work, verifyAsset(work.asset, asset)))
}
