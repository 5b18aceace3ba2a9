/**
 * `bitwrk-node worker --article A --exec CMD [--data-dir DIR | --api URL]`: a worker of the
 * original protocol (original §8.4, protocol/spec/local-api.md WRK-*) that runs CMD per job.
 * It listens on 127.0.0.1 (port 0) as its push URL, registers at the node's API, runs CMD with
 * the work on stdin and answers with its stdout (200) or its failure (500), registers again
 * after each job ("idle again"), and unregisters on SIGINT/SIGTERM. `--demo` sells the demo
 * article with the package's own tracer (RAYS-1), wherever the package is installed.
 */
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { RAYS_ARTICLE } from '../../node/demo/index.js'
import { BitwrkError } from '../../protocol/errors.js'
import { parseArgs, stringFlag } from '../args.js'
import { DAEMON_FLAGS, DAEMON_FLAGS_USAGE, daemonEndpoint } from '../daemon.js'
import { CliCode, type CommandIo, EXIT, reportError } from '../io.js'

/** Usage text of `bitwrk-node worker`. */
export const WORKER_USAGE = `usage: bitwrk-node worker --article ARTICLE --exec CMD | --demo
                          [--data-dir DIR | --api URL] [--id ID] [--token TOKEN | --cookie FILE]
                          [--max-result BYTES]

  runs CMD (through /bin/sh) for every job: the work on stdin, the result from stdout;
  CMD finds the node's API in $BITWRK_NODE_API (and the token, if any, in $BITWRK_NODE_TOKEN),
  e.g. to fetch an input file by key: curl -fsS "$BITWRK_NODE_API/file/<sha256>" (WRK-12)
  --demo           sell ${RAYS_ARTICLE} tiles rendered by the built-in tracer (RAYS-1),
                   i.e. --article ${RAYS_ARTICLE} and this package's demo worker as CMD
${DAEMON_FLAGS_USAGE}
  --id ID          worker id (default exec-<pid>)
  --token TOKEN    API token (with --api, when the node requires one)
  --cookie FILE    read the API token from FILE (the node's <data-dir>/.cookie)
  --max-result N   largest result in bytes (default 268435456)
Registering for an article the node does not follow makes it follow the article (WRK-11).
`

/** The demo article's worker program of this package (RAYS-1), run by `--demo`. */
const DEMO_WORKER = fileURLToPath(new URL('../../node/demo/worker-cli.js', import.meta.url))

/** A word for /bin/sh: single-quoted, so a path with spaces or quotes stays one word. */
function shellWord(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`
}

const FLAGS = {
  ...DAEMON_FLAGS,
  article: 'string',
  exec: 'string',
  demo: 'boolean',
  id: 'string',
  token: 'string',
  cookie: 'string',
  'max-result': 'string',
  help: 'boolean'
} as const

/** Default largest result: 256 MiB, kept in memory until CMD exits (the status decides 200/500). */
const DEFAULT_MAX_RESULT = 256 * 2 ** 20
/** Deadline of one registration request. */
const REGISTER_TIMEOUT_MS = 10_000
/**
 * How long a worker keeps asking a node that does not answer (or answers 5xx) before it gives
 * up: a node starting up or loaded (a 50-node testnet on 2 cores) answers late, not never.
 * Waits between attempts double from 1 s up to 10 s.
 */
const REGISTER_PATIENCE_MS = 120_000

/** Calls `fn` until it succeeds, fails for good, `stop` fires or {@link REGISTER_PATIENCE_MS} passed. */
async function patiently<T>(fn: () => Promise<T>, stop: AbortSignal): Promise<T> {
  const deadline = Date.now() + REGISTER_PATIENCE_MS
  for (let wait = 1000; ; wait = Math.min(10_000, wait * 2)) {
    try {
      return await fn()
    } catch (err) {
      const retry = err instanceof BitwrkError && err.details['retry'] === true
      if (!retry || stop.aborted || Date.now() + wait > deadline) throw err
    }
    // an abort ends the wait early; the next attempt then sees it and gives up
    await delay(wait, undefined, { signal: stop }).catch(() => {})
  }
}

/** Error codes of the worker command. */
export const WorkerCliCode = {
  /** The node refused or did not answer a registration. */
  REGISTER_FAILED: 'CLI_WORKER_REGISTER_FAILED'
} as const

interface Config {
  article: string
  exec: string
  api: string
  id: string
  token: string | undefined
  maxResult: number
}

async function callApi(cfg: Config, path: string, fields: Record<string, string>): Promise<unknown> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (cfg.token !== undefined) headers['authorization'] = `Bearer ${cfg.token}`
  let res: Response
  try {
    res = await fetch(new URL(path, cfg.api), {
      method: 'POST',
      headers,
      body: new URLSearchParams(fields).toString(),
      signal: AbortSignal.timeout(REGISTER_TIMEOUT_MS),
      redirect: 'error'
    })
  } catch (err) {
    throw new BitwrkError(
      WorkerCliCode.REGISTER_FAILED,
      `cannot reach ${cfg.api}: ${(err as Error).message}`,
      {
        retry: true
      }
    )
  }
  const answer = await res.text()
  const text = answer.slice(0, 300)
  if (res.status !== 200) {
    let code = `status ${res.status}`
    try {
      const body = JSON.parse(text) as { code?: unknown; detail?: unknown }
      code = [body.code, body.detail].filter((x) => typeof x === 'string').join('/')
    } catch {
      // Not JSON: keep the status.
    }
    // a busy node (5xx) is asked again; a refusal (4xx) is final
    throw new BitwrkError(WorkerCliCode.REGISTER_FAILED, `${path} refused: ${code}`, {
      retry: res.status >= 500
    })
  }
  try {
    return JSON.parse(answer)
  } catch {
    return undefined
  }
}

/**
 * WRK-12: CMD's environment: the worker's own, plus `BITWRK_NODE_API` (the node's API, no
 * trailing slash) so that it can fetch input files by key (`GET $BITWRK_NODE_API/file/<key>`,
 * API-24), and `BITWRK_NODE_TOKEN` when the worker holds the API token.
 */
export function jobEnv(cfg: { readonly api: string; readonly token: string | undefined }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, BITWRK_NODE_API: cfg.api.replace(/\/+$/, '') }
  if (cfg.token !== undefined) env['BITWRK_NODE_TOKEN'] = cfg.token
  else delete env['BITWRK_NODE_TOKEN']
  return env
}

/** Runs CMD on one job and answers: stdout with 200, or 500 with a short reason. */
function runJob(cfg: Config, req: IncomingMessage, res: ServerResponse, done: () => void): void {
  const child = spawn('/bin/sh', ['-c', cfg.exec], { stdio: ['pipe', 'pipe', 'pipe'], env: jobEnv(cfg) })
  const out: Buffer[] = []
  let size = 0
  let tooLarge = false
  let stderr = ''
  child.stdout.on('data', (b: Buffer) => {
    size += b.length
    if (size > cfg.maxResult) {
      tooLarge = true
      child.kill('SIGKILL')
    } else out.push(b)
  })
  child.stderr.on('data', (b: Buffer) => {
    if (stderr.length < 1024) stderr += b.toString('utf8')
  })
  // The node closing the connection cancels the job (as the original's Blender worker did).
  res.on('close', () => {
    if (!res.writableFinished) child.kill('SIGTERM')
  })
  req.pipe(child.stdin)
  child.stdin.on('error', () => {})
  const finish = (status: number, body: Buffer | string): void => {
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(status, { 'content-type': status === 200 ? 'application/octet-stream' : 'text/plain' })
      res.end(body)
    }
    res.once('finish', done)
    if (res.writableFinished || res.destroyed) done()
  }
  child.on('error', (err) => finish(500, `cannot run command: ${err.message}`))
  child.on('close', (code, signal) => {
    if (tooLarge) finish(500, 'result too large')
    else if (code === 0) finish(200, Buffer.concat(out))
    else finish(500, `command failed (${code ?? signal}): ${stderr.slice(0, 1024)}`)
  })
}

/** `bitwrk-node worker`. Resolves after SIGINT/SIGTERM (or `stop`) once unregistered. */
export async function workerCommand(
  argv: readonly string[],
  io: CommandIo,
  stop: AbortSignal = signalsToAbort()
): Promise<number> {
  let server: ReturnType<typeof createServer> | undefined
  try {
    const args = parseArgs(argv, FLAGS, { min: 0, max: 0 })
    if (args.flags['help'] === true) {
      io.stdout.write(WORKER_USAGE)
      return EXIT.ok
    }
    const demo = args.flags['demo'] === true
    if (demo && stringFlag(args, 'exec') !== undefined)
      throw new BitwrkError(CliCode.badArgument, 'give --exec or --demo, not both')
    const article = stringFlag(args, 'article') ?? (demo ? RAYS_ARTICLE : undefined)
    const exec = demo ? `${shellWord(process.execPath)} ${shellWord(DEMO_WORKER)}` : stringFlag(args, 'exec')
    if (article === undefined) throw new BitwrkError(CliCode.missingArgument, 'missing --article')
    if (exec === undefined) throw new BitwrkError(CliCode.missingArgument, 'missing --exec (or --demo)')
    const maxText = stringFlag(args, 'max-result')
    const maxResult = maxText === undefined ? DEFAULT_MAX_RESULT : Number(maxText)
    if (!Number.isSafeInteger(maxResult) || maxResult < 1)
      throw new BitwrkError(CliCode.badArgument, '--max-result must be a positive integer')
    let token = stringFlag(args, 'token')
    const cookie = stringFlag(args, 'cookie')
    if (token !== undefined && cookie !== undefined)
      throw new BitwrkError(CliCode.badArgument, 'give --token or --cookie, not both')
    if (cookie !== undefined) token = (await readFile(cookie, 'utf8')).trim()
    const endpoint = await daemonEndpoint(args, io)
    const cfg: Config = {
      article,
      exec,
      api: endpoint.base,
      id: stringFlag(args, 'id') ?? `exec-${process.pid}`,
      // --token / --cookie win over the data directory's cookie file
      token: token ?? endpoint.token,
      maxResult
    }

    let busy = false
    let pushUrl = ''
    const register = (): Promise<unknown> =>
      patiently(() => callApi(cfg, '/registerworker', { id: cfg.id, article, pushurl: pushUrl }), stop)
    const srv = createServer((req, res) => {
      if (req.method !== 'POST' || busy) {
        res.writeHead(busy ? 503 : 405).end()
        return
      }
      busy = true
      runJob(cfg, req, res, () => {
        busy = false
        // "I am idle again" (original §8.4); a failed re-registration ends the worker.
        if (!stop.aborted)
          register().catch((err: unknown) => {
            io.stderr.write(`bitwrk-node worker: ${(err as Error).message}\n`)
            srv.close()
          })
      })
    })
    server = srv
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject)
      srv.listen(0, '127.0.0.1', () => resolve())
    })
    pushUrl = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/work`
    const first = (await register()) as { followed?: unknown } | undefined
    io.stdout.write(`worker ${cfg.id} registered for ${article} at ${cfg.api} (push URL ${pushUrl})\n`)
    if (first?.followed === true)
      io.stdout.write(`the node now follows ${article} (its bids and transactions)\n`)
    await new Promise<void>((resolve) => {
      if (stop.aborted) resolve()
      stop.addEventListener('abort', () => resolve(), { once: true })
      srv.once('close', () => resolve())
    })
    await callApi(cfg, '/unregisterworker', { id: cfg.id }).catch(() => {})
    io.stdout.write(`worker ${cfg.id} unregistered\n`)
    return EXIT.ok
  } catch (err) {
    return reportError(err, 'worker', io)
  } finally {
    server?.closeAllConnections()
    server?.close()
  }
}

/** An AbortSignal that fires on the first SIGINT or SIGTERM. */
function signalsToAbort(): AbortSignal {
  const ctl = new AbortController()
  const on = (): void => ctl.abort()
  process.once('SIGINT', on)
  process.once('SIGTERM', on)
  return ctl.signal
}
