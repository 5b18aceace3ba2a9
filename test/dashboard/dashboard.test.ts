import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium, type Page } from 'playwright-core'
import { DEFAULT_SCENE_JSON, decodePng, encodeWork, RAYS_ARTICLE, tilesFor } from '../../node/demo/index.js'
import { waitFor } from '../../node/testing.js'
import { CHROMIUM, CHROMIUM_ARGS, requireChromium } from '../../scripts/testnet/browser.js'
import { type NodeProc, ProcessGroup } from '../../scripts/testnet/processes.js'
import { getJson, postJson } from '../support/http.js'

/** Debian's chromium (never a downloaded browser); `.ci/run` installs it when missing. */
/** Screenshots land here (gitignored), kept as CI artifacts. */
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url))

/** Deadlines: nodes ready, the network formed (sell offers gossiped), two demo tiles bought (~3 s measured). */
const READY_MS = 20_000
const NETWORK_MS = 15_000
const TRADE_MS = 30_000
const UI_MS = 10_000

/** A small image: 2 tiles of 96×64 at 1 sample per pixel render in milliseconds. */
const IMAGE = { width: 96, height: 64, samples: 1 } as const

describe('web dashboard (chromium, 3-node testnet)', function () {
  // the whole file: ~15 s measured on a 2-core machine
  this.timeout(55_000)
  const procs = new ProcessGroup()
  let base: string | undefined
  let browser: Browser | undefined
  let page: Page
  let buyer: NodeProc
  let buyerAddress: string
  let sellerApis: string[] = []

  before(async () => {
    requireChromium()
    await mkdir(ARTIFACTS, { recursive: true })
    base = await mkdtemp(join(tmpdir(), 'bitwrk-dashboard-'))
    const dir = base
    const launched = chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] })
    buyer = await procs.startNode('node0', join(dir, 'node0'), [], READY_MS)
    const boot = buyer.listen[0] as string
    const sellers = await Promise.all(
      [1, 2].map((i) => procs.startNode(`node${i}`, join(dir, `node${i}`), ['--bootstrap', boot], READY_MS))
    )
    sellerApis = sellers.map((s) => s.api)
    for (const s of sellers) {
      await postJson(`${s.api}/api/v1/mandates`, {
        article: RAYS_ARTICLE,
        side: 'SELL',
        price: 'mBTC 1',
        trades: 100,
        validMinutes: 10
      })
      procs.startWorker(`worker-${s.name}`, s.api, RAYS_ARTICLE)
    }
    await postJson(`${buyer.api}/api/v1/mandates`, {
      article: RAYS_ARTICLE,
      side: 'BUY',
      price: 'mBTC 2',
      trades: 10,
      validMinutes: 10
    })
    buyerAddress = ((await getJson(`${buyer.api}/api/v1/identity`)) as { address: string }).address
    browser = await launched
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
  })

  after(async () => {
    await browser?.close()
    await procs.stopAll(10_000)
    if (base !== undefined) await rm(base, { recursive: true, force: true })
  })

  it('serves the page with a same-origin CSP and shows the node and the SELL bids of the book', async () => {
    const requests: string[] = []
    page.on('request', (r) => requests.push(r.url()))
    const res = await page.goto(`${buyer.api}/`, { timeout: UI_MS })
    assert.equal(res?.status(), 200)
    assert.match(res?.headers()['content-security-policy'] ?? '', /default-src 'self'/)
    await page.locator('#id-address', { hasText: buyerAddress }).waitFor({ timeout: UI_MS })
    await page.locator('#id-uptime', { hasText: /^\d+m \d+s$/ }).waitFor({ timeout: UI_MS })
    await page.locator('#live[data-state="live"]').waitFor({ timeout: UI_MS })
    // both sellers' workers offer: SELL bids reach the buyer's book by gossip
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('#book-sells tbody tr[data-price] .count')).reduce(
          (n, td) => n + Number(td.textContent),
          0
        ) >= 2,
      undefined,
      { timeout: NETWORK_MS }
    )
    await page.locator('#peers tbody tr[data-peer]').first().waitFor({ timeout: UI_MS })
    const origin = new URL(buyer.api).origin
    assert.deepEqual(
      requests.filter((u) => new URL(u).origin !== origin),
      [],
      'the page makes no external request'
    )
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-book.png'), fullPage: true })
  })

  it('shows a buy progressing to FINISHED, its image tile and its signed messages all checked OK', async () => {
    const tiles = tilesFor(IMAGE.width, IMAGE.height, 2)
    const buys = tiles.map(async (tile) => {
      const r = await fetch(`${buyer.api}/buy/${RAYS_ARTICLE}`, {
        method: 'POST',
        body: Buffer.from(encodeWork({ ...IMAGE, tile, scene: DEFAULT_SCENE_JSON })),
        headers: { 'content-type': 'application/octet-stream' },
        signal: AbortSignal.timeout(TRADE_MS)
      })
      await r.arrayBuffer()
      return r.status
    })
    // live updates: the rows appear and change without a reload
    await page.locator('#activity-table tr[data-activity]').first().waitFor({ timeout: UI_MS })
    await page.waitForFunction(
      () => document.querySelectorAll('#activity-table tr[data-phase="FINISHED"]').length >= 2,
      undefined,
      { timeout: TRADE_MS }
    )
    assert.deepEqual(await Promise.all(buys), [200, 200])
    // each finished buy shows its result transfer complete (the encrypted tile travelled)
    const results = await page.$$eval(
      '#activity-table tr[data-phase="FINISHED"] progress[aria-label$=" result transfer"]',
      (bars) => bars.map((b) => [Number(b.getAttribute('value')), Number(b.getAttribute('max'))])
    )
    assert.ok(results.length >= 2, 'result transfer bars shown')
    for (const [value, max] of results) {
      assert.ok(max !== undefined && max > 1, 'a result has bytes to transfer')
      assert.equal(value, max)
    }
    // the sellers' activities show the encrypted result leaving in full (a seller learns of
    // FINISHED from the buyer's gossiped accept-result, so it may lag the buyer's answer)
    type SellView = { side: string; phase: string; resultTransfer?: { done: number; total: number } | null }
    let sent: SellView[] = []
    await waitFor(
      async () => {
        const sells = (await Promise.all(sellerApis.map((api) => getJson(`${api}/api/v1/activities`)))).flat()
        sent = (sells as SellView[]).filter((a) => a.side === 'SELL' && a.phase === 'FINISHED')
        return sent.length >= 2
      },
      { timeoutMs: UI_MS, intervalMs: 100, what: "both sellers' activities FINISHED" }
    )
    assert.equal(sent.length, 2)
    // the buyer's peer view carries the sellers' reputation, counted from the finished trades
    type PeerRep = { reputation?: { counters: Record<string, number> } | null }
    await waitFor(
      async () => {
        const peers = (await getJson(`${buyer.api}/api/v1/peers`)) as PeerRep[]
        return peers.reduce((n, p) => n + (p.reputation?.counters['finished'] ?? 0), 0) >= 2
      },
      { timeoutMs: UI_MS, intervalMs: 100, what: "the sellers' finished trades in the peer view" }
    )
    for (const a of sent) {
      assert.ok(a.resultTransfer != null && a.resultTransfer.total > 0, 'a sell reports its result transfer')
      assert.equal(a.resultTransfer.done, a.resultTransfer.total)
    }
    await page.locator('#image-list figure[data-done="2"][data-tiles="2"]').waitFor({ timeout: UI_MS })
    // the page shows the composed PNG of both tiles; every pixel of it is rendered (opaque)
    const src = await page.waitForFunction(
      () => {
        const img = document.querySelector('#image-list figure img') as {
          src: string
          complete: boolean
          naturalWidth: number
        } | null
        return img?.complete && img.naturalWidth > 0 && img.src.endsWith('tiles=2') ? img.src : false
      },
      undefined,
      { timeout: UI_MS }
    )
    const png = decodePng(new Uint8Array(await (await fetch(String(await src.jsonValue()))).arrayBuffer()))
    assert.deepEqual([png.width, png.height], [IMAGE.width, IMAGE.height])
    assert.ok(
      png.data.every((v, i) => i % 4 !== 3 || v === 255),
      'every pixel is opaque'
    )
    const tx = page.locator('#tx-list details[data-phase="FINISHED"]').first()
    await tx.waitFor({ timeout: UI_MS })
    await tx.locator('summary').click()
    await tx.locator('li.message').first().waitFor({ timeout: UI_MS })
    const sigs = await tx
      .locator('li.message [data-sig]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-sig')))
    // establish-buyer, establish-seller, publish-secret, transmit-finished, accept-result
    assert.equal(sigs.length, 5)
    assert.ok(
      sigs.every((s) => s === 'ok'),
      `signature checks: ${sigs.join(',')}`
    )
    const matches = await page.locator('#matches tbody tr').count()
    assert.ok(matches >= 2)
    assert.equal(await page.locator('#chart svg polyline').count(), 1)
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-trade.png'), fullPage: true })
  })

  it('grants and revokes a mandate through the page, refusing a bad price like the API', async () => {
    const rows = page.locator('#mandate-table tr[data-mandate]')
    const before = await rows.count()
    await page.getByLabel('Article', { exact: true }).last().fill(RAYS_ARTICLE)
    await page.getByLabel('Side', { exact: true }).selectOption('SELL')
    await page.getByLabel('Price limit').fill('not money')
    await page.getByRole('button', { name: 'Grant' }).click()
    await page.locator('#m-result', { hasText: 'refused' }).waitFor({ timeout: UI_MS })
    assert.equal(await rows.count(), before)
    await page.getByLabel('Price limit').fill('mBTC 5')
    await page.getByLabel('Trades').fill('3')
    await page.getByRole('button', { name: 'Grant' }).click()
    await page.locator('#m-result', { hasText: 'granted' }).waitFor({ timeout: UI_MS })
    const text = (await page.locator('#m-result').textContent()) ?? ''
    const id = /mandate (\d+) granted/.exec(text)?.[1]
    assert.ok(id !== undefined, text)
    const row = page.locator(`#mandate-table tr[data-mandate="${id}"]`)
    await row.waitFor({ timeout: UI_MS })
    assert.match((await row.textContent()) ?? '', /SELL.*mBTC 5/)
    const listed = (await getJson(`${buyer.api}/api/v1/mandates`)) as { id: number }[]
    assert.ok(listed.some((m) => String(m.id) === id))
    await page.getByRole('button', { name: `Revoke mandate ${id}` }).click()
    await row.waitFor({ state: 'detached', timeout: UI_MS })
    const after = (await getJson(`${buyer.api}/api/v1/mandates`)) as { id: number }[]
    assert.ok(!after.some((m) => String(m.id) === id))
  })

  it('fits a phone-sized screen without horizontal scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    await page.reload({ timeout: UI_MS })
    await page.locator('#book-sells tbody tr[data-price]').first().waitFor({ timeout: UI_MS })
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 0, `page is ${overflow} px wider than the screen`)
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png'), fullPage: false })
  })

  it("serves Prometheus metrics: libp2p's and at least ten bitwrk_ families", async () => {
    const r = await fetch(`${buyer.api}/metrics`, { signal: AbortSignal.timeout(5_000) })
    assert.equal(r.status, 200)
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/)
    const text = await r.text()
    const families = new Set([...text.matchAll(/^# TYPE (bitwrk_[a-z0-9_]+) /gm)].map((m) => m[1] as string))
    assert.ok(families.size >= 10, `${families.size} bitwrk_ families`)
    assert.ok(families.has('bitwrk_matches_total'))
    const libp2p = new Set([...text.matchAll(/^# TYPE (libp2p_[a-z0-9_]+) /gm)].map((m) => m[1] as string))
    assert.ok(libp2p.has('libp2p_connection_manager_connections'), 'libp2p connection metrics')
    assert.ok(libp2p.has('libp2p_data_transfer_bytes_total'), 'libp2p transfer metrics')
  })

  it('lets every daemon stop cleanly while the page holds its event stream', async () => {
    await page.locator('#live[data-state="live"]').waitFor({ timeout: UI_MS })
    const events = (await getJson(`${buyer.api}/api/v1/dashboard`)) as { events: { clients: number } }
    // (a stream of the page before its reload may still be closing: at least one)
    assert.ok(events.events.clients >= 1)
    // SIGTERM; a process that lingers (an open stream, a timer) would be SIGKILLed and counted
    assert.equal(await procs.stopAll(10_000), 0)
    await page.locator('#live[data-state="offline"]').waitFor({ timeout: UI_MS })
  })
})
