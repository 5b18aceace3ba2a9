/**
 * Child processes of the testnet: node daemons (`bitwrk-node start`) and exec workers
 * (`bitwrk-node worker`). Every process the testnet starts is tracked by PID here, and only
 * those are signalled on teardown.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { createWriteStream, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The glibc malloc settings bin/bitwrk-node.js gives the daemon when run as a command (its
 * second line), each unless the environment sets it: the spawned daemons run as users' do.
 */
export const DAEMON_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: process.env['MALLOC_ARENA_MAX'] ?? '2',
  MALLOC_TRIM_THRESHOLD_: process.env['MALLOC_TRIM_THRESHOLD_'] ?? '131072'
}

/**
 * The command users run, the package's bin (this file runs from dist/scripts/testnet/): the
 * bundle `npm run build` makes, or dist/cli/main.js after a `tsc` alone (bin/bitwrk-node.js).
 */
export const CLI = fileURLToPath(new URL('../../../bin/bitwrk-node.js', import.meta.url))

/** The compiled demo worker program. */
export const DEMO_WORKER = fileURLToPath(new URL('../../node/demo/worker-cli.js', import.meta.url))

/**
 * How a child is started: `child_process.spawn` by default; the emulated internet's
 * `Internet.spawn` bound to a namespace runs it there (`ip netns exec`, same pid).
 */
export type Launch = (cmd: string, args: string[], opts: SpawnOptions) => ChildProcess

/** A running daemon as its start lines describe it. */
export interface NodeProc {
  readonly name: string
  readonly child: ChildProcess
  readonly dataDir: string
  readonly peerId: string
  readonly listen: string[]
  readonly api: string
}

/**
 * How long a start may take: it fails once nothing happened for `stallMs` (no output, no CPU
 * used), and in any case after `totalMs`. On a loaded machine a start is slow but never idle,
 * so a stall deadline tells a hung child from a busy one where one fixed deadline cannot.
 */
export interface ProgressDeadline {
  readonly stallMs: number
  readonly totalMs: number
}

/** How often {@link watchProgress} samples the child's CPU time and checks its deadlines. */
const PROGRESS_CHECK_MS = 500

/**
 * The CPU time (user + system, clock ticks) of `pid` from /proc/<pid>/stat, or undefined where
 * there is no /proc (not Linux) or the process is gone.
 */
export function cpuTicks(pid: number): number | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // fields after "(comm) ": state is field 3, utime 14 and stime 15 (proc(5))
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const utime = Number(rest[11])
  const stime = Number(rest[12])
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined
}

/**
 * Watches `child` against `deadline`: progress is output (the caller reports it with
 * `progressed()`) or CPU time used since the last check. Calls `fail` once, with the reason,
 * when a deadline passes; `stop()` ends the watch.
 */
export function watchProgress(
  child: ChildProcess,
  deadline: ProgressDeadline,
  fail: (why: string) => void
): { progressed(): void; stop(): void } {
  const started = Date.now()
  let last = started
  let ticks = child.pid === undefined ? undefined : cpuTicks(child.pid)
  const timer = setInterval(() => {
    const now = Date.now()
    const t = child.pid === undefined ? undefined : cpuTicks(child.pid)
    if (t !== undefined && t !== ticks) last = now
    ticks = t
    if (now - started > deadline.totalMs) {
      clearInterval(timer)
      fail(`not done in ${deadline.totalMs} ms`)
    } else if (now - last > deadline.stallMs) {
      clearInterval(timer)
      fail(`no progress (output or CPU) for ${deadline.stallMs} ms`)
    }
  }, PROGRESS_CHECK_MS)
  return {
    progressed: () => {
      last = Date.now()
    },
    stop: () => clearInterval(timer)
  }
}

/** Every child started, for teardown. */
export class ProcessGroup {
  private readonly children: { name: string; child: ChildProcess }[] = []

  /** Tracks a child started elsewhere (e.g. an API forwarder), so that teardown stops it. */
  track(name: string, child: ChildProcess): void {
    this.children.push({ name, child })
  }

  /**
   * Spawns `node [...nodeFlags] CLI ...args`, tracked; stderr is kept (last 4 KiB) for error
   * reports. `nodeFlags` are Node's own (e.g. `--cpu-prof`, which NODE_OPTIONS may not carry);
   * `launch` starts it elsewhere (in a network namespace).
   */
  spawn(
    name: string,
    args: string[],
    env: Record<string, string> = {},
    nodeFlags: string[] = [],
    launch: Launch = spawn
  ): ChildProcess {
    const child = launch(process.execPath, [...nodeFlags, CLI, ...args], {
      env: {
        ...process.env,
        LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn',
        ...DAEMON_MALLOC_ENV,
        ...env
      },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    this.children.push({ name, child })
    // TESTNET_LOG_DIR=DIR keeps each process's whole stderr (its log) in DIR/<name>.log
    const logDir = process.env['TESTNET_LOG_DIR']
    if (logDir !== undefined && logDir !== '')
      child.stderr?.pipe(createWriteStream(join(logDir, `${name}.log`)))
    return child
  }

  /**
   * Starts a daemon and waits for its `ready` line while it makes progress: the wait fails
   * when the child has neither printed anything nor used CPU for `deadline.stallMs`, or in
   * any case after `deadline.totalMs` (see {@link ProgressDeadline}); a number is one fixed
   * deadline, ms. `nodeFlags` go to Node itself (e.g. `--cpu-prof`); `launch` starts it
   * elsewhere (see {@link Launch}).
   */
  startNode(
    name: string,
    dataDir: string,
    extra: string[],
    deadline: ProgressDeadline | number,
    nodeFlags: string[] = [],
    launch: Launch = spawn
  ): Promise<NodeProc> {
    const bounds = typeof deadline === 'number' ? { stallMs: deadline, totalMs: deadline } : deadline
    const child = this.spawn(
      name,
      ['start', '--data-dir', dataDir, '--api-port', '0', ...extra],
      { HOME: dataDir },
      nodeFlags,
      launch
    )
    let out = ''
    let err = ''
    return new Promise((resolve, reject) => {
      const watch = watchProgress(child, bounds, (why) =>
        reject(new Error(`${name} not ready: ${why}: ${err.slice(-500)}`))
      )
      child.stderr?.on('data', (d: Buffer) => {
        err = (err + d.toString()).slice(-4096)
        watch.progressed()
      })
      child.once('exit', (code) => {
        watch.stop()
        reject(new Error(`${name} exited (${code}) before ready: ${err.slice(-500)}`))
      })
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString()
        watch.progressed()
        if (!/^ready$/m.test(out)) return
        watch.stop()
        const field = (k: string): string[] =>
          [...out.matchAll(new RegExp(`^${k}: (.+)$`, 'gm'))].map((m) => m[1] as string)
        resolve({
          name,
          child,
          dataDir,
          peerId: field('peer id')[0] ?? '',
          listen: field('listen'),
          api: field('api')[0] ?? ''
        })
      })
    })
  }

  /**
   * Starts an exec worker of `article` against the node API `api` (where `launch` starts it);
   * `args` are its flags after `--article` (default: the demo worker as `--exec`).
   */
  startWorker(
    name: string,
    api: string,
    article: string,
    launch: Launch = spawn,
    args: readonly string[] = ['--exec', `"${process.execPath}" "${DEMO_WORKER}"`]
  ): ChildProcess {
    return this.spawn(
      name,
      ['worker', '--article', article, ...args, '--api', api, '--id', name],
      {},
      [],
      launch
    )
  }

  /**
   * Stops every child still running: SIGTERM to workers first, then nodes; waits up to
   * `timeoutMs`, then SIGKILLs what is left. Returns the number that had to be killed.
   */
  async stopAll(timeoutMs: number): Promise<number> {
    const alive = this.children.filter((c) => c.child.exitCode === null && c.child.signalCode === null)
    const wait = (c: ChildProcess): Promise<void> =>
      c.exitCode !== null || c.signalCode !== null
        ? Promise.resolve()
        : new Promise((r) => c.once('exit', () => r()))
    const workers = alive.filter((c) => c.name.startsWith('worker'))
    const nodes = alive.filter((c) => !c.name.startsWith('worker'))
    let killed = 0
    for (const group of [workers, nodes]) {
      for (const c of group) c.child.kill('SIGTERM')
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        Promise.all(group.map((c) => wait(c.child))),
        new Promise<void>((r) => {
          timer = setTimeout(r, timeoutMs)
        })
      ])
      clearTimeout(timer)
      for (const c of group)
        if (c.child.exitCode === null && c.child.signalCode === null) {
          c.child.kill('SIGKILL')
          killed++
        }
    }
    return killed
  }
}
