import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The compiled CLI entry point (this file runs from dist/test/cli/). */
export const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url))

/** Deadline for one CLI run; a run normally takes well under a second. */
const RUN_TIMEOUT_MS = 20_000

/** Outcome of one CLI run. */
export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs `node dist/cli/main.js ...args` as a real subprocess with exactly `env` (plus PATH), so
 * the user's real home and data directory are never touched; in `cwd` when given.
 */
export function runCli(
  args: readonly string[],
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {}
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        env: { PATH: process.env['PATH'] ?? '', ...env },
        timeout: options.timeoutMs ?? RUN_TIMEOUT_MS,
        encoding: 'utf8',
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {})
      },
      (err, stdout, stderr) => {
        if (err !== null && typeof err.code !== 'number') {
          reject(new Error(`CLI run failed (${String(err.code ?? err.signal)}): ${stderr}`))
          return
        }
        resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr })
      }
    )
  })
}

/** Runs `tasks` with at most `limit` in flight (the CI machine has 2 cores). */
export async function pool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length)
  let next = 0
  async function worker(): Promise<void> {
    while (next < tasks.length) {
      const i = next++
      out[i] = await (tasks[i] as () => Promise<T>)()
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker))
  return out
}
