import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Daemon, type DaemonOptions, startDaemon } from '../../node/daemon/index.js'
import { bidTopic, txTopic } from '../../node/gossip/index.js'
import { waitFor, waitForMesh } from '../../node/testing.js'
import { call, errorOf } from '../node/api/helpers.js'
import { type LocalWorker, startLocalWorker } from '../node/workers/helpers.js'

const ART = 'net.bitwrk/drill/mandates'
/** An article no daemon of these tests follows until a buy of it (WRK-11). */
const OTHER = 'net.bitwrk/drill/unfollowed'
/** Fast epochs, as the market tests use (MATCH-2). */
const EPOCHS = { epochMs: 250, settleMs: 1000 }

interface MandateJson {
  id: number
  article: string
  side: string
  tradesLeft: number | null
}
interface WorkerJson {
  id: string
  state: string
  blockedUntilMs: number | null
  waitingFor: string | null
  lastError: string | null
}
interface ActivityJson {
  side: string
  article: string
  alive: boolean
  phase: string
  error: string | null
  workerId: string | null
}

async function json<T>(url: string): Promise<T> {
  const res = await call(url)
  assert.equal(res.status, 200, url)
  return (await res.json()) as T
}

async function grant(d: Daemon, body: Record<string, unknown>): Promise<MandateJson> {
  const res = await call(`${d.info.apiUrl}/api/v1/mandates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body)
  })
  assert.equal(res.status, 201)
  return (await res.json()) as MandateJson
}

async function register(d: Daemon, id: string, article: string, pushurl: string): Promise<void> {
  const res = await call(`${d.info.apiUrl}/registerworker`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ id, article, pushurl }).toString()
  })
  assert.equal(res.status, 200)
}

const mandates = (d: Daemon) => json<MandateJson[]>(`${d.info.apiUrl}/api/v1/mandates`)
const workers = (d: Daemon) => json<WorkerJson[]>(`${d.info.apiUrl}/api/v1/workers`)
const activities = (d: Daemon) => json<ActivityJson[]>(`${d.info.apiUrl}/api/v1/activities`)

/**
 * Mandate accounting and activities of a real daemon (issue 12.2 … 12.5): real libp2p nodes on
 * 127.0.0.1, real LevelDB data directories, the local API over HTTP, local HTTP workers.
 */
describe('daemon mandates, workers and activities', function () {
  this.timeout(60_000)
  const daemons: Daemon[] = []
  const dirs: string[] = []
  const locals: LocalWorker[] = []
  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.stop()))
    await Promise.all(locals.splice(0).map((w) => w.close()))
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  })

  async function daemon(extra: Partial<DaemonOptions> = {}): Promise<Daemon> {
    const dataDir = await mkdtemp(join(tmpdir(), 'bitwrk-mandate-use-'))
    dirs.push(dataDir)
    const d = await startDaemon({ dataDir, apiPort: 0, articles: [ART], epochParams: EPOCHS, ...extra })
    daemons.push(d)
    return d
  }

  async function localWorker(...args: Parameters<typeof startLocalWorker>): Promise<LocalWorker> {
    const w = await startLocalWorker(...args)
    locals.push(w)
    return w
  }

  it('takes no SELL trade when the offer cannot be placed, and backs the worker off (12.2)', async () => {
    const d = await daemon()
    const w = await localWorker()
    await grant(d, { article: ART, side: 'SELL', price: 'mBTC 1', trades: 100 })
    // one more worker than the book holds live bids of one participant (MARKET-5: 64): the last
    // offer is refused by the book at once, however often it is made
    const ids = Array.from({ length: 65 }, (_, i) => `w${String(i + 1).padStart(2, '0')}`)
    for (const id of ids) await register(d, id, ART, w.url)
    const refused = async (): Promise<WorkerJson | undefined> =>
      (await workers(d)).find((x) => x.lastError !== null)
    await waitFor(async () => (await refused()) !== undefined || (await mandates(d)).length === 0, {
      timeoutMs: 20_000,
      what: 'an offer to be refused'
    })
    const worker = await refused()
    assert.match(String(worker?.lastError), /^BOOK_PARTICIPANT_LIMIT\b/)
    assert.equal(worker?.state, 'idle')
    assert.ok(worker?.blockedUntilMs !== null && worker?.blockedUntilMs !== undefined, 'backed off')
    // 64 offers hold a trade each; the refused one gave its trade back (settled on its own)
    await waitFor(async () => (await mandates(d))[0]?.tradesLeft === 100 - 64, {
      timeoutMs: 10_000,
      what: 'the trade given back'
    })
    // the refused offer is refused at once, while the 64 placed ones may still be being stored
    await waitFor(async () => (await activities(d)).length >= 64, { timeoutMs: 10_000, what: '64 offers' })
    const sells = await activities(d)
    assert.equal(sells.length, 64)
    assert.ok(sells.every((a) => a.side === 'SELL' && a.phase === 'BID' && a.workerId !== worker?.id))
    assert.deepEqual(
      (await mandates(d)).map((m) => m.tradesLeft),
      [36],
      'no offer taken in the back-off'
    )
  })

  it('gives the BUY trade back when a buy finds no seller, also of an article the node did not follow (12.3)', async () => {
    const d = await daemon()
    await grant(d, { article: OTHER, side: 'BUY', price: 'mBTC 1', trades: 3 })
    const res = await call(`${d.info.apiUrl}/buy/${OTHER}?timeout=1`, { method: 'POST', body: 'work' })
    assert.deepEqual(await errorOf(res), {
      status: 504,
      code: 'API_NO_SELLER',
      detail: 'NODETRADE_NO_SELLER'
    })
    assert.deepEqual(
      (await mandates(d)).map((m) => m.tradesLeft),
      [3]
    )
  })

  it('gives the BUY trade back when a buy ends before a transaction is established (12.3)', async () => {
    const d = await daemon()
    await grant(d, { article: ART, side: 'BUY', price: 'mBTC 1', trades: 3 })
    const ctl = new AbortController()
    const buying = fetch(`${d.info.apiUrl}/buy/${ART}`, { method: 'POST', body: 'work', signal: ctl.signal })
    buying.catch(() => {})
    await waitFor(async () => (await activities(d))[0]?.phase === 'BID', {
      timeoutMs: 10_000,
      what: 'the BUY bid'
    })
    // the trade is held while the bid waits for a seller
    assert.deepEqual(
      (await mandates(d)).map((m) => m.tradesLeft),
      [2]
    )
    ctl.abort()
    await waitFor(async () => (await activities(d))[0]?.alive === false, {
      timeoutMs: 10_000,
      what: 'the buy to end'
    })
    await waitFor(async () => (await mandates(d))[0]?.tradesLeft === 3, {
      timeoutMs: 10_000,
      what: 'the trade to be given back'
    })
  })

  it("shows a buyer the sell bid's peer id and bidder in /api/v1/book, as the signed bid names them (12.19, API-22)", async () => {
    const seller = await daemon()
    const buyer = await daemon({ bootstrap: seller.info.listen })
    await waitForMesh([seller.node.host, buyer.node.host], bidTopic(ART), 15_000)
    const w = await localWorker()
    await grant(seller, { article: ART, side: 'SELL', price: 'mBTC 1', trades: 1 })
    await register(seller, 'w1', ART, w.url)
    type Entry = { side: string; bidder: string; peerId?: string }
    let sells: Entry[] = []
    await waitFor(
      async () => {
        sells = (await json<{ sells: Entry[] }>(`${buyer.info.apiUrl}/api/v1/book/${ART}`)).sells
        return sells.length === 1
      },
      { timeoutMs: 10_000, what: "the seller's bid in the buyer's book" }
    )
    const [bid] = buyer.node.book.liveBids(ART)
    assert.deepEqual(
      sells.map((s) => [s.side, s.bidder, s.peerId]),
      [['SELL', seller.node.address, seller.node.peerId]]
    )
    // the view repeats the signed bid's field (BID `peer`), the peer TRADE-2 dials
    assert.equal(bid?.bid.peerId, seller.node.peerId)
  })

  it('ends the sell activity of a worker that unregisters and gives its trade back (12.4)', async () => {
    const d = await daemon()
    const w = await localWorker()
    await grant(d, { article: ART, side: 'SELL', price: 'mBTC 1', trades: 2 })
    await register(d, 'w1', ART, w.url)
    await waitFor(async () => (await activities(d))[0]?.phase === 'BID', {
      timeoutMs: 10_000,
      what: 'the SELL bid'
    })
    const un = await call(`${d.info.apiUrl}/unregisterworker?id=w1`)
    assert.equal(un.status, 200)
    await waitFor(async () => (await activities(d))[0]?.alive === false, {
      timeoutMs: 10_000,
      what: 'the sell activity to end'
    })
    const [act] = await activities(d)
    assert.equal(act?.phase, 'WITHDRAWN')
    assert.equal(act?.error, null)
    await waitFor(async () => (await mandates(d))[0]?.tradesLeft === 2, {
      timeoutMs: 10_000,
      what: 'the offer trade given back'
    })
    await waitFor(() => d.node.book.liveBids(ART).length === 0, {
      timeoutMs: 10_000,
      what: 'the SELL bid cancelled'
    })
  })

  it("reports every attempt's reason and seller, and the seller's failed activities carry the worker's error (12.5)", async () => {
    // reject-work counts against both parties (REP rules): three disputes in a row would stop
    // them from establishing with each other before the third attempt, so trust is opened wide
    const trust = { blocked: -1, establishMin: -0.999 }
    const seller = await daemon({ trust })
    const buyer = await daemon({ trust, bootstrap: seller.info.listen })
    const hosts = [seller.node.host, buyer.node.host]
    await waitForMesh(hosts, bidTopic(ART), 15_000)
    await waitForMesh(hosts, txTopic(ART), 15_000)
    // three workers whose jobs fail with 500 (a crashed render): each is offered once
    const w = await localWorker((_work, res) => {
      res.writeHead(500).end('render crashed')
    })
    await grant(seller, { article: ART, side: 'SELL', price: 'mBTC 1', trades: 10 })
    for (const id of ['w1', 'w2', 'w3']) await register(seller, id, ART, w.url)
    await waitFor(async () => buyer.node.book.liveBids(ART).length === 3, {
      timeoutMs: 10_000,
      what: 'three SELL bids at the buyer'
    })
    await grant(buyer, { article: ART, side: 'BUY', price: 'mBTC 2', trades: 1 })
    const res = await call(`${buyer.info.apiUrl}/buy/${ART}`, { method: 'POST', body: 'work' })
    const body = (await res.json()) as {
      code: string
      detail: string
      message: string
      attempts: { attempt: number; code: string; seller: string | null; txId: string | null }[]
    }
    assert.equal(res.status, 500)
    assert.equal(body.code, 'API_BUY_FAILED')
    assert.equal(body.detail, 'NODETRADE_BUY_FAILED')
    assert.deepEqual(
      body.attempts.map((a) => [a.attempt, a.code, a.seller]),
      [1, 2, 3].map((n) => [n, 'TRADE_WORKER_FAILED', seller.node.address])
    )
    assert.ok(body.attempts.every((a) => typeof a.txId === 'string'))
    assert.match(body.message, /1: TRADE_WORKER_FAILED/)
    assert.equal(w.jobs.length, 3)
    // the buy activity and the seller's three sell activities say why
    const [buy] = await activities(buyer)
    assert.equal(buy?.error, 'NODETRADE_BUY_FAILED')
    await waitFor(async () => (await activities(seller)).filter((a) => a.phase === 'FAILED').length === 3, {
      timeoutMs: 10_000,
      what: 'three failed sells'
    })
    for (const a of (await activities(seller)).filter((x) => x.phase === 'FAILED'))
      assert.equal(a.error, 'WORKER_FAILED')
    // transactions were established: the buyer's one trade is charged (MAN-5)
    assert.deepEqual(await mandates(buyer), [])
    // each worker got one job, and none is offered again before it registers anew
    assert.deepEqual(
      (await workers(seller)).map((x) => [x.id, x.state, x.lastError?.slice(0, 13)]),
      ['w1', 'w2', 'w3'].map((id) => [id, 'busy', 'WORKER_FAILED'])
    )
  })
})
