/**
 * The testnet run (issue 5): N daemons on 127.0.0.1 (one bootstrap, the rest joining), demo
 * workers on the sellers, mandates, K tiles of the default scene bought in parallel by one
 * buyer, the image assembled and compared with a local render, match digests compared.
 */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { multiaddr } from '@multiformats/multiaddr'
import {
  ASSET_SCENE_JSON,
  assemble,
  DEFAULT_SCENE_JSON,
  decodePng,
  encodePng,
  encodeWork,
  imagesEqual,
  type PlacedTile,
  RAYS_ARTICLE,
  renderWork,
  tilesFor
} from '../../node/demo/index.js'
import { scopeOf } from '../../node/host/addresses.js'
import { announcements, bytesSent, type TestnetAsset, testnetAsset, uploadAsset } from './asset.js'
import { screenshotDashboard } from './browser.js'
import { type InternetPlan, internetLayout } from './internet/index.js'
import { type Layout, loopbackLayout } from './layout.js'
import { type NodeProc, ProcessGroup, type ProgressDeadline } from './processes.js'

/** The default job: 320×240, 4 samples per pixel (protocol/spec/demo-article.md). */
export const IMAGE = { width: 320, height: 240, samples: 4 } as const

/** Prices: the buyer pays up to 2 mBTC, sellers ask 1 mBTC, so every pair crosses. */
const BUY_PRICE = 'mBTC 2'
const SELL_PRICE = 'mBTC 1'

/**
 * Deadlines. A node's start and each network-wide wait fail only when nothing progressed for
 * `STALL_MS` or after a bound that grows with the node count: 50 daemons on 2 cores take
 * minutes to start where 5 take seconds (each start costs ~1 s of CPU, mostly module loading,
 * measured with --cpu-prof), so one fixed deadline is either too short there or too long here.
 */
const NODE_READY_MS = 30_000
const NETWORK_MS = 30_000
/** No output and no CPU for this long means a start is stuck (bootstrap dials give up after 10 s). */
const STALL_MS = 20_000
/**
 * No newly connected node for this long means the network is stuck: longer than the bootstrap
 * dialer's longest back-off (60 s) plus one dial (10 s), node/host/bootstrap.ts.
 */
const NETWORK_STALL_MS = 75_000
const JOB_MS = 120_000
/**
 * A job's bound grows with the node count like the others (50 daemons share the 2 cores with
 * the renders), but stays below undici's 300 s wait for response headers (fetch's default).
 */
const MAX_JOB_MS = 290_000
/** How long the digests are read again while a node is off the chain (a re-join takes ≤ 10 s). */
const RECONVERGE_MS = 20_000
const RECONVERGE_POLL_MS = 2000
/**
 * Demo workers per seller: two, or one above 20 nodes, where 49 sellers already outnumber the
 * cores many times and each idle worker is one more Node process.
 */
function workersPerSeller(nodes: number): number {
  return nodes > 20 ? 1 : 2
}
const TEARDOWN_MS = 10_000

/** `base` scaled by the node count (the default 5-node network keeps the old bounds), stalled after `stallMs`. */
function scaled(base: number, nodes: number, stallMs: number): ProgressDeadline {
  const totalMs = base * Math.max(1, nodes / 5)
  return { stallMs: Math.min(stallMs, totalMs), totalMs }
}

/**
 * Daemons starting at once: two per core. Every start is CPU-bound (module loading, key
 * derivation, LevelDB open); more at once only makes each one slower, and a bootstrap node
 * greeted by 49 simultaneous joiners spends its time on handshakes instead of answering.
 */
const START_CONCURRENCY = Math.max(2, availableParallelism() * 2)

/** Options of {@link runTestnet}. */
export interface TestnetOptions {
  readonly nodes: number
  readonly jobs: number
  /** Where image.png is written. */
  readonly outDir: string
  /** Progress lines (human). */
  readonly log: (line: string) => void
  /** Aborted on Ctrl-C. */
  readonly signal: AbortSignal
  /** Save a PNG of the buyer's dashboard here once every job is done (needs Debian's chromium). */
  readonly screenshot?: string
  /** Node's own flags for one daemon by name (e.g. `--cpu-prof` for `node7`). */
  readonly nodeFlags?: (name: string) => string[]
  /**
   * Run the daemons in an emulated internet of network namespaces (issue 15; needs root, `ip`
   * and `nft`) instead of on 127.0.0.1; `nodes` is then the plan's node count.
   */
  readonly internet?: InternetPlan
  /**
   * Give every tile's work an asset of this many MiB (issue 16 §2, RAYS-10): the buyer uploads
   * it to its node, the sellers' workers fetch it from theirs; the summary adds the asset fields.
   */
  readonly assetMib?: number
  /** The image bought (default {@link IMAGE}); the `swarm` bench keeps tiles cheap with a small one. */
  readonly image?: { readonly width: number; readonly height: number; readonly samples: number }
  /** Extra `bitwrk-node start` flags for one daemon by name (loopback layout; e.g. `--no-provide`). */
  readonly daemonArgs?: (name: string) => string[]
  /** Another article's job instead of the demo image (`--article blender`, scripts/testnet/blender.ts). */
  readonly job?: TestnetJob
}

/**
 * An article's job for the testnet: its work items, its workers and the check of its results.
 * Without one the testnet renders the demo article's image (RAYS-8).
 */
export interface TestnetJob {
  readonly article: string
  /** Worker flags after `worker --article ARTICLE` (instead of the demo worker's `--exec`). */
  readonly workerArgs: readonly string[]
  /** The work items (`jobs` of them), made before any daemon starts. */
  works(jobs: number): Promise<Uint8Array[]>
  /**
   * Checks the results of a run in which every job finished (`refs[i]` names buy i in the
   * buyer's activities, API-21) and writes its outputs to `outDir`; `get` reads the buyer's API.
   */
  finish(run: {
    results: Uint8Array[]
    refs: string[]
    outDir: string
    get: (path: string) => Promise<unknown>
    log: (line: string) => void
  }): Promise<{ matches: boolean; figures: Record<string, unknown> }>
}

/** The daemons an internet plan starts: its public nodes and every home's nodes. */
export function planNodes(plan: InternetPlan): number {
  return plan.publicNodes + plan.nodesPerHome.reduce((a, b) => a + b, 0)
}

/** The summary; the `--json` line is exactly these fields. */
export interface TestnetSummary {
  nodes: number
  /** `--internet` only: nodes behind an emulated NAT. */
  nat_nodes?: number
  jobs: number
  finished: number
  failed: number
  image_matches_reference: boolean
  /** Every epoch all nodes remember has the same match digest on every node (MATCH-13). */
  match_digests_agree: boolean
  /** Epochs every node remembers, and the share of them whose digest is equal on every node. */
  epochs_compared: number
  epochs_all_agree_share: number | null
  /**
   * Nodes whose match digest at the latest epoch every node has closed differs from the
   * majority's digest there (0 when all agree); null when the nodes share no closed epoch.
   * Read once the jobs are done, again while it is not 0 for up to {@link RECONVERGE_MS}: a
   * node off the chain is back on it within 10 s (SYNC-15, issue 14), so one caught in the
   * middle of a re-join is not counted.
   */
  nodes_off_chain: number | null
  trade_latency_ms: { p50: number | null; p95: number | null }
  trades_per_s: number
  /** `--internet` only: the network figures of issue 15 ({@link InternetFigures}). */
  relayed_connections?: number
  direct_upgrades?: number
  direct_upgrade_attempts?: number
  trades_direct?: number
  trades_over_relay?: number
  /**
   * `--internet` only: NATed nodes whose status warns that they hold no relay reservation
   * (NET-16: `network.warning` NO_RELAY), waited for up to {@link NO_RELAY_WAIT_MS} with `--no-relays`.
   */
  nat_nodes_without_relay?: number
  /** `--internet` only: loopback or private addresses the public nodes know for other peers (NET-4; must be 0). */
  private_addrs_at_public_nodes?: number
  /** `--internet` only: every finished trade's parties, by node name, and whether each was behind NAT. */
  trades?: { seller: string; buyer_nat: boolean; seller_nat: boolean }[]
  /** With a {@link TestnetJob} only: its article and its own figures. */
  article?: string
  figures?: Record<string, unknown>
  /** `--asset-mib` only: the asset's size in MiB and its key (RAYS-10). */
  asset_mib?: number
  asset_key?: string
  /**
   * `--asset-mib` only: bytes the buyer's node sent to its peers from the asset's upload to the
   * last tile (`libp2p_data_transfer_bytes_total{protocol="global sent"}`: chunks, trades,
   * gossip, DHT), and that per asset byte: near 1 when the sellers fetch the asset from each
   * other (the swarm), near the seller count when each fetches it from the buyer.
   */
  buyer_upload_bytes?: number
  buyer_upload_bytes_per_asset_byte?: number
  /** `--asset-mib` only: ms from the first buy to the last tile, the asset's fetches included. */
  job_wall_ms?: number
}

/** The value of a Prometheus text sample `name{labels}` summed over the lines that match. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue
    const v = Number(line.slice(line.lastIndexOf(' ') + 1))
    if (Number.isFinite(v)) sum += v
  }
  return sum
}

/** How long the summary waits for NATed nodes without relays to warn (NET-16: after 30 s). */
const NO_RELAY_WAIT_MS = 45_000

/**
 * The `--internet` figures, read from the nodes at the end (issue 15): relayed connections open
 * on all nodes (`bitwrk_connections{kind="relayed"}`), relayed connections replaced by direct ones
 * and the attempts (`bitwrk_direct_upgrades_total`, WebRTC or reversal), the buyer's trade
 * streams by path (`bitwrk_trade_paths_total`), and each accepted trade's seller with the NAT
 * flags of both parties (the buyer's `/api/v1/transactions`, sellers known by their address).
 */
async function internetFigures(
  nodes: readonly NodeProc[],
  nat: (i: number) => boolean,
  buyerIndex: number,
  api: Api,
  signal: AbortSignal,
  waitNoRelay: boolean
): Promise<Partial<TestnetSummary>> {
  const metrics = await Promise.all(
    nodes.map(async (n) => {
      const r = await fetch(`${n.api}/metrics`, {
        signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)])
      })
      return r.ok ? r.text() : ''
    })
  )
  const sum = (name: string, labels?: Record<string, string>): number =>
    metrics.reduce((a, m) => a + metricSum(m, name, labels), 0)
  const buyerMetrics = metrics[buyerIndex] ?? ''
  const addresses = await Promise.all(
    nodes.map(async (n) => ((await api.get(`${n.api}/api/v1/identity`)) as { address?: string }).address)
  )
  const buyer = nodes[buyerIndex] as NodeProc
  const txs = (await api.get(`${buyer.api}/api/v1/transactions`)) as {
    seller: string
    phase: string
    outcome: { reason: string } | null
  }[]
  // FINISHED: the buyer accepted the result; retired later with the reason `accepted` (TX-13)
  const trades = txs
    .filter((t) => t.phase === 'FINISHED' || t.outcome?.reason === 'accepted')
    .map((t) => {
      const i = addresses.indexOf(t.seller)
      return { seller: nodes[i]?.name ?? t.seller, buyer_nat: nat(buyerIndex), seller_nat: i >= 0 && nat(i) }
    })
  // NET-16: a NATed node without a relay says so (after its grace period, with --no-relays)
  const natIndexes = nodes.map((_, i) => i).filter(nat)
  const withoutRelay = async (): Promise<number> => {
    const st = await Promise.all(
      natIndexes.map((i) => api.get(`${(nodes[i] as NodeProc).api}/api/v1/status`))
    )
    return st.filter((x) => (x as { network?: { warning?: string | null } }).network?.warning === 'NO_RELAY')
      .length
  }
  let noRelay = await withoutRelay()
  const until = Date.now() + (waitNoRelay ? NO_RELAY_WAIT_MS : 0)
  while (noRelay < natIndexes.length && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000))
    signal.throwIfAborted()
    noRelay = await withoutRelay()
  }
  // NET-4: no node tells a public peer its private or loopback addresses
  let privateAddrs = 0
  for (const [i, n] of nodes.entries()) {
    if (nat(i)) continue
    const peers = (await api.get(`${n.api}/api/v1/peers`)) as { addrs?: string[] }[]
    for (const p of peers)
      for (const a of p.addrs ?? []) {
        let scope: string
        try {
          scope = scopeOf(multiaddr(a))
        } catch {
          scope = 'invalid'
        }
        if (scope === 'private' || scope === 'loopback') privateAddrs++
      }
  }
  return {
    nat_nodes_without_relay: noRelay,
    private_addrs_at_public_nodes: privateAddrs,
    relayed_connections: sum('bitwrk_connections', { kind: 'relayed' }),
    direct_upgrades: sum('bitwrk_direct_upgrades_total', { result: 'ok' }),
    direct_upgrade_attempts: sum('bitwrk_direct_upgrades_total'),
    trades_direct: metricSum(buyerMetrics, 'bitwrk_trade_paths_total', { path: 'direct' }),
    trades_over_relay: metricSum(buyerMetrics, 'bitwrk_trade_paths_total', { path: 'relayed' }),
    trades
  }
}

function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number
}

/**
 * Deadline of one API request, ms, at up to 10 nodes; more nodes scale it (at 50 on 2 cores a
 * loaded daemon took over 10 s to answer a mandate POST).
 */
const REQUEST_MS = 10_000

/** The JSON API of the testnet's daemons, each request under `requestMs`; errors name the URL. */
interface Api {
  get(url: string): Promise<unknown>
  post(url: string, body: unknown): Promise<unknown>
}

function apiClient(requestMs: number, signal: AbortSignal): Api {
  return {
    get: (url) => requestJson(url, {}, signal, requestMs),
    post: (url, body) =>
      requestJson(
        url,
        { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } },
        signal,
        requestMs
      )
  }
}

async function requestJson(
  url: string,
  init: RequestInit,
  signal: AbortSignal,
  requestMs: number
): Promise<unknown> {
  let r: Response
  try {
    r = await fetch(url, { ...init, signal: AbortSignal.any([signal, AbortSignal.timeout(requestMs)]) })
  } catch (err) {
    throw new Error(`${url}: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`)
  return r.json()
}

/**
 * Polls `probe` until it reports `done`. `progress` is a count that rises as the wait gets
 * closer (e.g. nodes that have a peer); the wait fails when it has not risen for
 * `deadline.stallMs`, or after `deadline.totalMs`. Polls every `everyMs`.
 */
async function until(
  what: string,
  deadline: ProgressDeadline,
  signal: AbortSignal,
  everyMs: number,
  probe: () => Promise<{ done: boolean; progress: number }>
): Promise<void> {
  const started = Date.now()
  let best = -1
  let lastProgress = started
  for (;;) {
    signal.throwIfAborted()
    const p = await probe().catch(() => ({ done: false, progress: -1 }))
    if (p.done) return
    const now = Date.now()
    if (p.progress > best) {
      best = p.progress
      lastProgress = now
    }
    if (now - started > deadline.totalMs)
      throw new Error(`timed out waiting for ${what} (${deadline.totalMs} ms, progress ${best})`)
    if (now - lastProgress > deadline.stallMs)
      throw new Error(`timed out waiting for ${what} (no progress for ${deadline.stallMs} ms, at ${best})`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

/** The listen address worth showing: the first that is not loopback (a namespace's 0.0.0.0 lists 127.0.0.1 first). */
function shownAddr(listen: readonly string[]): string {
  return listen.find((a) => !a.startsWith('/ip4/127.') && !a.startsWith('/ip6/::1/')) ?? listen[0] ?? ''
}

/** Runs `f` over `items` with at most `limit` calls in flight; results in input order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await f(items[i] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane))
  return results
}

/** How every node's match digests compare (MATCH-13). */
interface DigestCheck {
  /** Every epoch all nodes remember agrees; false when none is shared or any differs. */
  agree: boolean
  /** Epochs every node remembers. */
  compared: number
  /** Of those, the epochs whose digest is equal on every node. */
  agreeing: number
  /** The latest of them, undefined when there is none. */
  latest: number | undefined
  /** Nodes whose digest at `latest` is not the majority's; null without a shared epoch. */
  offChain: number | null
}

/** Compares the match digests of every epoch all nodes remember (MATCH-13). */
async function compareDigests(nodes: NodeProc[], api: Api, article: string): Promise<DigestCheck> {
  const key = `${article}:BTC`
  const lists = await Promise.all(
    nodes.map(
      async (n) =>
        (await api.get(`${n.api}/api/v1/epochs/${encodeURIComponent(key)}`)) as {
          epochs: { epoch: number; digest: string }[]
        }
    )
  )
  const maps = lists.map((l) => new Map(l.epochs.map((e) => [e.epoch, e.digest])))
  let compared = 0
  let agreeing = 0
  let latest: number | undefined
  for (const [epoch, digest] of maps[0] ?? new Map<number, string>()) {
    if (!maps.every((m) => m.has(epoch))) continue
    compared++
    if (latest === undefined || epoch > latest) latest = epoch
    if (maps.every((m) => m.get(epoch) === digest)) agreeing++
  }
  const agree = compared > 0 && agreeing === compared
  if (latest === undefined) return { agree, compared, agreeing, latest, offChain: null }
  const at = latest
  const votes = new Map<string, number>()
  for (const m of maps) votes.set(m.get(at) as string, (votes.get(m.get(at) as string) ?? 0) + 1)
  const majority = Math.max(...votes.values())
  return { agree, compared, agreeing, latest, offChain: maps.length - majority }
}

/**
 * The summary of a run in which no job finished (its starting point, and a failed run's line);
 * `natNodes` is given in `--internet` mode only.
 */
export function failedSummary(nodes: number, jobs: number, natNodes?: number): TestnetSummary {
  return {
    nodes,
    ...(natNodes !== undefined ? { nat_nodes: natNodes } : {}),
    jobs,
    finished: 0,
    failed: jobs,
    image_matches_reference: false,
    match_digests_agree: false,
    epochs_compared: 0,
    epochs_all_agree_share: null,
    nodes_off_chain: null,
    trade_latency_ms: { p50: null, p95: null },
    trades_per_s: 0
  }
}

/** Runs the testnet; always tears down what it started. */
export async function runTestnet(o: TestnetOptions): Promise<TestnetSummary> {
  const { log, signal } = o
  const base = await mkdtemp(join(tmpdir(), 'bitwrk-testnet-'))
  const procs = new ProcessGroup()
  const nodeCount = o.internet !== undefined ? planNodes(o.internet) : o.nodes
  const ready = scaled(NODE_READY_MS, nodeCount, STALL_MS)
  const network = scaled(NETWORK_MS, nodeCount, NETWORK_STALL_MS)
  // a status poll of every node: 5 per second for 5 nodes, once a second for 50
  const pollMs = Math.max(200, nodeCount * 20)
  const api = apiClient(REQUEST_MS * Math.max(1, nodeCount / 10), signal)
  const flags = (name: string): string[] => o.nodeFlags?.(name) ?? []
  const article = o.job?.article ?? RAYS_ARTICLE
  let layout: Layout | undefined
  try {
    const jobWorks = await o.job?.works(o.jobs)
    layout =
      o.internet !== undefined
        ? await internetLayout(procs, base, o.internet, flags)
        : loopbackLayout(procs, base, o.nodes, flags, o.daemonArgs)
    const summary = failedSummary(nodeCount, o.jobs, layout.natNodes)
    const lay = layout
    // 1. the network: the first node is the bootstrap node, the others join through it
    log(`starting ${lay.describe} in ${base}`)
    const t0Start = Date.now()
    const [bootSpec, ...otherSpecs] = lay.specs
    if (bootSpec === undefined) throw new Error('the layout has no nodes')
    const boot = await lay.start(bootSpec, [], ready)
    const bootAddr = boot.listen[0]
    if (bootAddr === undefined) throw new Error('bootstrap node has no listen address')
    let started = 1
    const startAll = (specs: typeof otherSpecs, bootstrap: string[]) =>
      mapBounded(specs, START_CONCURRENCY, async (spec) => {
        signal.throwIfAborted()
        const n = await lay.start(spec, bootstrap, ready)
        started++
        if (nodeCount > 10 && started % 10 === 0) log(`  ${started}/${nodeCount} nodes ready`)
        return n
      })
    // nodes behind NAT join through every public node (their relays, NET-15) but a public buyer
    // (which reaches them through their relays and connection reversal, DIRECT-9); the others, and
    // every node of the loopback testnet, through the first
    const publicOthers = await startAll(
      otherSpecs.filter((s) => !s.nat),
      [bootAddr]
    )
    const natNodes = await startAll(
      otherSpecs.filter((s) => s.nat),
      [
        bootAddr,
        ...publicOthers
          .filter((n) => !lay.specs.some((s) => s.name === n.name && s.buyer))
          .flatMap((n) => n.listen.slice(0, 1))
      ]
    )
    const byName = new Map([...publicOthers, ...natNodes].map((n) => [n.name, n]))
    const others = otherSpecs.map((s) => byName.get(s.name) as NodeProc)
    const nodes = [boot, ...others]
    const roleOf = (i: number): string => {
      const s = lay.specs[i] as (typeof lay.specs)[number]
      return [
        i === 0 ? 'bootstrap' : '',
        s.buyer ? 'buyer' : '',
        s.seller ? 'seller' : '',
        s.nat ? 'behind NAT' : lay.natNodes !== undefined ? 'public' : ''
      ]
        .filter((x) => x !== '')
        .join(', ')
    }
    for (const [i, n] of nodes.entries())
      log(`  ${n.name} ${n.peerId} api ${n.api} ${shownAddr(n.listen)} (${roleOf(i)})`)
    log(`${nodeCount} nodes ready in ${Date.now() - t0Start} ms`)
    await until('every node connected', network, signal, pollMs, async () => {
      const s = await Promise.all(nodes.map((n) => api.get(`${n.api}/api/v1/status`)))
      const connected = s.filter((x) => (x as { peers: number }).peers >= 1).length
      return { done: connected === nodes.length, progress: connected }
    })
    log('network formed')
    const buyer = nodes[lay.specs.findIndex((s) => s.buyer)]
    if (buyer === undefined) throw new Error('the layout has no buyer')

    // 2. sellers: a SELL mandate and one or two demo workers each; the buyer: a BUY mandate
    const sellers = nodes.filter((_, i) => lay.specs[i]?.seller === true)
    const perSeller = workersPerSeller(nodeCount)
    for (const s of sellers) {
      await api.post(`${s.api}/api/v1/mandates`, {
        article,
        side: 'SELL',
        price: SELL_PRICE,
        trades: 10_000,
        validMinutes: 60
      })
      for (let w = 0; w < perSeller; w++)
        lay.startWorker(`worker-${s.name}-${w}`, s, article, o.job?.workerArgs)
    }
    await api.post(`${buyer.api}/api/v1/mandates`, {
      article,
      side: 'BUY',
      price: BUY_PRICE,
      trades: o.jobs * 4,
      validMinutes: 60
    })
    await until('workers registered', network, signal, pollMs, async () => {
      const lists = await Promise.all(sellers.map((s) => api.get(`${s.api}/api/v1/workers`)))
      const registered = lists.reduce(
        (sum: number, l) => sum + Math.min(perSeller, (l as unknown[]).length),
        0
      )
      return { done: registered === sellers.length * perSeller, progress: registered }
    })
    // every seller's offers reach the buyer's book before buying (gossip + settle)
    await until('sell offers in the buyer book', network, signal, pollMs, async () => {
      const b = (await api.get(`${buyer.api}/api/v1/book/${article}`)) as { sells: unknown[] }
      return { done: b.sells.length >= sellers.length, progress: b.sells.length }
    })
    if (lay.natNodes !== undefined) {
      // across NATs, every node's book is checked: gossip reaches nodes nobody can dial
      await until('sell offers in every book', network, signal, pollMs, async () => {
        const books = await Promise.all(nodes.map((n) => api.get(`${n.api}/api/v1/book/${article}`)))
        const full = books.filter((b) => (b as { sells: unknown[] }).sells.length >= sellers.length).length
        return { done: full === nodes.length, progress: full }
      })
      log(`every node's book holds the ${sellers.length} sellers' offers`)
    }
    log(
      `${sellers.length} sellers with ${sellers.length * perSeller} workers offering; buying ${o.jobs} tiles`
    )

    // 3. the buyer buys every tile at once (with --asset-mib, after uploading the asset)
    const image = o.image ?? IMAGE
    let asset: TestnetAsset | undefined
    let sentBefore = 0
    if (o.assetMib !== undefined) {
      asset = testnetAsset(o.assetMib)
      sentBefore = await bytesSent(buyer.api, signal)
      const announced = await announcements(buyer.api, signal)
      await uploadAsset(buyer.api, asset, signal)
      // the sellers' nodes find the asset through the buyer's provider record (CHUNK-11)
      await until('the asset announced', network, signal, pollMs, async () => ({
        done: (await announcements(buyer.api, signal)) > announced,
        progress: 0
      }))
      log(`asset of ${o.assetMib} MiB uploaded to the buyer's node and announced: ${asset.ref.key}`)
    }
    const tiles = o.job === undefined ? tilesFor(image.width, image.height, o.jobs) : []
    const works =
      jobWorks ??
      tiles.map((tile) =>
        asset === undefined
          ? encodeWork({ ...image, tile, scene: DEFAULT_SCENE_JSON })
          : encodeWork({ ...image, tile, scene: ASSET_SCENE_JSON, asset: asset.ref })
      )
    const results: Uint8Array[] = new Array(works.length)
    const refs = works.map((_, i) => `testnet-${i}`)
    // with an asset every seller fetches it first: without the swarm the buyer sends it once per
    // seller (8 × 64 MiB took over 120 s on the loaded 2-core machine), so the longest bound
    const jobMs =
      asset !== undefined ? MAX_JOB_MS : Math.min(MAX_JOB_MS, JOB_MS * Math.max(1, nodeCount / 10))
    const latencies: number[] = []
    const placed: (PlacedTile | undefined)[] = new Array(tiles.length)
    const t0 = Date.now()
    let done = 0
    await Promise.all(
      works.map(async (work, i) => {
        const start = Date.now()
        try {
          const r = await fetch(`${buyer.api}/buy/${article}?ref=${refs[i]}`, {
            method: 'POST',
            body: Buffer.from(work),
            headers: { 'content-type': 'application/octet-stream' },
            signal: AbortSignal.any([signal, AbortSignal.timeout(jobMs)])
          })
          const body = new Uint8Array(await r.arrayBuffer())
          if (!r.ok) throw new Error(`${r.status} ${Buffer.from(body).toString('utf8').slice(0, 200)}`)
          results[i] = body
          if (o.job === undefined)
            placed[i] = { tile: tiles[i] as PlacedTile['tile'], image: decodePng(body) }
          latencies.push(Date.now() - start)
          summary.finished++
        } catch (err) {
          log(`  tile ${i} failed: ${err instanceof Error ? err.message : String(err)}`)
        }
        done++
        log(`  progress ${done}/${o.jobs} (finished ${summary.finished})`)
      })
    )
    const elapsed = Date.now() - t0
    summary.failed = o.jobs - summary.finished
    if (asset !== undefined) {
      const sent = (await bytesSent(buyer.api, signal)) - sentBefore
      summary.asset_mib = asset.mib
      summary.asset_key = asset.ref.key
      summary.buyer_upload_bytes = sent
      summary.buyer_upload_bytes_per_asset_byte = Math.round((sent / asset.ref.size) * 1000) / 1000
      summary.job_wall_ms = elapsed
      log(
        `the buyer's node sent ${sent} bytes, ${summary.buyer_upload_bytes_per_asset_byte} per asset byte; job ${elapsed} ms`
      )
    }
    latencies.sort((a, b) => a - b)
    summary.trade_latency_ms = { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) }
    summary.trades_per_s = elapsed > 0 ? Math.round((summary.finished / (elapsed / 1000)) * 100) / 100 : 0

    // 4. the image and the reference
    if (summary.finished === o.jobs && o.job !== undefined) {
      const r = await o.job.finish({
        results,
        refs,
        outDir: o.outDir,
        log,
        get: (p) => api.get(`${buyer.api}${p}`)
      })
      summary.image_matches_reference = r.matches
      summary.article = article
      summary.figures = r.figures
    } else if (summary.finished === o.jobs) {
      const assembled = assemble(image.width, image.height, placed as PlacedTile[])
      await mkdir(o.outDir, { recursive: true })
      await writeFile(join(o.outDir, 'image.png'), encodePng(assembled))
      const reference = assemble(
        image.width,
        image.height,
        tiles.map((tile, i) => ({ tile, image: decodePng(renderWork(works[i] as Uint8Array, asset?.bytes)) }))
      )
      summary.image_matches_reference = imagesEqual(assembled, reference)
      log(
        `image written to ${join(o.outDir, 'image.png')}; matches the reference: ${summary.image_matches_reference}`
      )
    }

    // 5. every node computed the same match digests
    let d = await compareDigests(nodes, api, article)
    const reconvergeBy = Date.now() + RECONVERGE_MS
    while (d.offChain !== 0 && Date.now() < reconvergeBy) {
      await new Promise((r) => setTimeout(r, RECONVERGE_POLL_MS))
      signal.throwIfAborted()
      d = await compareDigests(nodes, api, article)
    }
    summary.match_digests_agree = d.agree
    summary.epochs_compared = d.compared
    summary.epochs_all_agree_share =
      d.compared > 0 ? Math.round((d.agreeing / d.compared) * 1000) / 1000 : null
    summary.nodes_off_chain = d.offChain
    if (lay.natNodes !== undefined) {
      const figures = await internetFigures(
        nodes,
        (i) => lay.specs[i]?.nat === true,
        nodes.indexOf(buyer),
        api,
        signal,
        o.internet?.noRelays === true
      )
      Object.assign(summary, figures)
      log(
        `network: ${figures.direct_upgrades}/${figures.direct_upgrade_attempts} relayed connections upgraded to direct, ` +
          `trades direct ${figures.trades_direct}, over a relay ${figures.trades_over_relay}`
      )
    }
    log(`match digests agree over ${d.compared} shared epochs: ${d.agree} (${d.agreeing} agree everywhere)`)
    if (d.latest !== undefined)
      log(`nodes off the majority's digest at epoch ${d.latest}, the latest all closed: ${d.offChain}`)

    // 6. on request, a picture of the buyer's dashboard with the finished image
    if (o.screenshot !== undefined) {
      await screenshotDashboard(buyer.api, o.screenshot, network.totalMs)
      log(`dashboard screenshot written to ${o.screenshot}`)
    }
    return summary
  } finally {
    log('tearing down')
    const killed = await procs.stopAll(TEARDOWN_MS)
    if (killed > 0) log(`  ${killed} processes had to be killed`)
    await layout?.close()
    await rm(base, { recursive: true, force: true })
  }
}
