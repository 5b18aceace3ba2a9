/**
 * How every command that talks to a running daemon names it (issue 12.11): `--api URL`, or
 * `--data-dir DIR` whose `daemon.json` holds the API's URL (default `$BITWRK_DATA_DIR`, else
 * `~/.bitwrk-node`), never both; and the client of the daemon's local API they share.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { COOKIE_FILE_NAME } from '../node/api/auth.js'
import { DAEMON_FILE_NAME, type DaemonInfo } from '../node/daemon/info.js'
import { BitwrkError } from '../protocol/errors.js'
import { type ParsedArgs, parseArgs, stringFlag } from './args.js'
import { resolveDataDir } from './data-dir.js'
import { CliCode, type CommandIo, EXIT, reportError } from './io.js'

/** Codes of the daemon client (`CLI_DAEMON_*`). */
export const DaemonClientCode = {
  /** No daemon runs on the data directory (no status file, or its process is gone). */
  NOT_RUNNING: 'CLI_DAEMON_NOT_RUNNING',
  /** The API did not answer in time or refused the connection. */
  UNREACHABLE: 'CLI_DAEMON_UNREACHABLE',
  /** The API answered with an error body `{code, message}`. */
  API_ERROR: 'CLI_DAEMON_API_ERROR'
} as const

/** The details of `CLI_DAEMON_API_ERROR` (issue 13): the HTTP status and the answer's `detail`. */
export type DaemonApiErrorDetails = { status: number; detail?: string }

/** The flags that name the daemon, for {@link parseArgs} specs: `--data-dir DIR | --api URL`. */
export const DAEMON_FLAGS = { 'data-dir': 'string', api: 'string' } as const

/** The usage line of {@link DAEMON_FLAGS}, the same in every command's help. */
export const DAEMON_FLAGS_USAGE = `  --data-dir DIR   the daemon of this data directory (default $BITWRK_DATA_DIR, else ~/.bitwrk-node):
                   its API from DIR/daemon.json, its token from DIR/.cookie when it needs one
  --api URL        the daemon's API (e.g. http://127.0.0.1:8081) instead of --data-dir`

/** Where a running daemon's API is, and the token it needs (when bound beyond loopback, API-3). */
export interface DaemonEndpoint {
  /** The API's base URL without a trailing slash. */
  readonly base: string
  /** The bearer token of `<data-dir>/.cookie`, when the daemon wrote one. */
  readonly token?: string
}

/** Deadline of one API request from the CLI. */
const REQUEST_TIMEOUT_MS = 10_000

/**
 * The running daemon named by `--api URL` or `--data-dir DIR` (not both; without either the
 * default data directory): its API from the data directory's status file (checking that its
 * process lives) and its token from the cookie file, if there is one.
 */
export async function daemonEndpoint(args: ParsedArgs, io: CommandIo): Promise<DaemonEndpoint> {
  const api = stringFlag(args, 'api')
  const dirFlag = stringFlag(args, 'data-dir')
  if (api !== undefined && dirFlag !== undefined)
    throw new BitwrkError(CliCode.badArgument, 'give --api or --data-dir, not both')
  if (api !== undefined) {
    let url: URL | undefined
    try {
      url = new URL(api)
    } catch {}
    if (url === undefined || url.protocol !== 'http:')
      throw new BitwrkError(CliCode.badArgument, '--api must be an http URL such as http://127.0.0.1:8081')
    return { base: api.replace(/\/+$/, '') }
  }
  const dataDir = resolveDataDir(dirFlag, io)
  let info: DaemonInfo
  try {
    info = JSON.parse(await readFile(join(dataDir, DAEMON_FILE_NAME), 'utf8')) as DaemonInfo
  } catch {
    throw new BitwrkError(DaemonClientCode.NOT_RUNNING, `no daemon runs on ${dataDir}`)
  }
  try {
    process.kill(info.pid, 0)
  } catch {
    throw new BitwrkError(DaemonClientCode.NOT_RUNNING, `the daemon of ${dataDir} is gone (pid ${info.pid})`)
  }
  // The API writes the cookie only when it requires the token (API-3); a missing file is fine.
  const token = await readFile(join(dataDir, COOKIE_FILE_NAME), 'utf8').then(
    (t) => t.trim(),
    () => undefined
  )
  return token === undefined || token === '' ? { base: info.apiUrl } : { base: info.apiUrl, token }
}

/** `CLI_DAEMON_UNREACHABLE`: the API at `base` did not answer (`err` is why). */
export function unreachableError(base: string, err: unknown): BitwrkError {
  return new BitwrkError(DaemonClientCode.UNREACHABLE, `daemon API at ${base} unreachable`, {
    cause: String(err)
  })
}

/** The request headers of `endpoint` (its token, if any) and `extra`. */
export function daemonHeaders(
  endpoint: DaemonEndpoint,
  extra: Record<string, string> = {}
): Record<string, string> {
  return endpoint.token === undefined ? extra : { ...extra, authorization: `Bearer ${endpoint.token}` }
}

/** The one-line error of an API answer `{code, message, detail?}` with status `status`. */
export function apiError(
  status: number,
  body: unknown
): BitwrkError<typeof DaemonClientCode.API_ERROR, DaemonApiErrorDetails> {
  const e = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const text = (k: string): string => (typeof e[k] === 'string' ? (e[k] as string) : '')
  const detail = text('detail') === '' ? '' : ` (${text('detail')})`
  return new BitwrkError(
    DaemonClientCode.API_ERROR,
    `${status} ${text('code')}${detail}: ${text('message')}`,
    {
      status,
      ...(text('detail') === '' ? {} : { detail: text('detail') })
    }
  )
}

/**
 * GETs (or POSTs `body` as JSON to, or sends `method` to) `path` of the daemon API; the JSON
 * answer or a one-line error.
 */
export async function apiRequest(
  endpoint: DaemonEndpoint,
  path: string,
  body?: unknown,
  method?: string
): Promise<unknown> {
  let res: Response
  try {
    res = await fetch(`${endpoint.base}${path}`, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      ...(body !== undefined
        ? {
            body: JSON.stringify(body),
            headers: daemonHeaders(endpoint, { 'content-type': 'application/json' })
          }
        : { headers: daemonHeaders(endpoint) })
    })
  } catch (err) {
    throw unreachableError(endpoint.base, err)
  }
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = text
  }
  if (!res.ok) throw apiError(res.status, json)
  return json
}

/**
 * The shape of a read-only command that asks the running daemon one thing (`status`, `peers`):
 * `--help`, `[--data-dir DIR | --api URL] [--json]`, one GET of `path`, then either the JSON
 * as received or `render`'s lines. Expected errors print one line (exit 1 or 2).
 */
export async function daemonQueryCommand<T>(
  argv: readonly string[],
  io: CommandIo,
  command: { name: string; usage: string; path: string; render: (view: T, base: string) => string[] }
): Promise<number> {
  try {
    if (argv.includes('--help')) {
      io.stdout.write(command.usage)
      return EXIT.ok
    }
    const args = parseArgs(argv, { ...DAEMON_FLAGS, json: 'boolean' }, { min: 0, max: 0 })
    const endpoint = await daemonEndpoint(args, io)
    const view = (await apiRequest(endpoint, command.path)) as T
    const lines = args.flags['json'] === true ? [JSON.stringify(view)] : command.render(view, endpoint.base)
    io.stdout.write(`${lines.join('\n')}\n`)
    return EXIT.ok
  } catch (err) {
    return reportError(err, command.name, io)
  }
}
