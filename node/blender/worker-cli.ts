import { parseArgs } from 'node:util'
import { isBitwrkError } from '../../protocol/errors.js'
import { EXIT_BAD_WORK, oneLine, readStdin, runWorkerProgram, writeTo as write } from '../workers/program.js'
import { BlenderCode } from './errors.js'
import { DEFAULT_RENDER_TIMEOUT_MS, renderBlenderWork } from './render.js'
import { BLENDER_WORK_MAX_BYTES } from './work.js'

/**
 * Worker program of the Blender article (spec: protocol/spec/blender-article.md, BLEND-8):
 * `node dist/node/blender/worker-cli.js --blender PATH --max-cost N [--timeout S] [--threads N]
 * < work > tile.png`. Reads one work item from stdin (at most BLENDER_WORK_MAX_BYTES), renders
 * it, writes the PNG tile to stdout and exits 0. Refused or failed work: one line
 * `<BLENDER_CODE>: <message>` on stderr, exit 2. A bug: exit 1. SIGTERM/SIGINT kill Blender and
 * remove the job's directory before the program exits.
 */

function positive(text: string | undefined, name: string, fallback?: number, min = 1): number {
  if (text === undefined && fallback !== undefined) return fallback
  const n = Number(text)
  if (text === undefined || !Number.isSafeInteger(n) || n < min) throw new Error(`bad or missing --${name}`)
  return n
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      blender: { type: 'string' },
      'max-cost': { type: 'string' },
      timeout: { type: 'string' },
      threads: { type: 'string' }
    }
  })
  if (values.blender === undefined) throw new Error('missing --blender')
  const opts = {
    blender: values.blender,
    maxCost: positive(values['max-cost'], 'max-cost'),
    timeoutMs: positive(values.timeout, 'timeout', DEFAULT_RENDER_TIMEOUT_MS / 1000) * 1000,
    threads: positive(values.threads, 'threads', 1, 0)
  }
  const stop = new AbortController()
  const onSignal = (): void => stop.abort()
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
  const work = await readStdin(BLENDER_WORK_MAX_BYTES)
  if (work === undefined) {
    await write(process.stderr, `${BlenderCode.workTooLarge}: work exceeds ${BLENDER_WORK_MAX_BYTES} bytes\n`)
    return EXIT_BAD_WORK
  }
  let png: Uint8Array
  try {
    png = await renderBlenderWork(work, { ...opts, signal: stop.signal })
  } catch (err) {
    if (isBitwrkError(err) && err.code.startsWith('BLENDER_')) {
      // codes and our own messages only: never the work's bytes or Blender's output
      await write(process.stderr, `${err.code}: ${oneLine(err.message)}\n`)
      return EXIT_BAD_WORK
    }
    if (stop.signal.aborted) return EXIT_BAD_WORK
    throw err
  }
  await write(process.stdout, png)
  return 0
}

runWorkerProgram(main)
