/**
 * Child processes of the testnet: node daemons (`bitwrk-node start`) and exec workers
 * (`bitwrk-node worker`). Every process the testnet starts is tracked by PID here, and only
 * those are signalled on teardown.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The compiled CLI (this file runs from dist/scripts/testnet/). */
export const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url))

/** The compiled demo worker program. */
export const DEMO_WORKER = fileURLToPath(new URL('../../node/demo/worker-cli.js', import.meta.url))

/** A running daemon as its start lines describe it. */
export interface NodeProc {
  readonly name: string
  readonly child: ChildProcess
  readonly dataDir: string
  readonly peerId: string
  readonly listen: string[]
  readonly api: string
}

/** Every child started, for teardown. */
export class ProcessGroup {
  private readonly children: { name: string; child: ChildProcess }[] = []

  /** Spawns `node CLI ...args`, tracked; stderr is kept (last 4 KiB) for error reports. */
  spawn(name: string, args: string[], env: Record<string, string> = {}): ChildProcess {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    this.children.push({ name, child })
    return child
  }

  /** Starts a daemon and waits (deadline) for its `ready` line. */
  startNode(name: string, dataDir: string, extra: string[], timeoutMs: number): Promise<NodeProc> {
    const child = this.spawn(name, ['start', '--data-dir', dataDir, '--api-port', '0', ...extra], {
      HOME: dataDir
    })
    let out = ''
    let err = ''
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name} not ready in ${timeoutMs} ms: ${err.slice(-500)}`)),
        timeoutMs
      )
      child.stderr?.on('data', (d: Buffer) => {
        err = (err + d.toString()).slice(-4096)
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`${name} exited (${code}) before ready: ${err.slice(-500)}`))
      })
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString()
        if (!/^ready$/m.test(out)) return
        clearTimeout(timer)
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

  /** Starts an exec worker of `article` against the node API `api`. */
  startWorker(name: string, api: string, article: string): ChildProcess {
    return this.spawn(name, [
      'worker',
      '--article',
      article,
      '--exec',
      `"${process.execPath}" "${DEMO_WORKER}"`,
      '--api',
      api,
      '--id',
      name
    ])
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
