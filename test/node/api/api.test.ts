import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ApiServer } from '../../../node/api/server.js'
import { waitFor } from '../../../node/testing.js'
import { type ApiFixture, call, errorOf, multipart, startApi } from './helpers.js'

const ART = 'net.bitwrk/gorays/0'
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
const reversed = (b: Uint8Array): Buffer => Buffer.from(Uint8Array.from(b).reverse())

async function grantBuy(f: ApiFixture, extra: Record<string, unknown> = {}): Promise<Response> {
  return call(`${f.url}/api/v1/mandates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ article: ART, side: 'BUY', price: 'mBTC 1', trades: 10, ...extra })
  })
}

describe('node/api server', () => {
  let f: ApiFixture
  beforeEach(async () => {
    f = await startApi()
  })
  afterEach(async () => {
    await f.stop()
  })

  it('answers /id, /version and /myip like the original client', async () => {
    assert.equal(await (await call(`${f.url}/id`)).text(), 'BitWrk Go Client')
    assert.match(await (await call(`${f.url}/version`)).text(), /^\d+\.\d+\.\d+$/)
    assert.match(await (await call(`${f.url}/myip`)).text(), /^(127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]):\d+$/)
  })

  it('buys with a raw body: 303 to /file/<sha256>, which serves the result', async () => {
    assert.equal((await grantBuy(f)).status, 201)
    const work = Buffer.from('hello work data')
    const res = await call(`${f.url}/buy/${ART}`, { method: 'POST', body: new Uint8Array(work) })
    assert.equal(res.status, 303)
    const loc = res.headers.get('location') ?? ''
    assert.equal(loc, `/file/${sha(reversed(work))}`)
    const file = await call(`${f.url}${loc}`)
    assert.equal(file.status, 200)
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), reversed(work))
    assert.equal(f.facade.buys.length, 1)
    assert.equal(f.facade.buys[0]?.workKey, sha(work))
    assert.equal(f.facade.buys[0]?.price, 'mBTC 1')
  })

  it('buys with a multipart field data, ignoring other fields', async () => {
    await grantBuy(f)
    const work = Buffer.alloc(300_000, 7)
    work.write('unique start')
    const mp = multipart([
      ['other', 'x'],
      ['data', work]
    ])
    const res = await call(`${f.url}/buy/${ART}`, {
      method: 'POST',
      headers: { 'content-type': mp.contentType },
      body: mp.body
    })
    assert.equal(res.status, 303)
    assert.equal(f.facade.buys[0]?.workKey, sha(work))
    const file = await call(`${f.url}${res.headers.get('location')}`)
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), reversed(work))
  })

  it('matches the multipart test vector of local-api.md', async () => {
    await grantBuy(f)
    const body =
      '--XyZ-boundary-123\r\nContent-Disposition: form-data; name="data"\r\n\r\nabc\r\n--XyZ-boundary-123--\r\n'
    const res = await call(`${f.url}/buy/${ART}`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=XyZ-boundary-123' },
      body
    })
    assert.equal(res.status, 303)
    assert.equal(
      f.facade.buys[0]?.workKey,
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    )
  })

  it('accepts a chunked upload', async () => {
    await grantBuy(f)
    const parts = [Buffer.from('a'.repeat(70_000)), Buffer.from('b'.repeat(90_000))]
    const status = await new Promise<{ status: number; location: string }>((resolve, reject) => {
      const req = request(`${f.url}/buy/${ART}`, { method: 'POST' }, (res) => {
        res.resume()
        resolve({ status: res.statusCode ?? 0, location: String(res.headers.location) })
      })
      req.on('error', reject)
      req.write(parts[0])
      setImmediate(() => req.end(parts[1]))
    })
    assert.equal(status.status, 303)
    assert.equal(f.facade.buys[0]?.workKey, sha(Buffer.concat(parts)))
  })

  it('refuses a buy without a mandate and creates nothing', async () => {
    const res = await call(`${f.url}/buy/${ART}`, { method: 'POST', body: 'work' })
    assert.deepEqual(await errorOf(res), { status: 403, code: 'API_NO_MANDATE', detail: 'MANDATE_NOT_FOUND' })
    assert.equal(f.facade.buys.length, 0)
    assert.equal(f.facade.storeStats().chunks, 0)
    assert.deepEqual(await (await call(`${f.url}/api/v1/activities`)).json(), [])
  })

  it('answers Expect: 100-continue only after the mandate check', async () => {
    const attempt = (): Promise<{ status: number; continued: boolean }> =>
      new Promise((resolve, reject) => {
        let continued = false
        const req = request(`${f.url}/buy/${ART}`, {
          method: 'POST',
          headers: { expect: '100-continue', 'content-length': '4' }
        })
        req.on('continue', () => {
          continued = true
          req.end('work')
        })
        req.on('response', (res) => {
          res.resume()
          res.on('end', () => resolve({ status: res.statusCode ?? 0, continued }))
        })
        req.on('error', reject)
        req.flushHeaders()
      })
    assert.deepEqual(await attempt(), { status: 403, continued: false })
    await grantBuy(f)
    assert.deepEqual(await attempt(), { status: 303, continued: true })
  })

  it('refuses a buy above the mandate price or with a SELL-only mandate', async () => {
    await grantBuy(f)
    const res = await call(`${f.url}/buy/${ART}?price=mBTC%202`, { method: 'POST', body: 'w' })
    assert.deepEqual(await errorOf(res), {
      status: 403,
      code: 'API_NO_MANDATE',
      detail: 'MANDATE_PRICE_LIMIT'
    })
    const ok = await call(`${f.url}/buy/${ART}?price=mBTC%200.5`, { method: 'POST', body: 'w' })
    assert.equal(ok.status, 303)
    assert.equal(f.facade.buys[0]?.price, 'uBTC 500')
    const other = await call(`${f.url}/buy/net.bitwrk/other`, { method: 'POST', body: 'w' })
    assert.equal((await errorOf(other)).detail, 'MANDATE_NOT_FOUND')
  })

  it('consumes one mandate trade per buy and deletes the mandate after its last', async () => {
    await grantBuy(f, { trades: 2 })
    for (let i = 0; i < 2; i++)
      assert.equal((await call(`${f.url}/buy/${ART}`, { method: 'POST', body: `w${i}` })).status, 303)
    assert.deepEqual(await (await call(`${f.url}/api/v1/mandates`)).json(), [])
    const res = await call(`${f.url}/buy/${ART}`, { method: 'POST', body: 'w3' })
    assert.equal((await errorOf(res)).code, 'API_NO_MANDATE')
  })

  it('answers 4xx with codes for bad buys', async () => {
    await grantBuy(f)
    const cases: [string, RequestInit, number, string, string?][] = [
      ['/buy/bad%20article', { method: 'POST', body: 'x' }, 400, 'API_BAD_REQUEST', 'ARTICLE_BAD_CHARACTER'],
      [`/buy/${ART}?price=lots`, { method: 'POST', body: 'x' }, 400, 'API_BAD_REQUEST', 'MONEY_BAD_FORMAT'],
      [`/buy/${ART}`, { method: 'GET' }, 405, 'API_METHOD_NOT_ALLOWED'],
      [
        `/buy/${ART}`,
        { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'x' },
        400,
        'API_BAD_REQUEST'
      ],
      [
        `/buy/${ART}`,
        {
          method: 'POST',
          headers: { 'content-type': 'multipart/form-data; boundary=b' },
          body: '--b\r\n\r\nx'
        },
        400,
        'API_BAD_REQUEST'
      ],
      [
        `/buy/${ART}`,
        {
          method: 'POST',
          ...(() => {
            const m = multipart([['nodata', 'x']])
            return { headers: { 'content-type': m.contentType }, body: m.body }
          })()
        },
        400,
        'API_BAD_REQUEST'
      ],
      [
        `/buy/${ART}`,
        {
          method: 'POST',
          ...(() => {
            const m = multipart([
              ['data', 'x'],
              ['data', 'y']
            ])
            return { headers: { 'content-type': m.contentType }, body: m.body }
          })()
        },
        400,
        'API_BAD_REQUEST'
      ]
    ]
    for (const [path, init, status, code, detail] of cases) {
      const e = await errorOf(await call(`${f.url}${path}`, init))
      assert.equal(e.status, status, path)
      assert.equal(e.code, code, path)
      if (detail !== undefined) assert.equal(e.detail, detail, path)
    }
    assert.equal(f.facade.buys.length, 0)
    assert.equal(f.mandates.list()[0]?.tradesLeft, 10)
  })

  it('refuses bodies over the limit with API_TOO_LARGE and uses no mandate', async () => {
    await f.stop()
    f = await startApi({ server: { maxBodyBytes: 1000 } })
    await grantBuy(f)
    const declared = await call(`${f.url}/buy/${ART}`, { method: 'POST', body: new Uint8Array(2000) })
    assert.deepEqual(await errorOf(declared), { status: 413, code: 'API_TOO_LARGE' })
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${f.url}/buy/${ART}`, { method: 'POST' }, (res) => {
        let body = ''
        res.on('data', (c: Buffer) => {
          body += c.toString()
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.write(Buffer.alloc(800))
      setImmediate(() => req.end(Buffer.alloc(800)))
    })
    assert.equal(chunked.status, 413)
    assert.equal(JSON.parse(chunked.body).code, 'API_TOO_LARGE')
    assert.equal(f.facade.buys.length, 0)
    assert.equal(f.mandates.list()[0]?.tradesLeft, 10)
  })

  it('serves 404 for unknown files and routes', async () => {
    assert.deepEqual(await errorOf(await call(`${f.url}/file/${'0'.repeat(64)}`)), {
      status: 404,
      code: 'API_NOT_FOUND'
    })
    assert.deepEqual(await errorOf(await call(`${f.url}/file/xyz`)), { status: 404, code: 'API_NOT_FOUND' })
    assert.deepEqual(await errorOf(await call(`${f.url}/nothing`)), { status: 404, code: 'API_NOT_FOUND' })
    assert.deepEqual(await errorOf(await call(`${f.url}/%zz`)), { status: 400, code: 'API_BAD_REQUEST' })
  })

  it('lists identity, peers, book, activities, transactions, workers and store figures', async () => {
    const id = (await (await call(`${f.url}/api/v1/identity`)).json()) as Record<string, unknown>
    assert.equal(id['address'], '1C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq8')
    assert.equal(id['version'], '0.1.0')
    assert.equal(((await (await call(`${f.url}/api/v1/peers`)).json()) as unknown[]).length, 1)
    assert.deepEqual(await (await call(`${f.url}/api/v1/book/${ART}`)).json(), {
      article: ART,
      buys: [],
      sells: []
    })
    assert.equal((await errorOf(await call(`${f.url}/api/v1/book/a//b`))).detail, 'ARTICLE_BAD_SEGMENT')
    assert.deepEqual(await (await call(`${f.url}/api/v1/transactions`)).json(), [])
    assert.deepEqual(await (await call(`${f.url}/api/v1/workers`)).json(), [])
    await grantBuy(f)
    await call(`${f.url}/buy/${ART}`, { method: 'POST', body: 'abc' })
    const acts = (await (await call(`${f.url}/api/v1/activities`)).json()) as {
      phase: string
      side: string
    }[]
    assert.equal(acts.length, 1)
    assert.equal(acts[0]?.phase, 'FINISHED')
    const store = (await (await call(`${f.url}/api/v1/store`)).json()) as Record<string, unknown>
    assert.equal(store['chunks'], 2)
    assert.equal(store['budgetBytes'], null)
  })

  it('grants, lists and revokes mandates with 4xx codes for bad input', async () => {
    const res = await grantBuy(f, { validMinutes: 20 })
    assert.equal(res.status, 201)
    const m = (await res.json()) as { id: number; tradesLeft: number; expiresMs: number; price: string }
    assert.equal(m.tradesLeft, 10)
    assert.equal(m.price, 'mBTC 1')
    assert.ok(m.expiresMs > Date.now())
    const list = (await (await call(`${f.url}/api/v1/mandates`)).json()) as { id: number }[]
    assert.deepEqual(
      list.map((x) => x.id),
      [m.id]
    )
    const bad: [RequestInit, number, string, string?][] = [
      [{ method: 'POST', body: '{}' }, 415, 'API_UNSUPPORTED_MEDIA_TYPE'],
      [
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' },
        400,
        'API_BAD_REQUEST'
      ],
      [
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1]' },
        400,
        'API_BAD_REQUEST'
      ],
      [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ article: ART, side: 'HOLD', price: 'mBTC 1' })
        },
        400,
        'API_BAD_REQUEST',
        'MANDATE_INVALID'
      ],
      [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ article: ART, side: 'BUY', price: 'mBTC -1' })
        },
        400,
        'API_BAD_REQUEST',
        'MANDATE_INVALID'
      ],
      [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ article: ART, side: 'BUY', price: 'mBTC 1', trades: 0 })
        },
        400,
        'API_BAD_REQUEST',
        'MANDATE_INVALID'
      ],
      [
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(20_000) },
        413,
        'API_TOO_LARGE'
      ]
    ]
    for (const [init, status, code, detail] of bad) {
      const e = await errorOf(await call(`${f.url}/api/v1/mandates`, init))
      assert.equal(e.status, status, String(init.body).slice(0, 40))
      assert.equal(e.code, code)
      if (detail !== undefined) assert.equal(e.detail, detail)
    }
    assert.equal(f.mandates.list().length, 1)
    assert.equal(
      (await errorOf(await call(`${f.url}/api/v1/mandates/999`, { method: 'DELETE' }))).detail,
      'MANDATE_UNKNOWN'
    )
    assert.equal(
      (await errorOf(await call(`${f.url}/api/v1/mandates/abc`, { method: 'DELETE' }))).code,
      'API_NOT_FOUND'
    )
    assert.equal((await call(`${f.url}/api/v1/mandates/${m.id}`, { method: 'DELETE' })).status, 200)
    assert.deepEqual(await (await call(`${f.url}/api/v1/mandates`)).json(), [])
  })

  it('refuses loopback-only routes to other peers, and foreign Host or Origin headers', async () => {
    await f.stop()
    f = await startApi({ peerAddress: () => '192.168.1.7' })
    for (const path of ['/api/v1/identity', '/api/v1/mandates', '/api/v1/workers'])
      assert.deepEqual(await errorOf(await call(`${f.url}${path}`)), { status: 403, code: 'API_FORBIDDEN' })
    assert.equal(
      (await errorOf(await call(`${f.url}/buy/${ART}`, { method: 'POST', body: 'x' }))).code,
      'API_FORBIDDEN'
    )
    // Routes open to any peer in the original stay open.
    assert.equal((await call(`${f.url}/id`)).status, 200)
    await f.stop()
    f = await startApi()
    const rebinding = await new Promise<number>((resolve, reject) => {
      const req = request(`${f.url}/id`, { headers: { host: 'evil.example:8081' } }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      req.end()
    })
    assert.equal(rebinding, 403)
    const cross = await call(`${f.url}/api/v1/mandates`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ article: ART, side: 'BUY', price: 'mBTC 1' })
    })
    assert.deepEqual(await errorOf(cross), {
      status: 403,
      code: 'API_FORBIDDEN',
      detail: 'API_FOREIGN_ORIGIN'
    })
    // An <img> or link to the quirky GET registration carries no Origin, but Sec-Fetch-Site.
    const img = await call(`${f.url}/registerworker?id=w&article=${ART}&pushurl=http://127.0.0.1:1/`, {
      headers: { 'sec-fetch-site': 'cross-site' }
    })
    assert.deepEqual(await errorOf(img), { status: 403, code: 'API_FORBIDDEN', detail: 'API_CROSS_SITE' })
    assert.equal(f.workers.list().length, 0)
    assert.equal(f.mandates.list().length, 0)
  })
})

describe('node/api token', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bitwrk-api-'))
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('writes a 0600 cookie file and requires its token for every state-changing request', async () => {
    const f = await startApi({ server: { requireToken: true, dataDir: dir } })
    try {
      const path = f.server.cookieFile ?? ''
      assert.equal(path, join(dir, '.cookie'))
      assert.equal((await stat(path)).mode & 0o777, 0o600)
      const token = (await readFile(path, 'utf8')).trim()
      assert.match(token, /^[0-9a-f]{64}$/)
      const grant = (headers: Record<string, string>): Promise<Response> =>
        call(`${f.url}/api/v1/mandates`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ article: ART, side: 'BUY', price: 'mBTC 1' })
        })
      assert.deepEqual(await errorOf(await grant({})), { status: 401, code: 'API_UNAUTHORIZED' })
      assert.equal(
        (await errorOf(await grant({ authorization: `Bearer ${'0'.repeat(64)}` }))).code,
        'API_UNAUTHORIZED'
      )
      assert.equal(
        (await errorOf(await call(`${f.url}/registerworker?id=w&article=${ART}&pushurl=http://127.0.0.1:1/`)))
          .code,
        'API_UNAUTHORIZED'
      )
      assert.equal(
        (await errorOf(await call(`${f.url}/buy/${ART}`, { method: 'POST', body: 'x' }))).code,
        'API_UNAUTHORIZED'
      )
      assert.equal(f.mandates.list().length, 0)
      assert.equal(f.workers.list().length, 0)
      // Reads stay open; the token works as bearer or as cookie.
      assert.equal((await call(`${f.url}/api/v1/mandates`)).status, 200)
      assert.equal((await grant({ authorization: `Bearer ${token}` })).status, 201)
      const cookieName = `bitwrk_token_${new URL(f.url).port}`
      assert.equal((await grant({ cookie: `other=1; ${cookieName}=${token}` })).status, 201)
      assert.equal(f.mandates.list().length, 2)
      // API-3: the cookie is per port (browsers share cookies between the ports of a host)
      assert.equal(
        (await errorOf(await grant({ cookie: `bitwrk_token_1=${token}` }))).code,
        'API_UNAUTHORIZED'
      )
      // the server sets it HttpOnly and SameSite=Strict after checking it; page script never holds it
      const session = (body: unknown): Promise<Response> =>
        call(`${f.url}/api/v1/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body)
        })
      assert.deepEqual(await errorOf(await session({ token: '0'.repeat(64) })), {
        status: 401,
        code: 'API_UNAUTHORIZED'
      })
      const ok = await session({ token })
      assert.equal(ok.status, 200)
      assert.equal(ok.headers.get('set-cookie'), `${cookieName}=${token}; Path=/; HttpOnly; SameSite=Strict`)
      const dash = (await (
        await call(`${f.url}/api/v1/dashboard`, { headers: { cookie: `${cookieName}=${token}` } })
      ).json()) as { tokenRequired: boolean; session: boolean }
      assert.deepEqual([dash.tokenRequired, dash.session], [true, true])
      assert.equal(
        ((await (await call(`${f.url}/api/v1/dashboard`)).json()) as { session: boolean }).session,
        false
      )
      assert.equal(f.mandates.list().length, 2)
    } finally {
      await f.stop()
    }
    await assert.rejects(stat(join(dir, '.cookie')), { code: 'ENOENT' })
  })

  it('lets original workers register without the token when the operator opens the worker endpoints', async () => {
    const f = await startApi({
      server: { requireToken: true, token: 'ab'.repeat(32), openWorkerEndpoints: true }
    })
    try {
      const res = await call(`${f.url}/registerworker?id=w1&article=${ART}&pushurl=http://127.0.0.1:9/work`)
      assert.equal(res.status, 200)
      const mandate = await call(`${f.url}/api/v1/mandates`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}'
      })
      assert.equal((await errorOf(mandate)).code, 'API_UNAUTHORIZED')
    } finally {
      await f.stop()
    }
  })

  it('refuses to start without a place for the token', async () => {
    const s = new ApiServer({
      ...(await startApi().then(async (f) => {
        await f.stop()
        return { facade: f.facade, mandates: f.mandates, workers: f.workers }
      })),
      host: '127.0.0.1',
      port: 0,
      requireToken: true
    })
    await assert.rejects(s.start(), { code: 'API_INTERNAL' })
    await s.stop()
  })
})

describe('node/api stop', () => {
  it('ends a stalled upload so that stop() returns', async () => {
    const f = await startApi()
    await grantBuy(f)
    const closed = new Promise<string>((resolve) => {
      const req = request(`${f.url}/buy/${ART}`, { method: 'POST' }, (res) => {
        res.resume()
        res.on('end', () => resolve(`status ${res.statusCode}`))
        res.on('error', () => resolve('closed'))
      })
      req.on('error', () => resolve('closed'))
      req.write(Buffer.alloc(1000, 1))
    })
    await waitFor(() => f.server.activeRequests === 1, {
      timeoutMs: 5000,
      intervalMs: 0,
      what: 'upload to start'
    })
    await f.stop()
    assert.equal(await closed, 'closed')
    assert.equal(f.facade.buys.length, 0)
  })

  it('aborts a running buy and closes connections', async () => {
    let started = false
    let release: (() => void) | undefined
    const f = await startApi({
      facade: {
        compute: (_a, _w, signal) =>
          new Promise((resolve, reject) => {
            started = true
            release = () => resolve(new Uint8Array(0))
            signal.addEventListener('abort', () => reject(signal.reason))
          })
      }
    })
    await grantBuy(f)
    const pending = call(`${f.url}/buy/${ART}`, { method: 'POST', body: 'x' }).then(
      (r) => r.status,
      () => 'closed'
    )
    await waitFor(() => started, { timeoutMs: 5000, intervalMs: 0, what: 'buy to start' })
    await f.stop()
    const outcome = await pending
    assert.ok(outcome === 503 || outcome === 'closed', String(outcome))
    release?.()
    await f.stop()
  })
})
