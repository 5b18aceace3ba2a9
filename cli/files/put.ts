/**
 * `bitwrk-node put FILE`: stores FILE in the running daemon (`POST /api/v1/files`, API-23),
 * which provides it on the network (unless it runs with `--no-provide`), and prints its key.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { request } from 'node:http'
import { parseArgs } from '../args.js'
import {
  apiError,
  DAEMON_FLAGS,
  DAEMON_FLAGS_USAGE,
  daemonEndpoint,
  daemonHeaders,
  unreachableError
} from '../daemon.js'
import { type CommandIo, EXIT, reportError } from '../io.js'
import { formatBytes } from './progress.js'

/** Usage of `bitwrk-node put`. */
export const PUT_USAGE = `usage: bitwrk-node put FILE [--data-dir DIR | --api URL]

Stores FILE in the running daemon and prints its key (SHA-256, 64 hex digits) on stdout. The
node provides the file on the network while it holds it: whoever knows the key can fetch it
('bitwrk-node get KEY' on any node). The key is a capability: do not put what must stay private.
${DAEMON_FLAGS_USAGE}
`

/** Longest upload: 1 GiB at about 1.2 MB/s (the API's own request deadline, API-20). */
const PUT_TIMEOUT_MS = 15 * 60_000

/** `bitwrk-node put`. */
export async function putCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  try {
    if (argv.includes('--help')) {
      io.stdout.write(PUT_USAGE)
      return EXIT.ok
    }
    const args = parseArgs(argv, DAEMON_FLAGS, { min: 1, max: 1, names: ['FILE'] })
    const file = args.positionals[0] as string
    const size = (await stat(file)).size
    const endpoint = await daemonEndpoint(args, io)
    let answer: { status: number; body: { key?: unknown; size?: unknown; provided?: unknown } | undefined }
    try {
      answer = await postFile(`${endpoint.base}/api/v1/files`, file, size, daemonHeaders(endpoint))
    } catch (err) {
      throw unreachableError(endpoint.base, err)
    }
    if (answer.status !== 201 || typeof answer.body?.key !== 'string')
      throw apiError(answer.status, answer.body)
    const { key, size: stored, provided } = answer.body
    io.stdout.write(`${key}\n`)
    io.stderr.write(
      `put: ${formatBytes(Number(stored))}, ${provided === true ? 'provided on the network' : 'stored, not provided (the node runs with --no-provide)'}\n`
    )
    return EXIT.ok
  } catch (err) {
    return reportError(err, 'put', io)
  }
}

/**
 * POSTs the file at `path` (streamed from disk: a large file is never held in memory) to `url`;
 * the status and the JSON answer (undefined when it is not JSON).
 */
function postFile(
  url: string,
  path: string,
  size: number,
  headers: Record<string, string>
): Promise<{ status: number; body: { key?: unknown; size?: unknown; provided?: unknown } | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(size) },
        signal: AbortSignal.timeout(PUT_TIMEOUT_MS)
      },
      (res) => {
        const parts: Buffer[] = []
        res.on('data', (b: Buffer) => parts.push(b))
        res.on('error', reject)
        res.on('end', () => {
          let body: { key?: unknown } | undefined
          try {
            body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { key?: unknown }
          } catch {}
          resolve({ status: res.statusCode ?? 0, body })
        })
      }
    )
    req.on('error', reject)
    const file = createReadStream(path)
    file.on('error', (err) => req.destroy(err))
    file.pipe(req)
  })
}
