import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The compiled CLI entry point (this file runs from dist/test/daemon/). */
export const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url))

/** A long-running CLI subprocess (a daemon, a worker) once it printed its ready line. */
export interface CliProcess {
  readonly child: ChildProcess
  /** Everything printed on stdout so far. */
  stdout(): string
  /** Everything printed on stderr (the log) so far. */
  stderr(): string
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>
}

/** A daemon subprocess with what it printed on start. */
export interface DaemonProcess extends CliProcess {
  readonly peerId: string
  /** The node's participant address (its `address:` line). */
  readonly address: string
  readonly listen: string[]
  readonly api: string
}

/**
 * Starts `bitwrk-node ...args` (HOME `home`, working directory `cwd`) and waits (deadline
 * `timeoutMs`) for a stdout line matching `ready`; kills it and throws on timeout or early exit.
 */
export function startCliProcess(
  args: readonly string[],
  opts: { home: string; cwd?: string; ready: RegExp; timeoutMs?: number }
): Promise<CliProcess> {
  const timeoutMs = opts.timeoutMs ?? 20_000
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '', HOME: opts.home, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {})
  })
  let out = ''
  let err = ''
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  )
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${args[0]} not ready in ${timeoutMs} ms: ${out} ${err}`))
    }, timeoutMs)
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString()
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`${args[0]} exited early (${code}): ${out} ${err}`))
    })
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (!opts.ready.test(out)) return
      clearTimeout(timer)
      resolve({ child, stdout: () => out, stderr: () => err, exited })
    })
  })
}

/** The `name: value` lines of a daemon's start output. */
export function daemonFields(p: CliProcess): DaemonProcess {
  const field = (name: string): string[] =>
    [...p.stdout().matchAll(new RegExp(`^${name}: (.+)$`, 'gm'))].map((m) => m[1] as string)
  return {
    ...p,
    peerId: field('peer id')[0] ?? '',
    address: field('address')[0] ?? '',
    listen: field('listen'),
    api: field('api')[0] ?? ''
  }
}

/**
 * Starts `bitwrk-node start --data-dir DIR --api-port 0 …extra` and waits (deadline
 * `timeoutMs`) for its `ready` line; kills it and throws on timeout or early exit.
 */
export async function startDaemonProcess(
  dataDir: string,
  extra: string[] = [],
  timeoutMs = 20_000
): Promise<DaemonProcess> {
  const p = await startCliProcess(['start', '--data-dir', dataDir, '--api-port', '0', ...extra], {
    home: dataDir,
    ready: /^ready$/m,
    timeoutMs
  })
  return daemonFields(p)
}

/** Sends SIGTERM and waits up to `timeoutMs` for the exit code; SIGKILLs and throws after. */
export async function stopDaemonProcess(d: CliProcess, timeoutMs = 10_000): Promise<number | string> {
  if (d.child.exitCode !== null) return d.child.exitCode
  d.child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      d.child.kill('SIGKILL')
      reject(new Error(`process did not exit within ${timeoutMs} ms of SIGTERM`))
    }, timeoutMs)
  })
  try {
    return await Promise.race([d.exited, deadline])
  } finally {
    clearTimeout(timer)
  }
}
