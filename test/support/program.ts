import { spawn } from 'node:child_process'

/** Outcome of one run of a program that reads stdin and writes stdout. */
export interface ProgramRun {
  code: number | null
  stdout: Buffer
  stderr: string
}

/**
 * Runs `node ...argv` with `input` on stdin and collects its output; killed after `timeoutMs`.
 * The child may exit before reading everything (oversized input): EPIPE is ignored. `pid()`
 * names the child while it runs.
 */
export function runProgram(
  argv: readonly string[],
  input: Uint8Array,
  o: { timeoutMs: number; env?: NodeJS.ProcessEnv }
): Promise<ProgramRun> & { pid: () => number | undefined } {
  let pid: number | undefined
  const p = new Promise<ProgramRun>((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: o.timeoutMs,
      ...(o.env !== undefined ? { env: o.env } : {})
    })
    pid = child.pid
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() })
    )
    child.stdin.on('error', () => {})
    child.stdin.end(input)
  })
  return Object.assign(p, { pid: () => pid })
}
