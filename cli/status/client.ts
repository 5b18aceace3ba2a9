import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { DAEMON_FILE_NAME, type DaemonInfo } from '../../node/daemon/index.js'
import { BitwrkError } from '../../protocol/errors.js'
import { parseArgs, stringFlag } from '../args.js'
import { resolveDataDir } from '../data-dir.js'
import { type CommandIo, EXIT, reportError } from '../io.js'

/** Codes of the daemon client (`CLI_DAEMON_*`). */
export const DaemonClientCode = {
  /** No daemon runs on the data directory (no status file, or its process is gone). */
  NOT_RUNNING: 'CLI_DAEMON_NOT_RUNNING',
  /** The API did not answer in time or refused the connection. */
  UNREACHABLE: 'CLI_DAEMON_UNREACHABLE',
  /** The API answered with an error body `{code, message}`. */
  API_ERROR: 'CLI_DAEMON_API_ERROR'
} as const

/** Deadline of one API request from the CLI. */
const REQUEST_TIMEOUT_MS = 10_000

/**
 * The local HTTP API of the running daemon from the status file of the data directory (checking
 * the pid lives); `flag` (`--api URL`) overrides it.
 */
export async function daemonApiUrl(dataDir: string, flag: string | undefined): Promise<string> {
  if (flag !== undefined) return flag.replace(/\/+$/, '')
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
  return info.apiUrl
}

/**
 * GETs (or POSTs `body` as JSON to, or sends `method` to) `path` of the daemon API; the JSON
 * answer or a one-line error.
 */
export async function apiRequest(
  base: string,
  path: string,
  body?: unknown,
  method?: string
): Promise<unknown> {
  let res: Response
  try {
    res = await fetch(`${base}${path}`, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      ...(body !== undefined
        ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
        : {})
    })
  } catch (err) {
    throw new BitwrkError(DaemonClientCode.UNREACHABLE, `daemon API at ${base} unreachable`, {
      cause: String(err)
    })
  }
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = text
  }
  if (!res.ok) {
    const e = (typeof json === 'object' && json !== null ? json : {}) as { code?: unknown; message?: unknown }
    throw new BitwrkError(
      DaemonClientCode.API_ERROR,
      `${res.status} ${typeof e.code === 'string' ? e.code : ''}: ${typeof e.message === 'string' ? e.message : ''}`,
      { status: res.status }
    )
  }
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
    const args = parseArgs(argv, { 'data-dir': 'string', api: 'string', json: 'boolean' }, { min: 0, max: 0 })
    const base = await daemonApiUrl(resolveDataDir(stringFlag(args, 'data-dir'), io), stringFlag(args, 'api'))
    const view = (await apiRequest(base, command.path)) as T
    const lines = args.flags['json'] === true ? [JSON.stringify(view)] : command.render(view, base)
    io.stdout.write(`${lines.join('\n')}\n`)
    return EXIT.ok
  } catch (err) {
    return reportError(err, command.name, io)
  }
}
