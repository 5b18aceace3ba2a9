import { isBitwrkError } from '../../protocol/errors.js'
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

/** Exit status for work the decoder rejected. */
const EXIT_BAD_WORK = 2
/** Exit status when the asset could not be had: not provably the work's fault (RAYS-11). */
const EXIT_NO_ASSET = 3
/** Exit status for an unexpected failure. */
const EXIT_BUG = 1

/** Longest error message printed: a scene key named in a message comes from the (untrusted) work. */
const MAX_MESSAGE = 200

function oneLine(message: string): string {
  return message.replace(/\p{Cc}/gu, ' ').slice(0, MAX_MESSAGE)
}

async function readStdin(limit: number): Promise<Uint8Array | undefined> {
  const parts: Buffer[] = []
  let total = 0
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    total += chunk.length
    if (total > limit) return undefined
    parts.push(chunk)
  }
  return new Uint8Array(Buffer.concat(parts, total))
}

function write(stream: NodeJS.WriteStream, data: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) => stream.write(data, (err) => (err ? reject(err) : resolve())))
}

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

main().then(
  (code) => {
    process.exitCode = code
    // stdin may still hold unread bytes after an oversized work item: do not wait for it.
    if (code !== 0) process.exit(code)
  },
  (err: unknown) => {
    process.stderr.write(`worker failed: ${String(err)}\n`)
    process.exit(EXIT_BUG)
  }
)
