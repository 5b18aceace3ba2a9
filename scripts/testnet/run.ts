/**
 * The testnet run (issue 5): N daemons on 127.0.0.1 (one bootstrap, the rest joining), demo
 * workers on the sellers, mandates, K tiles of the default scene bought in parallel by one
 * buyer, the image assembled and compared with a local render, match digests compared.
 */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
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
import { screenshotDashboard } from './browser.js'
import { type NodeProc, ProcessGroup } from './processes.js'

/** The default job: 320×240, 4 samples per pixel (protocol/spec/demo-article.md). */
export const IMAGE = { width: 320, height: 240, samples: 4 } as const

/** Prices: the buyer pays up to 2 mBTC, sellers ask 1 mBTC, so every pair crosses. */
const BUY_PRICE = 'mBTC 2'
const SELL_PRICE = 'mBTC 1'

/** Deadlines. */
const NODE_READY_MS = 30_000
const NETWORK_MS = 30_000
const JOB_MS = 120_000
const TEARDOWN_MS = 10_000

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
}

/** The summary; the `--json` line is exactly these fields. */
export interface TestnetSummary {
  nodes: number
  jobs: number
  finished: number
  failed: number
  image_matches_reference: boolean
  match_digests_agree: boolean
  trade_latency_ms: { p50: number | null; p95: number | null }
  trades_per_s: number
}

function percentile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number
}

async function getJson(url: string, signal: AbortSignal): Promise<unknown> {
  const r = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) })
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`)
  return r.json()
}

async function postJson(url: string, body: unknown, signal: AbortSignal): Promise<unknown> {
  const r = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)])
  })
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`)
  return r.json()
}

async function until(
  what: string,
  timeoutMs: number,
  signal: AbortSignal,
  pred: () => Promise<boolean>
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    signal.throwIfAborted()
    if (await pred().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Every epoch all nodes remember agrees (MATCH-13); false when none is shared or any differs. */
async function digestsAgree(
  nodes: NodeProc[],
  signal: AbortSignal
): Promise<{ agree: boolean; compared: number }> {
  const key = `${RAYS_ARTICLE}:BTC`
  const lists = await Promise.all(
    nodes.map(
      async (n) =>
        (await getJson(`${n.api}/api/v1/epochs/${encodeURIComponent(key)}`, signal)) as {
          epochs: { epoch: number; digest: string }[]
        }
    )
  )
  const maps = lists.map((l) => new Map(l.epochs.map((e) => [e.epoch, e.digest])))
  let compared = 0
  for (const [epoch, digest] of maps[0] ?? new Map<number, string>()) {
    if (!maps.every((m) => m.has(epoch))) continue
    compared++
    if (!maps.every((m) => m.get(epoch) === digest)) return { agree: false, compared }
  }
  return { agree: compared > 0, compared }
}

/** Runs the testnet; always tears down what it started. */
export async function runTestnet(o: TestnetOptions): Promise<TestnetSummary> {
  const { log, signal } = o
  const base = await mkdtemp(join(tmpdir(), 'bitwrk-testnet-'))
  const procs = new ProcessGroup()
  const summary: TestnetSummary = {
    nodes: o.nodes,
    jobs: o.jobs,
    finished: 0,
    failed: o.jobs,
    image_matches_reference: false,
    match_digests_agree: false,
    trade_latency_ms: { p50: null, p95: null },
    trades_per_s: 0
  }
  try {
    // 1. the network: node 0 is the bootstrap (and the buyer), the others join through it
    log(`starting ${o.nodes} nodes in ${base}`)
    const boot = await procs.startNode('node0', join(base, 'node0'), [], NODE_READY_MS)
    const bootAddr = boot.listen[0]
    if (bootAddr === undefined) throw new Error('bootstrap node has no listen address')
    const others = await Promise.all(
      Array.from({ length: o.nodes - 1 }, (_, i) =>
        procs.startNode(`node${i + 1}`, join(base, `node${i + 1}`), ['--bootstrap', bootAddr], NODE_READY_MS)
      )
    )
    const nodes = [boot, ...others]
    for (const n of nodes) log(`  ${n.name} ${n.peerId} api ${n.api}`)
    await until('every node connected', NETWORK_MS, signal, async () => {
      const s = await Promise.all(nodes.map((n) => getJson(`${n.api}/api/v1/status`, signal)))
      return s.every((x) => (x as { peers: number }).peers >= 1)
    })
    log('network formed')

    // 2. sellers: a SELL mandate and two demo workers each; the buyer: a BUY mandate
    const sellers = others
    for (const s of sellers) {
      await postJson(
        `${s.api}/api/v1/mandates`,
        { article: RAYS_ARTICLE, side: 'SELL', price: SELL_PRICE, trades: 10_000, validMinutes: 60 },
        signal
      )
      for (let w = 0; w < 2; w++) procs.startWorker(`worker-${s.name}-${w}`, s.api, RAYS_ARTICLE)
    }
    await postJson(
      `${boot.api}/api/v1/mandates`,
      { article: RAYS_ARTICLE, side: 'BUY', price: BUY_PRICE, trades: o.jobs * 4, validMinutes: 60 },
      signal
    )
    await until('workers registered', NETWORK_MS, signal, async () => {
      const lists = await Promise.all(sellers.map((s) => getJson(`${s.api}/api/v1/workers`, signal)))
      return lists.every((l) => (l as unknown[]).length >= 2)
    })
    // every seller's offers reach the buyer's book before buying (gossip + settle)
    await until('sell offers in the buyer book', NETWORK_MS, signal, async () => {
      const b = (await getJson(`${boot.api}/api/v1/book/${RAYS_ARTICLE}`, signal)) as { sells: unknown[] }
      return b.sells.length >= sellers.length
    })
    log(`${sellers.length} sellers with ${sellers.length * 2} workers offering; buying ${o.jobs} tiles`)

    // 3. the buyer buys every tile at once
    const tiles = tilesFor(IMAGE.width, IMAGE.height, o.jobs)
    const works = tiles.map((tile) => encodeWork({ ...IMAGE, tile, scene: DEFAULT_SCENE_JSON }))
    const latencies: number[] = []
    const placed: (PlacedTile | undefined)[] = new Array(tiles.length)
    const t0 = Date.now()
    let done = 0
    await Promise.all(
      works.map(async (work, i) => {
        const start = Date.now()
        try {
          const r = await fetch(`${boot.api}/buy/${RAYS_ARTICLE}`, {
            method: 'POST',
            body: Buffer.from(work),
            headers: { 'content-type': 'application/octet-stream' },
            signal: AbortSignal.any([signal, AbortSignal.timeout(JOB_MS)])
          })
          const body = new Uint8Array(await r.arrayBuffer())
          if (!r.ok) throw new Error(`${r.status} ${Buffer.from(body).toString('utf8').slice(0, 200)}`)
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
    latencies.sort((a, b) => a - b)
    summary.trade_latency_ms = { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) }
    summary.trades_per_s = elapsed > 0 ? Math.round((summary.finished / (elapsed / 1000)) * 100) / 100 : 0

    // 4. the image and the reference
    if (summary.finished === o.jobs) {
      const image = assemble(IMAGE.width, IMAGE.height, placed as PlacedTile[])
      await mkdir(o.outDir, { recursive: true })
      await writeFile(join(o.outDir, 'image.png'), encodePng(image))
      const reference = assemble(
        IMAGE.width,
        IMAGE.height,
        tiles.map((tile, i) => ({ tile, image: decodePng(renderWork(works[i] as Uint8Array)) }))
      )
      summary.image_matches_reference = imagesEqual(image, reference)
      log(
        `image written to ${join(o.outDir, 'image.png')}; matches the reference: ${summary.image_matches_reference}`
      )
    }

    // 5. every node computed the same match digests
    const d = await digestsAgree(nodes, signal)
    summary.match_digests_agree = d.agree
    log(`match digests agree over ${d.compared} shared epochs: ${d.agree}`)

    // 6. on request, a picture of the buyer's dashboard with the finished image
    if (o.screenshot !== undefined) {
      await screenshotDashboard(boot.api, o.screenshot, NETWORK_MS)
      log(`dashboard screenshot written to ${o.screenshot}`)
    }
    return summary
  } finally {
    log('tearing down')
    const killed = await procs.stopAll(TEARDOWN_MS)
    if (killed > 0) log(`  ${killed} processes had to be killed`)
    await rm(base, { recursive: true, force: true })
  }
}
