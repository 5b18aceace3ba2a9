/**
 * The agreement harness (issue 14): a network of real nodes, one process each
 * (scripts/agreement/child.ts), under a scenario of emulated latency, clock offsets, an
 * overloaded node or a partition, with crossing bids from every node; it reports how many of the
 * matches both parties saw became established transactions, how many epochs every node agreed
 * on, and how long a node that left the network's digest chain took to come back. Used by the
 * `agreement` bench and by `test/scripts/agreement.test.ts` (small size).
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { LinkDelay } from '../../node/host/link-emulation.js'
import { GENESIS_DIGEST } from '../../protocol/matching/index.js'
import type { ChildCommand, ChildConfig, ChildReply } from './child.js'

/** The compiled child (this file runs from dist/scripts/agreement/). */
const CHILD = fileURLToPath(new URL('./child.js', import.meta.url))

/** One scenario. */
export interface Scenario {
  /** Printed as `"scenario"`. */
  readonly name: string
  /** Nodes (one process each). */
  readonly nodes: number
  /** Bids per second over all nodes. */
  readonly bidsPerSec: number
  /** How long bids are placed, ms. */
  readonly loadMs: number
  /** Epoch parameters of the network. */
  readonly epochParams: { readonly epochMs: number; readonly settleMs: number }
  /** Emulated one-way delay of every link. */
  readonly delay?: LinkDelay
  /** Clock offset of node `i`, ms (default 0). */
  readonly clockOffsetMs?: (i: number, nodes: number) => number
  /** Node whose event loop is blocked `blockMs` every `everyMs`. */
  readonly overload?: { readonly node: number; readonly blockMs: number; readonly everyMs: number }
  /** A share of the nodes cut off from the rest `atMs` after the load began, for `forMs`. */
  readonly partition?: { readonly share: number; readonly atMs: number; readonly forMs: number }
}

/** The bench line of a scenario (issue 14 §1). */
export interface AgreementLine {
  readonly scenario: string
  readonly nodes: number
  readonly latency_ms: number
  readonly jitter_ms: number
  readonly skew_ms: number
  readonly bids: number
  readonly bids_per_s: number
  readonly matches: number
  readonly established: number
  readonly agreement_share: number
  readonly epochs: number
  readonly epochs_all_agree_share: number
  readonly own_bids_late: number
  readonly buys_failed: number
  readonly late_receptions: number
  readonly rejoins: number
  readonly time_to_establish_p50_ms: number
  readonly time_to_establish_p95_ms: number
  /** Longest time a node was off the network's digest chain before it came back; null: one never did. */
  readonly reconverge_ms: number | null
  readonly nodes_off_chain: number
  /** The network clock's correction on each node at the end, ms (MARKET-18). */
  readonly clock_corrections_ms: number[]
}

type Report = Extract<ChildReply, { type: 'report' }>

/** A child process with a request/answer helper over IPC. */
class Child {
  readonly proc: ChildProcess
  private readonly waiting: { type: string; resolve: (r: ChildReply) => void; reject: (e: Error) => void }[] =
    []
  private stderr = ''

  constructor(readonly index: number) {
    this.proc = fork(CHILD, [], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'error' }
    })
    this.proc.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-2000)
    })
    this.proc.on('message', (m: ChildReply) => {
      if (m.type === 'error') {
        for (const w of this.waiting.splice(0)) w.reject(new Error(`node ${index}: ${m.message}`))
        return
      }
      const key = m.type === 'done' ? `done:${m.command}` : m.type
      const i = this.waiting.findIndex((w) => w.type === key)
      if (i >= 0) this.waiting.splice(i, 1)[0]?.resolve(m)
    })
    this.proc.on('exit', (code) => {
      for (const w of this.waiting.splice(0))
        w.reject(new Error(`node ${index} exited (${code}): ${this.stderr.slice(-500)}`))
    })
  }

  /** Sends `cmd` and waits (deadline `timeoutMs`) for its answer. */
  ask(cmd: ChildCommand, timeoutMs: number): Promise<ChildReply> {
    const type = cmd.type === 'start' ? 'started' : cmd.type === 'report' ? 'report' : `done:${cmd.type}`
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(entry)
        if (i >= 0) this.waiting.splice(i, 1)
        reject(new Error(`node ${this.index}: no answer to ${cmd.type} in ${timeoutMs} ms`))
      }, timeoutMs)
      const entry = {
        type,
        resolve: (r: ChildReply) => {
          clearTimeout(timer)
          resolve(r)
        },
        reject: (e: Error) => {
          clearTimeout(timer)
          reject(e)
        }
      }
      this.waiting.push(entry)
      this.proc.send(cmd)
    })
  }

  /** Asks the child to stop, then kills it (by its own PID) if it does not exit in time. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()))
    try {
      await this.ask({ type: 'stop' }, 20_000)
    } catch {
      // no answer: killed below
    }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(timer)
  }
}

/** Deterministic shuffled edges: each node dials up to 3 earlier nodes. */
function edges(n: number): [number, number][] {
  const out: [number, number][] = []
  for (let i = 1; i < n; i++) {
    const targets = new Set<number>([i - 1, Math.floor(i / 2), (i * 7) % i])
    for (const t of targets) if (t !== i) out.push([i, t])
  }
  return out
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0)
}

/** Polls `fn` every `everyMs` until it is true or `timeoutMs` passed; returns whether it became true. */
async function poll(fn: () => Promise<boolean>, timeoutMs: number, everyMs = 500): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await fn()) return true
    if (Date.now() >= deadline) return false
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** Digest of each node after epoch `e`: the latest recorded digest at or before `e`. */
function digestAt(sorted: readonly [number, string][], e: number): string {
  let found = GENESIS_DIGEST
  for (const [epoch, d] of sorted) {
    if (epoch > e) break
    found = d
  }
  return found
}

/** Runs one scenario and returns its line. Every child is stopped on every path. */
export async function runScenario(
  s: Scenario,
  log: (line: string) => void = () => {}
): Promise<AgreementLine> {
  const children = Array.from({ length: s.nodes }, (_, i) => new Child(i))
  try {
    const startMs = 60_000
    const started: Extract<ChildReply, { type: 'started' }>[] = []
    // start in small batches: 2 cores, and each start costs a key, a LevelDB and a libp2p host
    for (let i = 0; i < children.length; i += 3) {
      const batch = children.slice(i, i + 3)
      const replies = await Promise.all(
        batch.map((c) => {
          const config: ChildConfig = {
            index: c.index,
            article: 'net.bitwrk/agreement/0',
            epochParams: s.epochParams,
            clockOffsetMs: s.clockOffsetMs?.(c.index, s.nodes) ?? 0,
            ...(s.delay !== undefined ? { delay: s.delay } : {}),
            ...(s.overload?.node === c.index
              ? { overload: { blockMs: s.overload.blockMs, everyMs: s.overload.everyMs } }
              : {})
          }
          return c.ask({ type: 'start', config }, startMs)
        })
      )
      started.push(...(replies as Extract<ChildReply, { type: 'started' }>[]))
    }
    log(`${s.name}: ${s.nodes} nodes started`)
    const addrs = started.map((r) => r.addrs[0] ?? '')
    const byNode = new Map<number, string[]>()
    for (const [a, b] of edges(s.nodes)) byNode.set(a, [...(byNode.get(a) ?? []), addrs[b] ?? ''])
    await Promise.all(children.map((c) => c.ask({ type: 'dial', addrs: byNode.get(c.index) ?? [] }, 30_000)))
    await Promise.all(children.map((c) => c.ask({ type: 'mesh', timeoutMs: 30_000 }, 40_000)))
    log(`${s.name}: meshes formed`)

    const loadStart = Date.now()
    const perNode = s.bidsPerSec / s.nodes
    const loads = children.map((c) =>
      c.ask(
        { type: 'load', bidsPerSec: perNode, durationMs: s.loadMs, seed: 1000 + c.index },
        s.loadMs + 60_000
      )
    )
    const p = s.partition
    if (p !== undefined) {
      const cut = Math.max(1, Math.round(s.nodes * p.share))
      const minority = children.slice(0, cut)
      const majority = children.slice(cut)
      const ids = (cs: Child[]): string[] => cs.map((c) => started[c.index]?.peerId ?? '')
      const at = (cs: Child[]): string[] => cs.map((c) => addrs[c.index] ?? '')
      await new Promise((r) => setTimeout(r, p.atMs))
      log(`${s.name}: partition of ${cut} nodes`)
      await Promise.all([
        ...minority.map((c) => c.ask({ type: 'partition', peers: ids(majority) }, 20_000)),
        ...majority.map((c) => c.ask({ type: 'partition', peers: ids(minority) }, 20_000))
      ])
      await new Promise((r) => setTimeout(r, p.forMs))
      log(`${s.name}: healed`)
      await Promise.all([
        ...minority.map((c) => c.ask({ type: 'heal', addrs: at(majority).slice(0, 3) }, 30_000)),
        ...majority.map((c) => c.ask({ type: 'heal', addrs: [] }, 30_000))
      ])
    }
    await Promise.all(loads)
    const loadEnd = Date.now()
    log(`${s.name}: load done`)

    const reports = async (): Promise<Report[]> =>
      (await Promise.all(children.map((c) => c.ask({ type: 'report' }, 30_000)))) as Report[]
    // Every match both parties computed establishes within about a gossip round trip of its
    // epoch's close; a node off the chain must be back within 10 s (the target). Wait for both.
    const { epochMs, settleMs } = s.epochParams
    let last: Report[] = []
    await poll(
      async () => {
        last = await reports()
        const seen = new Set(last.flatMap((r) => r.ownMatches.map((m) => m.txid)))
        const est = new Set(last.flatMap((r) => r.established))
        return [...seen].every((t) => est.has(t)) && Date.now() - loadEnd > epochMs + settleMs + 2000
      },
      15_000 + epochMs + settleMs
    )
    return summarise(s, last, loadStart, loadEnd)
  } finally {
    await Promise.all(children.map((c) => c.stop()))
  }
}

function summarise(s: Scenario, reports: Report[], loadStart: number, loadEnd: number): AgreementLine {
  const { epochMs } = s.epochParams
  const seen = new Set(reports.flatMap((r) => r.ownMatches.map((m) => m.txid)))
  const est = new Set(reports.flatMap((r) => r.established))
  const established = [...seen].filter((t) => est.has(t)).length
  // epochs of the load (host clock), up to the last one every node closed
  const first = Math.floor(loadStart / epochMs)
  const chains = reports.map((r) => [...r.digests].sort((a, b) => a[0] - b[0]))
  const lastClosed = Math.min(...chains.map((c) => c.at(-1)?.[0] ?? first))
  const lastEpoch = Math.max(first, Math.min(lastClosed, Math.floor(loadEnd / epochMs) + 4))
  let agree = 0
  let epochs = 0
  const off: boolean[][] = reports.map(() => [])
  for (let e = first; e <= lastEpoch; e++) {
    const ds = chains.map((c) => digestAt(c, e))
    const counts = new Map<string, number>()
    for (const d of ds) counts.set(d, (counts.get(d) ?? 0) + 1)
    const majority = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0]
    epochs++
    if (counts.size === 1) agree++
    for (const [i, d] of ds.entries()) off[i]?.push(d !== majority)
  }
  // per node: the longest run of epochs off the majority's chain that ended back on it
  let reconverge: number | null = 0
  let offAtEnd = 0
  for (const runs of off) {
    let run = 0
    for (const o of runs) {
      if (o) run++
      else {
        if (reconverge !== null) reconverge = Math.max(reconverge, run * epochMs)
        run = 0
      }
    }
    if (run > 0) {
      offAtEnd++
      reconverge = null
    }
  }
  const times = reports.flatMap((r) => r.establishTimes).sort((a, b) => a - b)
  const skews = reports.map((_, i) => Math.abs(s.clockOffsetMs?.(i, s.nodes) ?? 0))
  const placed = reports.reduce((a, r) => a + r.placed, 0)
  return {
    scenario: s.name,
    nodes: s.nodes,
    latency_ms: s.delay?.meanMs ?? 0,
    jitter_ms: s.delay?.jitterMs ?? 0,
    skew_ms: Math.max(0, ...skews),
    bids: placed,
    bids_per_s: Math.round((placed / ((loadEnd - loadStart) / 1000)) * 10) / 10,
    matches: seen.size,
    established,
    agreement_share: seen.size === 0 ? 1 : Math.round((established / seen.size) * 10000) / 10000,
    epochs,
    epochs_all_agree_share: epochs === 0 ? 1 : Math.round((agree / epochs) * 10000) / 10000,
    own_bids_late: reports.reduce((a, r) => a + r.placeLate, 0),
    buys_failed: reports.reduce((a, r) => a + r.placeFailed, 0),
    late_receptions: reports.reduce((a, r) => a + r.lateReceptions, 0),
    rejoins: reports.reduce((a, r) => a + r.adoptions.length, 0),
    time_to_establish_p50_ms: quantile(times, 0.5),
    time_to_establish_p95_ms: quantile(times, 0.95),
    reconverge_ms: reconverge,
    nodes_off_chain: offAtEnd,
    clock_corrections_ms: reports.map((r) => r.clockCorrectionMs)
  }
}

/** The scenarios of issue 14 §1 at `nodes` nodes and `loadMs` of load. */
export function scenarios(nodes: number, loadMs: number, epochParams: Scenario['epochParams']): Scenario[] {
  const base = { nodes, loadMs, epochParams, bidsPerSec: Math.max(20, 2 * nodes) }
  return [
    { ...base, name: 'idle' },
    { ...base, name: 'latency_50', delay: { meanMs: 50, jitterMs: 20 } },
    { ...base, name: 'latency_150', delay: { meanMs: 150, jitterMs: 50 } },
    {
      ...base,
      name: 'skew_250',
      clockOffsetMs: (i, n) => (n <= 1 ? 0 : Math.round(-250 + (500 * i) / (n - 1)))
    },
    { ...base, name: 'skew_2s', clockOffsetMs: (i, n) => (i === n - 1 ? 2000 : 0) },
    { ...base, name: 'overload', overload: { node: nodes - 1, blockMs: 300, everyMs: 1000 } },
    { ...base, name: 'partition', partition: { share: 1 / 3, atMs: Math.round(loadMs / 3), forMs: 3000 } }
  ]
}
