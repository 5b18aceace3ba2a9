import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Bench } from '../bench.js'
import { cpuTicks, type NodeProc, ProcessGroup } from '../testnet/processes.js'

/** Daemons of the network (issue 14.3: a small network, like the default testnet's five). */
const NODES = 5
/** Deadline of each daemon's start and of the network forming. */
const READY_MS = 60_000
/** How long the network runs before the window opens: start-up work (DHT self-query, first heartbeats) is done. */
const SETTLE_MS = 10_000
/** The measuring window (issue 14.3: at least 20 s); `--quick` shortens both. */
const WINDOW_MS = 20_000
const QUICK_SETTLE_MS = 3000
const QUICK_WINDOW_MS = 5000
/** The measured daemon: a joiner (node0 is the bootstrap, the others are alike). */
const MEASURED = 'node1'

/** Clock ticks per second of /proc/<pid>/stat (`getconf CLK_TCK`; 100 on every usual Linux). */
function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
    return Number.isInteger(n) && n > 0 ? n : 100
  } catch {
    return 100
  }
}

/**
 * A field of /proc/<pid>/status in MiB: `VmRSS` (resident memory) or `RssAnon` (its anonymous
 * part: VmRSS also counts the pages of the node binary every Node process shares, ~44 MiB).
 */
function statusMib(pid: number, field: 'VmRSS' | 'RssAnon'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (m === null) throw new Error(`no ${field} for ${pid}`)
  return Number(m[1]) / 1024
}

/**
 * The process's proportional set size in MiB (`Pss` of /proc/<pid>/smaps_rollup: each shared
 * page counted as a share among the processes mapping it), or undefined without smaps_rollup.
 */
function pssMib(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))
    return m === null ? undefined : Number(m[1]) / 1024
  } catch {
    return undefined
  }
}

/** Waits (polling every 200 ms, deadline `ms`) until every node has `min` peers. */
async function untilPeers(nodes: readonly NodeProc[], min: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    const peers = await Promise.all(
      nodes.map(async (n) => {
        const r = await fetch(`${n.api}/api/v1/status`, { signal: AbortSignal.timeout(5000) }).catch(
          () => undefined
        )
        return r?.ok === true ? ((await r.json()) as { peers: number }).peers : 0
      })
    )
    if (peers.every((p) => p >= min)) return
    if (Date.now() > deadline) throw new Error(`peers after ${ms} ms: ${peers.join(',')}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits

/**
 * Idle node (issue 14.3): `NODES` real daemon processes on 127.0.0.1 (node0 the bootstrap, the
 * others joining through it, like the testnet) run with nothing to do; after `SETTLE_MS`, one
 * joiner's CPU time (utime + stime of /proc/<pid>/stat) and resident memory (VmRSS) are taken
 * over `WINDOW_MS`. Reported: `cpu_share` (CPU seconds per second: a fraction of one core;
 * target ≤ 0.01), `rss_mib` (VmRSS at the end; target ≤ 80), `rss_anon_mib` (its part not
 * shared with other Node processes), `pss_mib` (shared pages counted as a share), and the
 * highest CPU share and RSS of every node.
 * `IDLE_CPU_PROF=DIR` runs the measured daemon under `node --cpu-prof` (its profile lands in
 * DIR when the bench stops it).
 *
 * Where an idle daemon's RSS goes (issue 14, Node 20.20 on x64 Linux, /proc/<pid>/smaps,
 * `v8.getHeapSpaceStatistics()`; medians of 3 runs, MiB):
 * - 88 before the daemon ran as one bundle (scripts/bundle.ts, which bin/bitwrk-node.js runs and
 *   so this bench's daemons): 79.5 to 81.0 from the bundle (78.4 and 79.6 without `keepNames`)
 *   against 88.4 to 89.2 from dist/cli/main.js (PSS 36.9 to 41.3 against 48.7 to 49.5, CPU
 *   share the same, 0.4 to 0.5 %). The ~870 modules' sources are one minified file of 1.7 MB.
 * - 115.7 before issue 14's V8 settings, of which 32 were V8's new space grown to 2 × 16 MiB and
 *   kept (V8 shrinks it at a collection while little is allocated, but an idle daemon collects
 *   seldom: minutes later it was down to 89), and ~7 start-up slack in the old space. The
 *   `--max-semi-space-size` the daemon set at run time did nothing (V8 reads it only when the
 *   heap is made). Now the memory watch runs a young-generation collection every 10 s
 *   (node/host/memory-watch.ts, `youngCollectMs`: new space 1 MiB), and start-up runs under
 *   `--optimize-for-size` (cli/start/heap.ts: less old-space slack, and the new space grows
 *   to 8 MiB at start-up instead of 32; alone ~94). Both: 87.5 to 88.4 (PSS ~42).
 * - 47.7 file-backed, shared with every Node process: the `node` binary 44 (text 22.8,
 *   rodata 13.7 — e.g. ICU data: the peer store's `localeCompare` alone touches 2.3), libc,
 *   libstdc++ and friends 3.5. A bare `node -e 'setTimeout(()=>{},1e6)'` has 34 of them; the
 *   rest is code the daemon runs (V8's compilers, crypto, the built-ins prom-client and pino
 *   load: http, https/tls, zlib, cluster, worker_threads, child_process).
 * - ~26 V8 heap (unbundled): old space 20.7 with ~19.5 live (strings 7, of which ~5 are the
 *   sources of the ~700 ES modules and ~170 CommonJS modules loaded, which V8 keeps for lazy
 *   compilation; maps 1.6, bytecode and metadata ~3.5; kad-dht's generated prefix list alone
 *   ~1.7), code space 1.7, large objects 1.6, new space 1.
 * - ~12 malloc: the main heap 6.8 and ~5.5 in the arenas of Node's threads (V8's platform
 *   workers, libuv's pool, LevelDB's compaction thread). The command sets glibc's
 *   `MALLOC_ARENA_MAX=2` and a fixed `MALLOC_TRIM_THRESHOLD_` of 128 KiB before Node starts
 *   (bin/bitwrk-node.js's second line; the bench's daemons get them from
 *   scripts/testnet/processes.ts). Three runs each, measured node / highest node: glibc's
 *   defaults 82.0/82.0, 80.8/80.8, 80.9/82.7; 2 arenas 75.9/78.8, 80.3/80.3, 76.8/79.4; both
 *   74.1/78.4, 76.8/78.0, 78.2/78.2.
 * - ~5 other: JIT code pages, thread stacks, V8's read-only and pooled pages.
 * Tried: `--semi-space-growth-factor=1` for good (new space capped at 1 MiB) gives the same idle
 * RSS but 14 times as many scavenges at work, 2 to 3 times their time (gossip and trade benches).
 * Without effect on the idle RSS: LevelDB cacheSize / writeBufferSize of 1 MiB (an idle
 * node's data is small; 86.9 and 86.7), `UV_THREADPOOL_SIZE=1` (86.4), `node --single-threaded`
 * (85.0); `--single-threaded-gc` set at run time crashes V8; a forced full collection at idle
 * frees < 2 MiB (the heap is live). `--optimize-for-size` left on for good costs 5 to 20 % more
 * CPU at work (gossip and trade benches), so it is on for start-up only. 80 MiB of VmRSS was out
 * of reach from inside the process (47.7 are the binary's pages and ~26 the modules' heap); the
 * bundle reaches it from outside, with the modules' sources.
 */
export const bench: Bench = {
  name: 'idle',
  async run({ quick }) {
    if (cpuTicks(process.pid) === undefined) return { nodes: NODES, skipped: 'no /proc (Linux only)' }
    const settleMs = quick ? QUICK_SETTLE_MS : SETTLE_MS
    const windowMs = quick ? QUICK_WINDOW_MS : WINDOW_MS
    const prof = process.env['IDLE_CPU_PROF']
    const base = await mkdtemp(join(tmpdir(), 'bitwrk-bench-idle-'))
    const procs = new ProcessGroup()
    try {
      const flags = (name: string): string[] =>
        prof !== undefined && name === MEASURED ? ['--cpu-prof', `--cpu-prof-dir=${resolve(prof)}`] : []
      const boot = await procs.startNode('node0', join(base, 'node0'), [], READY_MS)
      const bootAddr = boot.listen[0]
      if (bootAddr === undefined) throw new Error('bootstrap node has no listen address')
      const nodes = [boot]
      for (let i = 1; i < NODES; i++)
        nodes.push(
          await procs.startNode(
            `node${i}`,
            join(base, `node${i}`),
            ['--bootstrap', bootAddr],
            READY_MS,
            flags(`node${i}`)
          )
        )
      await untilPeers(nodes, 1, READY_MS)
      await new Promise((r) => setTimeout(r, settleMs))
      const pids = nodes.map((n) => n.child.pid as number)
      const before = pids.map((p) => cpuTicks(p) ?? 0)
      const t0 = performance.now()
      await new Promise((r) => setTimeout(r, windowMs))
      const seconds = (performance.now() - t0) / 1000
      const after = pids.map((p) => cpuTicks(p) ?? 0)
      const hz = clockTicks()
      const shares = pids.map((_, i) => ((after[i] as number) - (before[i] as number)) / hz / seconds)
      const rss = pids.map((p) => statusMib(p, 'VmRSS'))
      const anon = pids.map((p) => statusMib(p, 'RssAnon'))
      const measured = nodes.findIndex((n) => n.name === MEASURED)
      const pss = pssMib(pids[measured] as number)
      const status = (await (
        await fetch(`${nodes[measured]?.api}/api/v1/status`, { signal: AbortSignal.timeout(5000) })
      ).json()) as { peers: number }
      return {
        nodes: NODES,
        cpu_share: round(shares[measured] as number, 4),
        rss_mib: round(rss[measured] as number, 1),
        rss_anon_mib: round(anon[measured] as number, 1),
        ...(pss !== undefined ? { pss_mib: round(pss, 1) } : {}),
        cpu_share_max: round(Math.max(...shares), 4),
        rss_mib_max: round(Math.max(...rss), 1),
        peers: status.peers,
        window_s: round(seconds, 1)
      }
    } finally {
      await procs.stopAll(10_000)
      await rm(base, { recursive: true, force: true })
    }
  }
}
