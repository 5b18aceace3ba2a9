import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isBitwrkError } from '../../protocol/errors.js'
import { decodePng, encodePng } from '../demo/index.js'
import { BlenderCode, type BlenderErrorCode, fail } from './errors.js'
import { RENDER_SCRIPT } from './script.js'
import { type BlenderWork, decodeBlenderWork, tileSize } from './work.js'

/**
 * The Blender worker's job (BLEND-7, BLEND-8): decode untrusted work, render its tile with a
 * real Blender in a fresh temporary directory, return the tile as PNG. The directory is removed
 * on every exit path; Blender runs in its own process group, which is killed on the time limit
 * and on abort.
 */

/** Options of {@link renderBlenderWork}. */
export interface BlenderRenderOptions {
  /** The Blender executable (e.g. `/usr/bin/blender`). */
  readonly blender: string
  /** Cost budget of the article's class (BLEND-6). */
  readonly maxCost: number
  /** Wall-clock limit of one render; Blender's process group is killed after it (BLEND-8). */
  readonly timeoutMs: number
  /** Blender's render threads (`-t`); 0 = one per core. */
  readonly threads: number
  /** Aborting kills Blender and removes the directory. */
  readonly signal?: AbortSignal
  /** Parent of the job's temporary directory (default the system's). */
  readonly tmpRoot?: string
}

/** Default render time limit: 4 minutes, below the trade's WORKING allowance (TX: +5 min). */
export const DEFAULT_RENDER_TIMEOUT_MS = 240_000

/** Fixed file names inside the job directory: nothing from the work ever names a file (BLEND-7). */
const FILES = { blend: 'scene.blend', script: 'render.py', status: 'status', tile: 'tile.png' } as const

/** Largest tile file read back: a 4096² RGBA PNG stored without compression is about 64 MiB. */
const MAX_TILE_FILE = 80 * 2 ** 20

/** Bytes of Blender's output kept for a failure's details (never sent to the buyer). */
const KEEP_OUTPUT = 4096

/** Exit status of Blender when the script raised (`--python-exit-code`). */
const SCRIPT_FAILED = 3

/** The `BLENDER_*` codes the script may write to its status file. */
const SCRIPT_CODES: ReadonlySet<string> = new Set<BlenderErrorCode>([
  BlenderCode.badBlend,
  BlenderCode.externalFile,
  BlenderCode.noCamera,
  BlenderCode.tileOutside,
  BlenderCode.workTooCostly
])

/** Blender's command line for one job (BLEND-7). */
export function blenderArgs(
  dir: string,
  work: Omit<BlenderWork, 'blend'>,
  maxCost: number,
  threads: number
): string[] {
  return [
    '-b',
    '--factory-startup',
    '--disable-autoexec',
    '-noaudio',
    '-t',
    String(threads),
    join(dir, FILES.blend),
    '--python-exit-code',
    String(SCRIPT_FAILED),
    '-P',
    join(dir, FILES.script),
    '--',
    join(dir, FILES.status),
    join(dir, FILES.tile),
    join(dir, FILES.blend),
    ...[work.xmin, work.ymin, work.xmax, work.ymax, work.frame, maxCost].map(String)
  ]
}

interface Run {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly timedOut: boolean
  readonly output: string
}

/** Runs Blender in its own process group; kills the whole group on timeout or abort. */
function runBlender(o: BlenderRenderOptions, args: string[], dir: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(o.blender, args, {
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      // a minimal environment: Blender's config and temporary files land in the job directory
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, TMPDIR: dir, LANG: 'C.UTF-8' }
    })
    let output = ''
    const keep = (b: Buffer): void => {
      output = (output + b.toString('utf8')).slice(-KEEP_OUTPUT)
    }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    let timedOut = false
    const killGroup = (): void => {
      if (child.pid === undefined) return
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // the group is gone already
      }
    }
    const timer = setTimeout(() => {
      timedOut = true
      killGroup()
    }, o.timeoutMs)
    const onAbort = (): void => killGroup()
    o.signal?.addEventListener('abort', onAbort, { once: true })
    // aborted while the directory was being made: the listener would never fire
    if (o.signal?.aborted === true) killGroup()
    child.once('error', (err) => {
      clearTimeout(timer)
      o.signal?.removeEventListener('abort', onAbort)
      reject(err)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      o.signal?.removeEventListener('abort', onAbort)
      // anything Blender left running in its group goes too
      killGroup()
      resolve({ code, signal, timedOut, output })
    })
  })
}

/** Reads a small file we made; undefined when missing. */
async function readSmall(path: string, max: number): Promise<Buffer | undefined> {
  try {
    if ((await stat(path)).size > max) return undefined
    return await readFile(path)
  } catch {
    return undefined
  }
}

/**
 * Renders one work item (BLEND-7, BLEND-8) and returns the tile as PNG (BLEND-9): RGBA, 8 bits,
 * exactly the tile's size, re-encoded by this package's encoder so that equal pixels give equal
 * bytes (Blender's own PNG carries the date, the host's paths and render time).
 * @throws BitwrkError with a `BLENDER_*` code: the decoder's, the script's verdict,
 *   `BLENDER_TIMEOUT` or `BLENDER_RENDER_FAILED`.
 */
export async function renderBlenderWork(bytes: Uint8Array, o: BlenderRenderOptions): Promise<Uint8Array> {
  const work = decodeBlenderWork(bytes)
  o.signal?.throwIfAborted()
  const dir = await mkdtemp(join(o.tmpRoot ?? tmpdir(), 'bitwrk-blender-'))
  try {
    await writeFile(join(dir, FILES.blend), work.blend, { mode: 0o600, flag: 'wx' })
    await writeFile(join(dir, FILES.script), RENDER_SCRIPT, { mode: 0o600, flag: 'wx' })
    let run: Run
    try {
      run = await runBlender(o, blenderArgs(dir, work, o.maxCost, o.threads), dir)
    } catch (err) {
      return fail(BlenderCode.renderFailed, `cannot run Blender: ${(err as Error).message}`)
    }
    o.signal?.throwIfAborted()
    if (run.timedOut)
      fail(BlenderCode.timeout, `the render took longer than ${Math.round(o.timeoutMs / 1000)} s`)
    const status = (await readSmall(join(dir, FILES.status), 512))?.toString('utf8')
    const [code, ...words] = (status ?? '').trim().split(' ')
    if (code !== undefined && SCRIPT_CODES.has(code))
      fail(code as BlenderErrorCode, words.join(' ').slice(0, 200))
    // a .blend Blender refuses outright ends Blender before the script runs (exit 1)
    if (status === undefined && /Failed to read blend file|Cannot read file/.test(run.output))
      fail(BlenderCode.badBlend, 'Blender could not read the .blend')
    if (code !== 'OK' || run.code !== 0)
      fail(BlenderCode.renderFailed, `Blender failed (${run.signal ?? `exit ${run.code}`})`, {
        output: run.output
      })
    const file = await readSmall(join(dir, FILES.tile), MAX_TILE_FILE)
    if (file === undefined) fail(BlenderCode.renderFailed, 'Blender wrote no tile')
    const { w, h } = tileSize(work)
    let png: ReturnType<typeof decodePng>
    try {
      png = decodePng(new Uint8Array(file))
    } catch (err) {
      return fail(
        BlenderCode.renderFailed,
        `Blender's tile is not an RGBA PNG (${isBitwrkError(err) ? err.code : err})`
      )
    }
    if (png.width !== w || png.height !== h)
      fail(BlenderCode.renderFailed, `Blender's tile is ${png.width}x${png.height}, not ${w}x${h}`)
    return encodePng(png)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
