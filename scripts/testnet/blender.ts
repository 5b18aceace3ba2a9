/**
 * `npm run testnet -- --article blender` (issue 17): the testnet's job for the Blender article.
 * The scene is made by Blender's Python at run time, cut into K tiles bought over the market,
 * the frame assembled and compared with a local single-process render of the same scene
 * (BLEND-11), and the bytes each tile's work push carried are read from the buyer's activities
 * to show the .blend travelling once per seller (differential transfer, CAFS).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  assembleFrame,
  BLENDER_ARTICLE,
  type BlenderTile,
  blenderTiles,
  COST_CLASSES,
  createTestScene,
  encodeBlenderWork,
  renderBlenderWork,
  TEST_SCENE,
  type TestSceneOptions
} from '../../node/blender/index.js'
import { decodePng, encodePng, type RgbaImage } from '../../node/demo/index.js'
import type { TestnetJob } from './run.js'

/**
 * Largest difference of any channel between the market's frame and the local render that
 * still counts as a match (BLEND-11): 2 of 255. Measured: 0 (Blender 3.4, Cycles on the CPU,
 * adaptive sampling and dithering off: tiles from separate processes with 1 thread equal a
 * 2-thread full render byte for byte); the margin allows for sellers whose CPUs run other
 * Cycles kernels (SSE vs AVX2), whose float rounding differs in the last bits.
 */
export const FRAME_TOLERANCE = 2

/** The frame the testnet renders. */
const FRAME = 1

/** Pixel comparison of two equally sized images. */
export function compareImages(a: RgbaImage, b: RgbaImage): { maxDiff: number; pixelsDiffering: number } {
  if (a.width !== b.width || a.height !== b.height)
    return { maxDiff: 255, pixelsDiffering: a.width * a.height }
  let maxDiff = 0
  let pixelsDiffering = 0
  for (let i = 0; i < a.data.length; i += 4) {
    let d = 0
    for (let c = 0; c < 4; c++)
      d = Math.max(d, Math.abs((a.data[i + c] as number) - (b.data[i + c] as number)))
    if (d > 0) pixelsDiffering++
    maxDiff = Math.max(maxDiff, d)
  }
  return { maxDiff, pixelsDiffering }
}

/** One buy's work push as the buyer's activities show it (API-18, API-21). */
interface Push {
  readonly seller: string
  readonly bytes: number
}

/**
 * Bytes pushed per tile, by seller: per seller the largest push is its first (it carried the
 * .blend), the others are what later tiles cost once the seller holds the scene's chunks.
 */
export function transferFigures(pushes: readonly Push[], blendBytes: number): Record<string, unknown> {
  const bySeller = new Map<string, number[]>()
  for (const p of pushes) bySeller.set(p.seller, [...(bySeller.get(p.seller) ?? []), p.bytes])
  const first: number[] = []
  const later: number[] = []
  for (const bytes of bySeller.values()) {
    const sorted = [...bytes].sort((x, y) => y - x)
    first.push(sorted[0] as number)
    later.push(...sorted.slice(1))
  }
  const mean = (xs: number[]): number | null =>
    xs.length === 0 ? null : Math.round(xs.reduce((a, b) => a + b, 0) / xs.length)
  return {
    blend_bytes: blendBytes,
    sellers: bySeller.size,
    work_bytes_by_seller: [...bySeller.values()].map((b) => [...b].sort((x, y) => y - x)),
    work_bytes_first_tile_per_seller: mean(first),
    work_bytes_later_tiles_mean: mean(later),
    work_bytes_later_tiles_max: later.length === 0 ? null : Math.max(...later),
    later_tiles: later.length
  }
}

/** The testnet job of the Blender article with the Blender at `blender`. */
export function blenderJob(blender: string, scene: TestSceneOptions = TEST_SCENE): TestnetJob {
  const article = BLENDER_ARTICLE
  const maxCost = COST_CLASSES['512M'] as number
  let tiles: BlenderTile[] = []
  let blendBytes = 0
  let reference: RgbaImage | undefined
  return {
    article,
    workerArgs: ['--blender', blender, '--threads', '1'],
    async works(jobs) {
      const blend = await createTestScene(blender, scene)
      blendBytes = blend.length
      tiles = blenderTiles(scene.width, scene.height, jobs)
      const whole = encodeBlenderWork({
        xmin: 0,
        ymin: 0,
        xmax: scene.width,
        ymax: scene.height,
        frame: FRAME,
        blend
      })
      // the local single-process render, all threads, before the daemons share the cores
      reference = decodePng(
        await renderBlenderWork(whole, { blender, maxCost, timeoutMs: 120_000, threads: 0 })
      )
      return tiles.map((t) => encodeBlenderWork({ ...t.bounds, frame: FRAME, blend }))
    },
    async finish({ results, refs, outDir, get, log }) {
      const frame = assembleFrame(
        scene.width,
        scene.height,
        results.map((png, i) => ({ tile: tiles[i] as BlenderTile, image: decodePng(png) }))
      )
      await mkdir(outDir, { recursive: true })
      await writeFile(join(outDir, 'frame.png'), encodePng(frame))
      await writeFile(join(outDir, 'reference.png'), encodePng(reference as RgbaImage))
      const cmp = compareImages(frame, reference as RgbaImage)
      const activities = (await get('/api/v1/activities')) as {
        ref?: string | null
        counterparty?: string | null
        workTransfer?: { total: number } | null
      }[]
      const pushes: Push[] = []
      for (const a of activities)
        if (a.ref !== undefined && a.ref !== null && refs.includes(a.ref) && a.counterparty && a.workTransfer)
          pushes.push({ seller: a.counterparty, bytes: a.workTransfer.total })
      const figures = {
        scene: `${scene.width}x${scene.height}, ${scene.samples} samples, ${tiles.length} tiles`,
        frame_identical: cmp.maxDiff === 0,
        frame_max_channel_diff: cmp.maxDiff,
        frame_pixels_differing: cmp.pixelsDiffering,
        tolerance: FRAME_TOLERANCE,
        ...transferFigures(pushes, blendBytes)
      }
      log(
        `frame written to ${join(outDir, 'frame.png')}; largest channel difference to the local render ${cmp.maxDiff}`
      )
      return { matches: cmp.maxDiff <= FRAME_TOLERANCE, figures }
    }
  }
}
