import assert from 'node:assert/strict'
import { MemoryChunkStore } from '../../../cafs/store/memory.js'
import { exportStream } from '../../../cafs/stream.js'
import type { Manifest } from '../../../cafs/types.js'
import { MandateBook } from '../../../node/mandates/index.js'
import { createMemoryController } from '../../../node/store/db.js'
import { waitFor } from '../../../node/testing.js'
import { type SellOffer, WorkerPool } from '../../../node/workers/index.js'
import { BitwrkError } from '../../../protocol/errors.js'
import { type LocalWorker, startLocalWorker } from './helpers.js'

const ART = 'net.bitwrk/gorays/0'

async function bytesOf(m: Manifest, store: MemoryChunkStore): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const c of exportStream(m, store)) parts.push(c)
  return Buffer.concat(parts).toString()
}

describe('node/workers pool', () => {
  const cleanups: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })
  async function worker(answer?: Parameters<typeof startLocalWorker>[0]): Promise<LocalWorker> {
    const w = await startLocalWorker(answer)
    cleanups.push(() => w.close())
    return w
  }
  /** An in-memory mandate book with one SELL mandate of `trades` trades at mBTC 3. */
  async function sellMandate(trades: number, nowMs: number): Promise<MandateBook> {
    const kv = createMemoryController()
    const { book } = await MandateBook.open(kv)
    cleanups.push(() => kv.close())
    await book.grant({ article: ART, side: 'SELL', price: 'mBTC 3', trades }, nowMs)
    return book
  }
  function pool(opts: ConstructorParameters<typeof WorkerPool>[0] = {}): WorkerPool {
    const p = new WorkerPool({ backoffMs: 40, dispatchTimeoutMs: 5000, ...opts })
    cleanups.push(() => p.stop())
    return p
  }

  it('registers, re-registers and unregisters workers', () => {
    const p = pool()
    const v = p.register({ id: 'w1', article: ART, pushUrl: 'http://127.0.0.1:9/work' })
    assert.equal(v.state, 'idle')
    assert.equal(
      p.register({ id: 'w1', article: ART, pushUrl: 'http://localhost:9/work' }).pushUrl,
      'http://localhost:9/work'
    )
    assert.equal(p.list().length, 1)
    assert.equal(p.unregister('w1'), true)
    assert.equal(p.unregister('w1'), false)
    assert.deepEqual(p.list(), [])
  })

  it('refuses bad registrations with codes and registers nothing', () => {
    const p = pool({ maxWorkers: 1 })
    const bad: [Record<string, string>, string][] = [
      [{ id: '', article: ART, pushUrl: 'http://127.0.0.1:1/' }, 'WORKER_INVALID'],
      [{ id: 'a b', article: ART, pushUrl: 'http://127.0.0.1:1/' }, 'WORKER_INVALID'],
      [{ id: 'x'.repeat(129), article: ART, pushUrl: 'http://127.0.0.1:1/' }, 'WORKER_INVALID'],
      [{ id: 'w', article: 'a//b', pushUrl: 'http://127.0.0.1:1/' }, 'WORKER_INVALID'],
      [{ id: 'w', article: ART, pushUrl: 'not a url' }, 'WORKER_INVALID'],
      [{ id: 'w', article: ART, pushUrl: 'ftp://127.0.0.1/' }, 'WORKER_INVALID'],
      [{ id: 'w', article: ART, pushUrl: 'http://user:pw@127.0.0.1/' }, 'WORKER_INVALID'],
      [{ id: 'w', article: ART, pushUrl: 'http://192.168.1.5:8000/work' }, 'WORKER_URL_FORBIDDEN'],
      [{ id: 'w', article: ART, pushUrl: 'http://127.0.0.1.evil.example/' }, 'WORKER_URL_FORBIDDEN']
    ]
    for (const [reg, code] of bad)
      assert.throws(() => p.register(reg as never), { code }, JSON.stringify(reg))
    assert.deepEqual(p.list(), [])
    p.register({ id: 'w', article: ART, pushUrl: 'http://127.0.0.1:1/' })
    assert.throws(() => p.register({ id: 'w2', article: ART, pushUrl: 'http://127.0.0.1:1/' }), {
      code: 'WORKER_TOO_MANY'
    })
  })

  it('accepts non-loopback push URLs only under an operator allow rule', () => {
    const p = pool({ pushUrls: { allow: [{ host: '192.168.1.5', minPort: 8000, maxPort: 8000 }] } })
    assert.equal(p.register({ id: 'w', article: ART, pushUrl: 'http://192.168.1.5:8000/work' }).state, 'idle')
    assert.throws(() => p.register({ id: 'v', article: ART, pushUrl: 'http://127.0.0.1:8000/work' }), {
      code: 'WORKER_URL_FORBIDDEN'
    })
  })

  it('stores the normalised push URL and refuses hostile spellings under the default policy (WRK-8)', () => {
    const p = pool()
    const normalised: [string, string][] = [
      ['http://0x7f.1:6379/', 'http://127.0.0.1:6379/'],
      ['http://2130706433:9/w', 'http://127.0.0.1:9/w'],
      ['http://127.1:9/', 'http://127.0.0.1:9/'],
      ['http://localhost.:9/', 'http://localhost:9/'],
      ['http://[::ffff:127.0.0.1]:9/', 'http://127.0.0.1:9/'],
      ['http://[0:0:0:0:0:0:0:1]:9/', 'http://[::1]:9/'],
      ['http://127.0.0.1:9/w#frag', 'http://127.0.0.1:9/w']
    ]
    for (const [pushUrl, url] of normalised)
      assert.equal(p.register({ id: 'w', article: ART, pushUrl }).pushUrl, url, pushUrl)
    p.unregister('w')
    const refused: [string, string][] = [
      ['https://127.0.0.1:9/', 'WORKER_INVALID'],
      ['http://127.0.0.1:0/', 'WORKER_INVALID'],
      ['http://①②⑦.0.0.1:9/', 'WORKER_INVALID'],
      ['http://ⓛocalhost:9/', 'WORKER_INVALID'],
      ['http://127.0.0.1\t:90\n90/', 'WORKER_INVALID'],
      ['http://127.0.0.1../', 'WORKER_INVALID'],
      ['http://0.0.0.0:6379/', 'WORKER_URL_FORBIDDEN'],
      ['http://[::]:6379/', 'WORKER_URL_FORBIDDEN'],
      ['http://foo.localhost:9/', 'WORKER_URL_FORBIDDEN']
    ]
    for (const [pushUrl, code] of refused)
      assert.throws(() => p.register({ id: 'w', article: ART, pushUrl }), { code }, pushUrl)
    assert.deepEqual(p.list(), [])
  })

  it('restricts loopback ports to the operator allow list, whatever the host spelling (WRK-9)', () => {
    const p = pool({
      pushUrls: {
        allow: [
          { host: '127.0.0.1', minPort: 9000, maxPort: 9100 },
          { host: 'localhost', minPort: 7000, maxPort: 7000 }
        ]
      }
    })
    for (const pushUrl of [
      'http://127.0.0.1:6379/',
      'http://0x7f.1:6379/',
      'http://2130706433:8999/',
      'http://[::1]:9000/'
    ])
      assert.throws(
        () => p.register({ id: 'w', article: ART, pushUrl }),
        { code: 'WORKER_URL_FORBIDDEN' },
        pushUrl
      )
    assert.deepEqual(p.list(), [])
    assert.equal(
      p.register({ id: 'a', article: ART, pushUrl: 'http://0x7f.1:9100/w' }).pushUrl,
      'http://127.0.0.1:9100/w'
    )
    assert.equal(
      p.register({ id: 'b', article: ART, pushUrl: 'http://[::1]:7000/w' }).pushUrl,
      'http://[::1]:7000/w'
    )
    assert.equal(p.list().length, 2)
  })

  it('does not follow a redirect from the push URL: the work goes nowhere else (WRK-4)', async () => {
    const elsewhere = await worker()
    const w = await worker((_work, res) => res.writeHead(307, { location: elsewhere.url }).end())
    const p = pool()
    const store = new MemoryChunkStore()
    p.register({ id: 'w1', article: ART, pushUrl: w.url })
    await assert.rejects(p.dispatch('w1', new TextEncoder().encode('secret work'), { store }), {
      code: 'WORKER_FAILED',
      details: { id: 'w1', status: 307 }
    })
    assert.equal(w.jobs.length, 1)
    assert.equal(elsewhere.jobs.length, 0)
    assert.equal(store.stats().chunks, 0)
  })

  it('dispatches work as an octet-stream POST and stores the answer; busy until re-registered', async () => {
    const w = await worker()
    const p = pool()
    const store = new MemoryChunkStore()
    p.register({ id: 'w1', article: ART, pushUrl: w.url })
    assert.deepEqual(p.idle(ART), ['w1'])
    const m = await p.dispatch('w1', new TextEncoder().encode('render me'), { store })
    assert.equal(await bytesOf(m, store), 'RENDER ME')
    assert.equal(w.contentTypes[0], 'application/octet-stream')
    assert.equal(p.get('w1')?.state, 'busy')
    assert.deepEqual(p.idle(ART), [])
    await assert.rejects(p.dispatch('w1', new Uint8Array(1), { store }), { code: 'WORKER_BUSY' })
    p.register({ id: 'w1', article: ART, pushUrl: w.url })
    assert.equal(p.get('w1')?.state, 'idle')
    assert.equal(p.get('w1')?.jobs, 1)
    await assert.rejects(p.dispatch('nobody', new Uint8Array(1), { store }), { code: 'WORKER_UNKNOWN' })
  })

  it('never gives a worker two jobs at once', async () => {
    let answer: (() => void) | undefined
    const w = await worker((work, res) => {
      answer = () => res.writeHead(200).end(work)
    })
    const p = pool()
    const store = new MemoryChunkStore()
    p.register({ id: 'w1', article: ART, pushUrl: w.url })
    const first = p.dispatch('w1', new Uint8Array([1]), { store })
    await assert.rejects(p.dispatch('w1', new Uint8Array([2]), { store }), { code: 'WORKER_BUSY' })
    await waitFor(() => answer !== undefined, { timeoutMs: 5000, intervalMs: 0, what: 'job to arrive' })
    answer?.()
    await first
    assert.equal(w.jobs.length, 1)
  })

  it('blocks a failing worker for the back-off; a 500 keeps it busy until it registers again', async () => {
    const w = await worker((_work, res) => res.writeHead(500).end('boom'))
    const p = pool({ backoffMs: 60_000 })
    const store = new MemoryChunkStore()
    p.register({ id: 'w1', article: ART, pushUrl: w.url })
    await assert.rejects(p.dispatch('w1', new Uint8Array([1]), { store }), { code: 'WORKER_FAILED' })
    const v = p.get('w1')
    assert.equal(v?.state, 'busy')
    assert.ok(v?.blockedUntilMs !== null && (v?.blockedUntilMs ?? 0) > Date.now())
    assert.match(v?.lastError ?? '', /^WORKER_FAILED/)
    p.register({ id: 'w1', article: ART, pushUrl: w.url })
    await assert.rejects(p.dispatch('w1', new Uint8Array([1]), { store }), { code: 'WORKER_BUSY' })
  })

  it('marks a worker idle itself after a status other than 200/500, after the back-off', async () => {
    let now = 1000
    const w = await worker((_work, res) => res.writeHead(404).end())
    const p = pool({ now: () => now, backoffMs: 20_000 })
    const store = new MemoryChunkStore()
    p.register({ id: 'w1', article: ART, pushUrl: w.url })
    await assert.rejects(p.dispatch('w1', new Uint8Array([1]), { store }), { code: 'WORKER_FAILED' })
    assert.equal(p.get('w1')?.state, 'idle')
    assert.deepEqual(p.idle(ART), [])
    now += 20_000
    assert.deepEqual(p.idle(ART), ['w1'])
  })

  it('reports unreachable workers, timeouts, oversized results and cancellation', async () => {
    const store = new MemoryChunkStore()
    const dead = await worker()
    const deadUrl = dead.url
    await dead.close()
    const p = pool({ backoffMs: 0, dispatchTimeoutMs: 300, maxResultBytes: 10 })
    p.register({ id: 'dead', article: ART, pushUrl: deadUrl })
    await assert.rejects(p.dispatch('dead', new Uint8Array([1]), { store }), { code: 'WORKER_UNREACHABLE' })
    const slow = await worker(() => {})
    p.register({ id: 'slow', article: ART, pushUrl: slow.url })
    await assert.rejects(p.dispatch('slow', new Uint8Array([1]), { store }), { code: 'WORKER_TIMEOUT' })
    const big = await worker((_w, res) => res.writeHead(200).end(Buffer.alloc(11)))
    p.register({ id: 'big', article: ART, pushUrl: big.url })
    await assert.rejects(p.dispatch('big', new Uint8Array([1]), { store }), {
      code: 'WORKER_RESULT_TOO_LARGE'
    })
    const hang = await worker(() => {})
    p.register({ id: 'hang', article: ART, pushUrl: hang.url })
    const ctl = new AbortController()
    const job = p.dispatch('hang', new Uint8Array([1]), { store, signal: ctl.signal })
    await waitFor(() => hang.jobs.length === 1, { timeoutMs: 5000, intervalMs: 0, what: 'job to arrive' })
    ctl.abort()
    await assert.rejects(job, { code: 'WORKER_CANCELLED' })
  })

  it('offers one SELL per idle worker priced by a SELL mandate, and withdraws on unregister', async () => {
    const kv = createMemoryController()
    const { book } = await MandateBook.open(kv)
    const offers: SellOffer[] = []
    const w = await worker()
    const p = pool({ mandates: book, onOffer: (o) => offers.push(o) })
    p.register({ id: 'w1', article: ART, pushUrl: w.url })
    await waitFor(() => p.get('w1')?.waitingFor === 'MANDATE_NOT_FOUND', {
      timeoutMs: 5000,
      intervalMs: 0,
      what: 'mandate wait'
    })
    assert.equal(offers.length, 0)
    await book.grant({ article: ART, side: 'SELL', price: 'mBTC 3', trades: 9 }, Date.now())
    await waitFor(() => offers.length === 1, { timeoutMs: 5000, intervalMs: 0, what: 'offer' })
    assert.equal(offers[0]?.workerId, 'w1')
    assert.equal(offers[0]?.price.amount, 300_000n)
    assert.equal(p.get('w1')?.state, 'offered')
    // Registering again while offered makes no second offer.
    p.register({ id: 'w1', article: ART, pushUrl: w.url })
    await new Promise((r) => setImmediate(r))
    assert.equal(offers.length, 1)
    // The market gives the offer back: its trade returns, a fresh offer holds another (MAN-5).
    p.release('w1')
    await waitFor(() => offers.length === 2, { timeoutMs: 5000, intervalMs: 0, what: 'second offer' })
    assert.equal(book.list()[0]?.tradesLeft, 8)
    // The market's job fulfils its offer without withdrawing it; after re-registering the
    // worker is offered again.
    const store = new MemoryChunkStore()
    await p.dispatch('w1', new Uint8Array([97]), { store, offer: offers[1] })
    assert.equal(offers[1]?.signal.aborted, false)
    p.register({ id: 'w1', article: ART, pushUrl: w.url })
    await waitFor(() => offers.length === 3, { timeoutMs: 5000, intervalMs: 0, what: 'offer after job' })
    // A local job takes the worker: the market's offer is withdrawn.
    await p.dispatch('w1', new Uint8Array([98]), { store })
    assert.equal(offers[2]?.signal.aborted, true)
    p.register({ id: 'w1', article: ART, pushUrl: w.url })
    await waitFor(() => offers.length === 4, {
      timeoutMs: 5000,
      intervalMs: 0,
      what: 'offer after local job'
    })
    p.unregister('w1')
    assert.equal(offers[3]?.signal.aborted, true)
    await kv.close()
  })

  it('offers again after the back-off when a job failed', async () => {
    const kv = createMemoryController()
    const { book } = await MandateBook.open(kv)
    await book.grant({ article: ART, side: 'SELL', price: 'mBTC 3', trades: 5 }, Date.now())
    const offers: SellOffer[] = []
    const w = await worker((_work, res) => res.writeHead(503).end())
    const p = pool({ mandates: book, onOffer: (o) => offers.push(o), backoffMs: 30 })
    p.register({ id: 'w1', article: ART, pushUrl: w.url })
    await waitFor(() => offers.length === 1, { timeoutMs: 5000, intervalMs: 0, what: 'offer' })
    await assert.rejects(p.dispatch('w1', new Uint8Array([1]), { store: new MemoryChunkStore() }), {
      code: 'WORKER_FAILED'
    })
    assert.equal(offers.length, 1)
    await waitFor(() => offers.length === 2, { timeoutMs: 5000, intervalMs: 0, what: 'offer after back-off' })
    await kv.close()
  })

  it('gives the trade back and backs off when the market cannot place the offer (issue 12.2)', async () => {
    let now = 1_000_000
    const book = await sellMandate(5, now)
    const offers: SellOffer[] = []
    const w = await worker()
    const p = pool({
      mandates: book,
      now: () => now,
      backoffMs: 20_000,
      onOffer: (o) => {
        offers.push(o)
        p.offerFailed(o, new BitwrkError('MARKET_NOT_FOLLOWED', 'article not followed'))
      }
    })
    p.register({ id: 'w1', article: ART, pushUrl: w.url })
    await waitFor(() => offers.length === 1 && book.list()[0]?.tradesLeft === 5, {
      timeoutMs: 5000,
      intervalMs: 0,
      what: 'the trade back'
    })
    const v = p.get('w1')
    assert.equal(v?.state, 'idle')
    assert.equal(v?.blockedUntilMs, now + 20_000)
    assert.equal(v?.lastError, 'MARKET_NOT_FOLLOWED: article not followed')
    assert.equal(offers[0]?.signal.aborted, false, 'a failed offer is not withdrawn: it never was')
    // the book changes (the refund, another grant): still no offer within the back-off
    await book.grant({ article: ART, side: 'SELL', price: 'mBTC 4', trades: 1 }, now)
    assert.equal(offers.length, 1)
    // after it, one more offer
    now += 20_000
    await book.grant({ article: ART, side: 'SELL', price: 'mBTC 5', trades: 1 }, now)
    await waitFor(() => offers.length === 2, {
      timeoutMs: 5000,
      intervalMs: 0,
      what: 'the offer after the back-off'
    })
  })

  it('offers a worker that did not answer its job only after it registers again (issue 12.5)', async () => {
    let now = 1_000_000
    const book = await sellMandate(1, now)
    const offers: SellOffer[] = []
    const dead = await worker()
    const deadUrl = dead.url
    await dead.close()
    const live = await worker()
    const p = pool({ mandates: book, now: () => now, backoffMs: 20_000, onOffer: (o) => offers.push(o) })
    p.register({ id: 'dead', article: ART, pushUrl: deadUrl })
    await waitFor(() => offers.length === 1, { timeoutMs: 5000, intervalMs: 0, what: 'offer' })
    const store = new MemoryChunkStore()
    await assert.rejects(p.dispatch('dead', new Uint8Array([1]), { store, offer: offers[0] }), {
      code: 'WORKER_UNREACHABLE'
    })
    // the market's job charged the trade: the one-trade mandate is used up
    assert.deepEqual(book.list(), [])
    p.register({ id: 'live', article: ART, pushUrl: live.url })
    await waitFor(() => p.get('live')?.waitingFor === 'MANDATE_NOT_FOUND', {
      timeoutMs: 5000,
      intervalMs: 0,
      what: 'live waits for a mandate'
    })
    now += 20_000
    // a new mandate offers every idle worker (in registration order): the dead one is not among them
    await book.grant({ article: ART, side: 'SELL', price: 'mBTC 3', trades: 5 }, now)
    await waitFor(() => offers.some((o) => o.workerId === 'live'), {
      timeoutMs: 5000,
      intervalMs: 0,
      what: 'the live worker offered'
    })
    assert.deepEqual(
      offers.map((o) => o.workerId),
      ['dead', 'live']
    )
    const v = p.get('dead')
    assert.equal(v?.state, 'busy')
    assert.equal(v?.waitingFor, 'WORKER_UNREACHABLE')
    assert.match(v?.lastError ?? '', /^WORKER_UNREACHABLE/)
    // it answers again: registered, it is offered
    p.register({ id: 'dead', article: ART, pushUrl: live.url })
    await waitFor(() => offers.length === 3, {
      timeoutMs: 5000,
      intervalMs: 0,
      what: 'offer after registering again'
    })
    assert.equal(offers[2]?.workerId, 'dead')
  })
})
