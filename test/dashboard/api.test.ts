import assert from 'node:assert/strict'
import { DASHBOARD_CSP, DASHBOARD_VERSION } from '../../node/api/dashboard/assets/index.js'
import type { DashboardEvent, DashboardFacade } from '../../node/api/facade.js'
import { ApiServer, type ApiServerOptions } from '../../node/api/server.js'
import { createTestFacade } from '../../node/api/testing.js'
import { MandateBook } from '../../node/mandates/index.js'
import { createMemoryController, type KvController } from '../../node/store/db.js'
import { WorkerPool } from '../../node/workers/index.js'

const TOKEN = 'ab'.repeat(32)

/** A dashboard facade whose events the test pushes by hand. */
function fakeDashboard(): DashboardFacade & {
  push(e: DashboardEvent): void
  listeners: Set<(e: DashboardEvent) => void>
} {
  const listeners = new Set<(e: DashboardEvent) => void>()
  return {
    listeners,
    push: (e) => {
      for (const l of listeners) l(e)
    },
    startedMs: 1_700_000_000_000,
    articles: () => ['net.bitwrk/rays/0'],
    market: async (article) => ({
      article,
      liveDigest: '00',
      depth: { buys: [{ price: 'mBTC 2', units: '200000', count: 3 }], sells: [] },
      matches: [],
      epochs: []
    }),
    images: () => [],
    imagePng: async () => undefined,
    metrics: async () => ({
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      text: '# TYPE bitwrk_x gauge\n'
    }),
    revisions: async () => ({ 'book:net.bitwrk/rays/0': '00' }),
    subscribe: (l) => {
      listeners.add(l)
      return () => listeners.delete(l)
    }
  }
}

interface Fixture {
  server: ApiServer
  dashboard: ReturnType<typeof fakeDashboard>
  url: string
  stop(): Promise<void>
}

async function start(options: Partial<ApiServerOptions> = {}): Promise<Fixture> {
  const kv: KvController = createMemoryController()
  const { book: mandates } = await MandateBook.open(kv)
  const workers = new WorkerPool({ mandates })
  const dashboard = fakeDashboard()
  const server = new ApiServer({
    facade: { ...createTestFacade({ workers }), dashboard },
    mandates,
    workers,
    host: '127.0.0.1',
    port: 0,
    eventHeartbeatMs: 40,
    eventSampleMs: 20,
    ...options
  })
  await server.start()
  return {
    server,
    dashboard,
    url: server.url,
    stop: async () => {
      await server.stop()
      workers.stop()
      await kv.close()
    }
  }
}

/** Reads an event stream; `until` resolves once the text read so far matches (deadline). */
function stream(res: Response): {
  until(re: RegExp, ms?: number): Promise<string>
  ended(ms?: number): Promise<void>
} {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader()
  const dec = new TextDecoder()
  let text = ''
  let done = false
  const next = async (deadline: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`stream: no data in time; got ${text.slice(-300)}`)),
        deadline - Date.now()
      )
    })
    try {
      const r = await Promise.race([reader.read(), timeout])
      if (r.done) done = true
      else text += dec.decode(r.value, { stream: true })
    } finally {
      clearTimeout(timer)
    }
  }
  return {
    async until(re, ms = 5_000) {
      const deadline = Date.now() + ms
      while (!re.test(text)) {
        if (done) throw new Error(`stream ended before ${re}`)
        await next(deadline)
      }
      return text
    },
    async ended(ms = 5_000) {
      const deadline = Date.now() + ms
      while (!done) await next(deadline)
    }
  }
}

describe('node/api/dashboard', () => {
  let fx: Fixture | undefined
  afterEach(async () => {
    await fx?.stop()
    fx = undefined
  })

  it('serves the page with the CSP, a versioned script and an ETag that answers 304', async () => {
    fx = await start()
    const r = await fetch(`${fx.url}/`, { signal: AbortSignal.timeout(5_000) })
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('content-security-policy'), DASHBOARD_CSP)
    assert.match(DASHBOARD_CSP, /^default-src 'self'/)
    const html = await r.text()
    assert.ok(html.includes(`/dashboard/app.js?v=${DASHBOARD_VERSION}`))
    assert.ok(!/https?:\/\/(?!www\.w3\.org)/.test(html), 'no absolute URL in the page')
    const etag = r.headers.get('etag') as string
    const again = await fetch(`${fx.url}/`, {
      headers: { 'if-none-match': etag },
      signal: AbortSignal.timeout(5_000)
    })
    assert.equal(again.status, 304)
    for (const p of ['/dashboard/app.js', '/dashboard/app.css', '/dashboard/icon.svg']) {
      const a: Response = await fetch(`${fx.url}${p}`, { signal: AbortSignal.timeout(5_000) })
      assert.equal(a.status, 200, p)
      assert.ok(a.headers.get('etag'))
      await a.arrayBuffer()
    }
    const missing = await fetch(`${fx.url}/dashboard/nope.js`, { signal: AbortSignal.timeout(5_000) })
    assert.equal(((await missing.json()) as { code: string }).code, 'API_NOT_FOUND')
  })

  it('answers dashboard routes to loopback peers only', async () => {
    fx = await start({ peerAddress: () => '10.1.2.3' })
    for (const p of [
      '/',
      '/api/v1/events',
      '/api/v1/dashboard',
      '/metrics',
      '/api/v1/market/net.bitwrk/rays/0'
    ]) {
      const r: Response = await fetch(`${fx.url}${p}`, { signal: AbortSignal.timeout(5_000) })
      assert.equal(r.status, 403, p)
      assert.equal(((await r.json()) as { code: string }).code, 'API_FORBIDDEN')
    }
  })

  it('streams hello, pushed market events, sampled panel changes and heartbeats', async () => {
    fx = await start()
    const f = fx
    const res = await fetch(`${f.url}/api/v1/events`, { signal: AbortSignal.timeout(10_000) })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/)
    const s = stream(res)
    await s.until(/event: hello\ndata: \{"clients":1,"maxClients":16\}\n\n/)
    assert.equal(f.dashboard.listeners.size, 1)
    f.dashboard.push({ type: 'match', data: { article: 'net.bitwrk/rays/0', txid: 'aa' } })
    await s.until(/event: match\ndata: \{"article":"net.bitwrk\/rays\/0","txid":"aa"\}/)
    await s.until(/: heartbeat \d+\n\n/)
    // a change made through the API is announced by the sampler
    const grant = await fetch(`${f.url}/api/v1/mandates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ article: 'net.bitwrk/rays/0', side: 'BUY', price: 'mBTC 1', trades: 1 }),
      signal: AbortSignal.timeout(5_000)
    })
    assert.equal(grant.status, 201)
    await s.until(/event: mandates\n/)
    const info = (await (await fetch(`${f.url}/api/v1/dashboard`)).json()) as Record<string, unknown>
    assert.deepEqual(info['events'], { clients: 1, maxClients: 16 })
    assert.equal(info['tokenRequired'], false)
  })

  it('bounds the streams with API_CONFLICT and frees a slot when a client leaves', async () => {
    fx = await start({ maxEventClients: 2 })
    const f = fx
    const ctl = new AbortController()
    const a = await fetch(`${f.url}/api/v1/events`, { signal: ctl.signal })
    await stream(a).until(/event: hello/)
    const b = await fetch(`${f.url}/api/v1/events`, { signal: AbortSignal.timeout(10_000) })
    await stream(b).until(/event: hello/)
    const c = await fetch(`${f.url}/api/v1/events`, { signal: AbortSignal.timeout(5_000) })
    assert.equal(c.status, 409)
    assert.equal(((await c.json()) as { code: string }).code, 'API_CONFLICT')
    ctl.abort()
    // the server sees the close asynchronously: wait for it (each turn yields to I/O)
    const deadline = Date.now() + 5_000
    while (f.server.events.size >= 2) {
      assert.ok(Date.now() < deadline, 'slot not freed')
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    const d = await fetch(`${f.url}/api/v1/events`, { signal: AbortSignal.timeout(10_000) })
    assert.equal(d.status, 200)
    await stream(d).until(/event: hello/)
  })

  it('ends every stream on stop and drops its subscription', async () => {
    fx = await start()
    const f = fx
    const res = await fetch(`${f.url}/api/v1/events`, { signal: AbortSignal.timeout(10_000) })
    const s = stream(res)
    await s.until(/event: hello/)
    await f.stop()
    fx = undefined
    await s.ended()
    assert.equal(f.server.events.size, 0)
    assert.equal(f.dashboard.listeners.size, 0)
  })

  it('takes mandate changes from the page only with the token cookie when a token is required', async () => {
    fx = await start({ requireToken: true, token: TOKEN })
    const f = fx
    const info = (await (await fetch(`${f.url}/api/v1/dashboard`)).json()) as Record<string, unknown>
    assert.equal(info['tokenRequired'], true)
    const body = JSON.stringify({ article: 'net.bitwrk/rays/0', side: 'SELL', price: 'mBTC 1', trades: 2 })
    const headers = { 'content-type': 'application/json', origin: f.url, 'sec-fetch-site': 'same-origin' }
    // API-3: the page hands the token to the server once; it comes back as an HttpOnly cookie
    const session = await fetch(`${f.url}/api/v1/session`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ token: TOKEN })
    })
    assert.equal(session.status, 200)
    const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0] as string
    assert.equal(cookie, `bitwrk_token_${new URL(f.url).port}=${TOKEN}`)
    const refused = await fetch(`${f.url}/api/v1/mandates`, { method: 'POST', headers, body })
    assert.equal(refused.status, 401)
    assert.equal(((await refused.json()) as { code: string }).code, 'API_UNAUTHORIZED')
    const ok = await fetch(`${f.url}/api/v1/mandates`, {
      method: 'POST',
      headers: { ...headers, cookie },
      body
    })
    assert.equal(ok.status, 201)
    const { id } = (await ok.json()) as { id: number }
    const revokeRefused = await fetch(`${f.url}/api/v1/mandates/${id}`, { method: 'DELETE', headers })
    assert.equal(revokeRefused.status, 401)
    await revokeRefused.arrayBuffer()
    const revoked = await fetch(`${f.url}/api/v1/mandates/${id}`, {
      method: 'DELETE',
      headers: { ...headers, cookie }
    })
    assert.equal(revoked.status, 200)
    await revoked.arrayBuffer()
  })

  it('serves the market view of followed articles only, and the metrics text', async () => {
    fx = await start()
    const m = await fetch(`${fx.url}/api/v1/market/net.bitwrk/rays/0`)
    assert.equal(((await m.json()) as { depth: { buys: unknown[] } }).depth.buys.length, 1)
    const other = await fetch(`${fx.url}/api/v1/market/net.bitwrk/other/0`)
    assert.equal(other.status, 404)
    await other.arrayBuffer()
    const bad = await fetch(`${fx.url}/api/v1/market/bad%20article`)
    assert.equal(((await bad.json()) as { code: string }).code, 'API_BAD_REQUEST')
    const metrics = await fetch(`${fx.url}/metrics`)
    assert.match(await metrics.text(), /^# TYPE bitwrk_x gauge/)
    const img = await fetch(`${fx.url}/api/v1/demo/images/0123456789abcdef.png`)
    assert.equal(img.status, 404)
    await img.arrayBuffer()
  })
})
