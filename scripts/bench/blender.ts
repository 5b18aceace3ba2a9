import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { manifestOfBytes } from '../../cafs/index.js'
import {
  blenderTiles,
  COST_CLASSES,
  createTestScene,
  encodeBlenderWork,
  findBlender,
  renderBlenderWork,
  TEST_SCENE
} from '../../node/blender/index.js'
import type { Bench } from '../bench.js'

/**
 * The Blender article (protocol/spec/blender-article.md) with Debian's Blender: what a tile
 * costs a seller (one Blender run of a quarter of the testnet's frame against one run of the
 * whole frame, both with 1 thread: the ratio is Blender's start-up and scene load per tile), and
 * what differential transfer saves (BLEND-10): the bytes of a second tile's work whose chunks a
 * seller holding the first tile's lacks, against the whole work. CPU figures are the children's
 * CPU time (Blender's), read from /proc/self/stat.
 */

/** CPU ms of this process's waited-for children (cutime + cstime, 100 ticks per second). */
function childCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? []
  // after "pid (comm) ": state is field 0, cutime field 13, cstime field 14
  return (Number(fields[13]) + Number(fields[14])) * 10
}

export const bench: Bench = {
  name: 'blender',
  async run() {
    const blender = findBlender()
    if (blender === undefined) return { error: 'no Blender (apt-get install blender)' }
    const blend = await createTestScene(blender, TEST_SCENE)
    const { width, height } = TEST_SCENE
    const tiles = blenderTiles(width, height, 4)
    const works = tiles.map((t) => encodeBlenderWork({ ...t.bounds, frame: 1, blend }))
    const whole = encodeBlenderWork({ xmin: 0, ymin: 0, xmax: width, ymax: height, frame: 1, blend })
    const o = { blender, maxCost: COST_CLASSES['512M'] as number, timeoutMs: 120_000, threads: 1 }
    const run = async (w: Uint8Array): Promise<{ cpu: number; wall: number }> => {
      const c0 = childCpuMs()
      const t0 = performance.now()
      await renderBlenderWork(w, o)
      return { cpu: childCpuMs() - c0, wall: performance.now() - t0 }
    }
    const tile = await run(works[0] as Uint8Array)
    const full = await run(whole)
    const first = manifestOfBytes(works[0] as Uint8Array)
    const second = manifestOfBytes(works[1] as Uint8Array)
    const held = new Set(first.chunks.map((c) => c.key.toString()))
    const lacking = second.chunks.filter((c) => !held.has(c.key.toString()))
    const lackingBytes = lacking.reduce((s, c) => s + c.size, 0)
    return {
      scene: `${width}x${height}, ${TEST_SCENE.samples} samples`,
      blend_bytes: blend.length,
      work_bytes: (works[1] as Uint8Array).length,
      work_chunks: second.chunks.length,
      later_tile_chunks_lacking: lacking.length,
      later_tile_bytes_lacking: lackingBytes,
      later_tile_share: Math.round((lackingBytes / (works[1] as Uint8Array).length) * 1000) / 1000,
      tile_quarter_cpu_ms: tile.cpu,
      full_frame_cpu_ms: full.cpu,
      four_tiles_over_full_cpu: Math.round(((4 * tile.cpu) / full.cpu) * 100) / 100,
      tile_quarter_wall_ms: Math.round(tile.wall),
      full_frame_wall_ms: Math.round(full.wall)
    }
  }
}
