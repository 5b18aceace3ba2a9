import { isBitwrkError } from '../../protocol/errors.js'
import { EXIT_BAD_WORK, oneLine, readStdin, runWorkerProgram, writeTo as write } from '../workers/program.js'
import { fetchAsset, nodeApiFromEnv } from './asset-fetch.js'
import { DemoCode } from './errors.js'
import { decodeWork, WORK_MAX_BYTES } from './work.js'
import { renderChecked } from './worker.js'

/**
 * Worker program of `net.bitwrk/rays/0` (spec: protocol/spec/demo-article.md, RAYS-1):
 * `node dist/node/demo/worker-cli.js < work > tile.png`. Reads one work item from stdin (at
 * most WORK_MAX_BYTES; it stops reading beyond that), fetches its asset from the node API in
 * `BITWRK_NODE_API` if it names one (RAYS-11), writes the PNG tile to stdout and exits 0. Bad
 * work: one line `<CODE>: <message>` on stderr, exit 2; an asset it could not get
 * (`DEMO_ASSET_UNAVAILABLE`): the same line, exit 3. Anything else is a bug: exit 1.
 */

/** Exit status when the asset could not be had: not provably the work's fault (RAYS-11). */
const EXIT_NO_ASSET = 3

async function main(): Promise<number> {
  const work = await readStdin(WORK_MAX_BYTES)
  if (work === undefined) {
    await write(process.stderr, `${DemoCode.workTooLarge}: work exceeds ${WORK_MAX_BYTES} bytes\n`)
    return EXIT_BAD_WORK
  }
  let png: Uint8Array
  try {
    const decoded = decodeWork(work)
    const asset =
      decoded.asset === undefined ? undefined : await fetchAsset(decoded.asset, nodeApiFromEnv(process.env))
    png = renderChecked(decoded, asset)
  } catch (err) {
    if (isBitwrkError(err) && err.code.startsWith('DEMO_')) {
      // Codes and our own messages only: never echo the work's bytes.
      await write(process.stderr, `${err.code}: ${oneLine(err.message)}\n`)
      return err.code === DemoCode.assetUnavailable ? EXIT_NO_ASSET : EXIT_BAD_WORK
    }
    throw err
  }
  await write(process.stdout, png)
  return 0
}

runWorkerProgram(main)
