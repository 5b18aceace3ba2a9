import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The compiled CLI entry point (this file runs from dist/test/daemon/). */
export const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url))

/** A daemon subprocess with what it printed on start. */
export interface DaemonProcess {
  readonly child: ChildProcess
  readonly peerId: string
  readonly listen: string[]
  readonly api: string
  /** Everything printed on stdout so far. */
  stdout(): string
  /** Everything printed on stderr (the log) so far. */
  stderr(): string
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>
}

/**
 * Starts `bitwrk-node start --data-dir DIR --api-port 0 …extra` and waits (deadline
 * `timeoutMs`) for its `ready` line; kills it and throws on timeout or early exit.
 */
export function startDaemonProcess(
  dataDir: string,
  extra: string[] = [],
  timeoutMs = 20_000
): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [CLI, 'start', '--data-dir', dataDir, '--api-port', '0', ...extra], {
    env: { PATH: process.env['PATH'] ?? '', HOME: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  let err = ''
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'))
  )
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`daemon not ready in ${timeoutMs} ms: ${out} ${err}`))
    }, timeoutMs)
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString()
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`daemon exited early (${code}): ${err}`))
    })
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (!/^ready$/m.test(out)) return
      clearTimeout(timer)
      const field = (name: string): string[] =>
        [...out.matchAll(new RegExp(`^${name}: (.+)$`, 'gm'))].map((m) => m[1] as string)
      resolve({
        child,
        peerId: field('peer id')[0] ?? '',
        listen: field('listen'),
        api: field('api')[0] ?? '',
        stdout: () => out,
        stderr: () => err,
        exited
      })
    })
  })
}

/** Sends SIGTERM and waits up to `timeoutMs` for the exit code; SIGKILLs and throws after. */
export async function stopDaemonProcess(d: DaemonProcess, timeoutMs = 10_000): Promise<number | string> {
  if (d.child.exitCode !== null) return d.child.exitCode
  d.child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      d.child.kill('SIGKILL')
      reject(new Error(`daemon did not exit within ${timeoutMs} ms of SIGTERM`))
    }, timeoutMs)
  })
  try {
    return await Promise.race([d.exited, deadline])
  } finally {
    clearTimeout(timer)
  }
}
