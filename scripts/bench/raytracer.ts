import { spawnSync } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import {
  decodePng,
  defaultScene,
  encodePng,
  encodeWork,
  renderTile,
  type Tile,
  tilesFor,
  WORK_LIMITS
} from '../../node/demo/index.js'
import type { Bench } from '../bench.js'

/**
 * Cost of the demo article `net.bitwrk/rays/0` (protocol/spec/demo-article.md): tracer
 * throughput on the default scene, one 64×64 tile, the default testnet job (320×240, 16 tiles,
 * 4 samples per pixel), PNG encode/decode of a tile, and one run of the worker program as a
 * subprocess (what a seller's node pays per work item). CPU time of this process unless `wall`.
 */
const SAMPLES = 4
const JOB = { width: 320, height: 240, tiles: 16 }

/** CPU time of this process in ms (user + system): robust against other load on a shared machine. */
function cpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** Best (lowest) CPU ms of `runs` calls of `fn`. */
function best(runs: number, fn: () => void): number {
  let min = Infinity
  for (let i = 0; i < runs; i++) {
    const c0 = cpuMs()
    fn()
    min = Math.min(min, cpuMs() - c0)
  }
  return min
}

const round = (v: number, digits = 1): number => Number(v.toFixed(digits))

/** `npm run bench -- --json --filter raytracer`. */
export const bench: Bench = {
  name: 'raytracer',
  async run({ quick }) {
    const scene = defaultScene()
    const runs = quick ? 2 : 5
    const render = (tile: Tile, width = JOB.width, height = JOB.height): void => {
      renderTile({ scene, width, height, tile, samples: SAMPLES })
    }
    render({ x: 0, y: 0, w: JOB.width, h: JOB.height }) // warm-up: JIT
    const fullMs = best(runs, () => render({ x: 0, y: 0, w: JOB.width, h: JOB.height }))
    const pixels = JOB.width * JOB.height
    const tile64Ms = best(runs, () => render({ x: 128, y: 88, w: 64, h: 64 }))
    const tiles = tilesFor(JOB.width, JOB.height, JOB.tiles)
    const perTile = tiles.map((t) => best(runs, () => render(t)))
    const sample = tiles[5] as Tile
    const image = renderTile({ scene, width: JOB.width, height: JOB.height, tile: sample, samples: SAMPLES })
    let png = encodePng(image)
    const encodeMs = best(runs, () => {
      png = encodePng(image)
    })
    const decodeMs = best(runs, () => decodePng(png))
    const raysPerS = (pixels * SAMPLES * 1000) / fullMs
    // One worker run as a subprocess: node start-up + decode + render + encode (wall clock).
    const cli = fileURLToPath(new URL('../../node/demo/worker-cli.js', import.meta.url))
    const work = encodeWork({ scene, width: JOB.width, height: JOB.height, tile: sample, samples: SAMPLES })
    let workerWall = Infinity
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      const t0 = performance.now()
      const r = spawnSync(process.execPath, [cli], { input: work, timeout: 60_000 })
      if (r.status !== 0) throw new Error(`worker exited ${String(r.status)}: ${String(r.stderr)}`)
      workerWall = Math.min(workerWall, performance.now() - t0)
    }
    return {
      pixels_per_s: Math.round((pixels * 1000) / fullMs),
      rays_per_s: Math.round(raysPerS),
      samples: SAMPLES,
      tile_ms_64x64: round(tile64Ms),
      job: `${JOB.width}x${JOB.height}/${JOB.tiles} tiles/${SAMPLES} spp`,
      job_tile: `${sample.w}x${sample.h}`,
      job_tile_ms_max: round(Math.max(...perTile)),
      job_tile_ms_mean: round(perTile.reduce((a, b) => a + b, 0) / perTile.length),
      job_total_cpu_ms: round(perTile.reduce((a, b) => a + b, 0)),
      job_full_render_ms: round(fullMs),
      png_encode_ms: round(encodeMs, 2),
      png_decode_ms: round(decodeMs, 2),
      png_tile_bytes: png.length,
      worker_cli_wall_ms: round(workerWall),
      // The largest admissible work item (WORK_LIMITS.maxPrimaryRays) on the default scene.
      max_work_s_estimate: round(WORK_LIMITS.maxPrimaryRays / raysPerS)
    }
  }
}
