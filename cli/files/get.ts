/**
 * `bitwrk-node get KEY [--out FILE]`: a file by key through the running daemon (`GET
 * /file/<key>`, API-24): served at once when the node holds it, otherwise found on the DHT and
 * fetched from its providers first, with the fetch's progress (providers, bytes, rate) on stderr.
 */
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as delay } from 'node:timers/promises'
import type { FetchProgressView } from '../../node/api/index.js'
import { BitwrkError } from '../../protocol/errors.js'
import { parseArgs, stringFlag } from '../args.js'
import {
  apiError,
  DAEMON_FLAGS,
  DAEMON_FLAGS_USAGE,
  daemonEndpoint,
  daemonHeaders,
  unreachableError
} from '../daemon.js'
import { CliCode, type CommandIo, EXIT, reportError } from '../io.js'
import { FetchProgress } from './progress.js'

/** Usage of `bitwrk-node get`. */
export const GET_USAGE = `usage: bitwrk-node get KEY [--out FILE] [--local] [--data-dir DIR | --api URL]

Writes the file whose SHA-256 is KEY (64 hex digits) to --out (default: stdout). A file the node
does not hold is looked up on the DHT and fetched from every provider found, each chunk
verified; the node then holds and provides it too. Progress (providers, bytes, rate) goes to
stderr. --local: only a file the node holds (no network).
${DAEMON_FLAGS_USAGE}
`

/** Longest wait for the daemon's answer: its gateway's deadline (8 min) and some. */
const GET_TIMEOUT_MS = 10 * 60_000
/** How often the fetch's progress is read. */
const POLL_MS = 500

/** `bitwrk-node get`. */
export async function getCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  const watching = new AbortController()
  try {
    if (argv.includes('--help')) {
      io.stdout.write(GET_USAGE)
      return EXIT.ok
    }
    const args = parseArgs(
      argv,
      { ...DAEMON_FLAGS, out: 'string', local: 'boolean' },
      { min: 1, max: 1, names: ['KEY'] }
    )
    const key = (args.positionals[0] as string).toLowerCase()
    if (!/^[0-9a-f]{64}$/.test(key))
      throw new BitwrkError(CliCode.badArgument, 'KEY must be the file key: 64 hex digits')
    const out = stringFlag(args, 'out')
    const endpoint = await daemonEndpoint(args, io)
    const p = new FetchProgress(io.stderr, `get ${key.slice(0, 12)}…`, io.stderr.isTTY === true)
    // Progress is a view: a failing poll never fails the get.
    const watched = (async () => {
      while (!watching.signal.aborted) {
        const res = await fetch(`${endpoint.base}/api/v1/fetches`, {
          headers: daemonHeaders(endpoint),
          signal: watching.signal
        })
        if (res.ok) {
          const v = ((await res.json()) as FetchProgressView[]).find((f) => f.key === key)
          if (v !== undefined) p.show(v)
        }
        await delay(POLL_MS, undefined, { signal: watching.signal })
      }
    })().catch(() => {})
    let res: Response
    try {
      res = await fetch(`${endpoint.base}/file/${key}${args.flags['local'] === true ? '?local=1' : ''}`, {
        headers: daemonHeaders(endpoint),
        signal: AbortSignal.timeout(GET_TIMEOUT_MS)
      })
    } catch (err) {
      throw unreachableError(endpoint.base, err)
    } finally {
      watching.abort()
      await watched
      p.end()
    }
    if (!res.ok || res.body === null) {
      let answer: unknown
      try {
        answer = await res.json()
      } catch {}
      throw apiError(res.status, answer)
    }
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>)
    if (out === undefined) {
      // binary: straight to the process's stdout, not through the text interface (as `buy`)
      await pipeline(body, process.stdout, { end: false })
    } else {
      // written beside the target and renamed: a broken transfer leaves no partial FILE
      const part = `${out}.part`
      try {
        await pipeline(body, createWriteStream(part, { mode: 0o600 }))
        await rename(part, out)
      } catch (err) {
        await rm(part, { force: true })
        throw err
      }
    }
    io.stderr.write(`get: ${key} ${res.headers.get('content-length') ?? '?'} bytes\n`)
    return EXIT.ok
  } catch (err) {
    watching.abort()
    return reportError(err, 'get', io)
  }
}
