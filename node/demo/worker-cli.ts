import { isBitwrkError } from '../../protocol/errors.js'
import { EXIT_BAD_WORK, oneLine, readStdin, runWorkerProgram, writeTo as write } from '../workers/program.js'
import { DemoCode } from './errors.js'
import { WORK_MAX_BYTES } from './work.js'
import { renderWork } from './worker.js'

/**
 * Worker program of `net.bitwrk/rays/0` (spec: protocol/spec/demo-article.md, RAYS-1):
 * `node dist/node/demo/worker-cli.js < work > tile.png`. Reads one work item from stdin (at
 * most WORK_MAX_BYTES; it stops reading beyond that), writes the PNG tile to stdout and exits
 * 0. Bad work: one line `<CODE>: <message>` on stderr, exit 2. Anything else is a bug: exit 1.
 */

async function main(): Promise<number> {
  const work = await readStdin(WORK_MAX_BYTES)
  if (work === undefined) {
    await write(process.stderr, `${DemoCode.workTooLarge}: work exceeds ${WORK_MAX_BYTES} bytes\n`)
    return EXIT_BAD_WORK
  }
  let png: Uint8Array
  try {
    png = renderWork(work)
  } catch (err) {
    if (isBitwrkError(err) && err.code.startsWith('DEMO_')) {
      // Codes and our own messages only: never echo the work's bytes.
      await write(process.stderr, `${err.code}: ${oneLine(err.message)}\n`)
      return EXIT_BAD_WORK
    }
    throw err
  }
  await write(process.stdout, png)
  return 0
}

runWorkerProgram(main)
