import { encodePng } from './png.js'
import { renderTile } from './tracer.js'
import { decodeWork } from './work.js'

/**
 * The whole job of a `net.bitwrk/rays/0` worker (RAYS-1): decode untrusted work bytes strictly,
 * render the tile, return it as PNG. Pure apart from the CPU time, which the work limits bound.
 * @throws BitwrkError with a `DEMO_*` code of {@link decodeWork} for bad work.
 */
export function renderWork(work: Uint8Array): Uint8Array {
  return encodePng(renderTile(decodeWork(work)))
}
