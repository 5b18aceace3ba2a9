/**
 * Runs the system commands the emulated internet is built with (`ip`, `nft`), each under a
 * deadline, and says in one line why the mode cannot run here (not root, no `ip`, no `nft`).
 */
import { execFile, execFileSync } from 'node:child_process'

/** Deadline of one `ip`/`nft` command, ms: each takes a few ms; a hung one is a bug, not load. */
export const COMMAND_MS = 10_000

/** The output of a finished command. */
export interface CommandResult {
  readonly stdout: string
  readonly stderr: string
}

/** Runs `cmd args…` (optionally feeding `input` on stdin); rejects with the command and its stderr. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number; signal?: AbortSignal } = {}
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      {
        timeout: opts.timeoutMs ?? COMMAND_MS,
        encoding: 'utf8',
        ...(opts.signal !== undefined ? { signal: opts.signal } : {})
      },
      (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`))
        else resolve({ stdout, stderr })
      }
    )
    if (opts.input !== undefined) child.stdin?.end(opts.input)
  })
}

/** Like {@link run} but synchronous and never throwing: for exit handlers, where nothing async runs. */
export function runSync(cmd: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      timeout: COMMAND_MS,
      stdio: ['ignore', 'pipe', 'ignore']
    })
  } catch {
    return undefined
  }
}

function hasCommand(cmd: string, probe: string[]): boolean {
  try {
    execFileSync(cmd, probe, { stdio: 'ignore', timeout: COMMAND_MS })
    return true
  } catch {
    return false
  }
}

/**
 * Why the emulated internet cannot be built on this machine, in one line, or undefined when it
 * can: it needs root (network namespaces), `ip` (Debian's iproute2) and `nft` (nftables).
 */
export function internetUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the emulated internet needs Linux network namespaces'
  if (process.getuid?.() !== 0) return 'the emulated internet needs root (network namespaces and nftables)'
  if (!hasCommand('ip', ['-V'])) return "the emulated internet needs 'ip' (apt-get install iproute2)"
  if (!hasCommand('nft', ['--version'])) return "the emulated internet needs 'nft' (apt-get install nftables)"
  return undefined
}
