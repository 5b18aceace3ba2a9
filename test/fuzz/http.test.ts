import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { Agent } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { ApiCode } from '../../node/api/errors.js'
import { type Daemon, startDaemon } from '../../node/daemon/index.js'
import { money } from '../../protocol/money/index.js'
import { type ApiFixture, multipart, startApi } from '../node/api/helpers.js'
import { sendRaw } from '../support/http.js'
import { codesOf, FUZZ, hostileBytes, Tally, trackUnhandled } from './helpers.js'

const ART = 'net.bitwrk/gorays/0'

/** Paths around every route: the exact ones, and mutated (segments, escapes, queries). */
function hostilePath(routes: readonly string[]): fc.Arbitrary<string> {
  const mutated = fc
    .tuple(
      fc.constantFrom(...routes),
      fc.nat(),
      fc.constantFrom('', '/', '//', '..', '%00', '%2F', '%zz', '?', '#', 'x', 'é')
    )
    .map(([r, i, s]) => {
      const at = i % (r.length + 1)
      return `${r.slice(0, at)}${s}${r.slice(at)}`.replace(/^([^/])/, '/$1')
    })
  const query = fc.stringMatching(/^[a-z=&%0-9.:/+ -]{0,40}$/).map((q) => `?${encodeURI(q)}`)
  return fc
    .tuple(fc.oneof(fc.constantFrom(...routes), mutated), fc.option(query, { nil: undefined }))
    .map(([p, q]) => `${p}${q ?? ''}`)
}

const METHODS = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD')

/**
 * The local API in its default loopback mode (no token: every request is authorized, so the
 * mutations reach the handlers) and the daemon's status API: every answer is a success or a
 * `{code, message}` error with a documented code, and a refused request changes nothing.
 */
describe('hostile input: HTTP APIs', function () {
  this.timeout(60_000)
  const unhandled = trackUnhandled()
  after(() => {
    assert.deepEqual(unhandled.stop(), [], 'no unhandled rejection or uncaught exception')
  })

  describe('node/api (loopback mode)', () => {
    let f: ApiFixture
    let agent: Agent
    before(async () => {
      f = await startApi()
      await f.mandates.grant({ article: ART, side: 'BUY', price: 'mBTC 1', trades: 5 }, Date.now())
      f.workers.register({ id: 'w0', article: ART, pushUrl: 'http://127.0.0.1:9/work' })
      agent = new Agent({ keepAlive: true, maxSockets: 4 })
    })
    after(async () => {
      agent.destroy()
      await f.stop()
    })

    /** The server's state from the outside (chunks of a refused upload may stay as evictable cache, API-7). */
    const snapshot = () =>
      JSON.stringify({
        mandates: f.mandates.list().map((m) => [m.id, m.tradesLeft]),
        workers: f.workers.list().map((w) => [w.id, w.state, w.pushUrl]),
        buys: f.facade.buys.length
      })

    it('1,000 mutated requests on every route: documented codes, never API_INTERNAL, a refusal changes nothing', async () => {
      const codes = codesOf(ApiCode)
      const routes = [
        '/id',
        '/version',
        '/myip',
        `/buy/${ART}`,
        `/buy/${ART}?price=mBTC%201`,
        `/file/${'ab'.repeat(32)}`,
        '/registerworker',
        '/unregisterworker',
        '/api/v1/identity',
        '/api/v1/peers',
        `/api/v1/book/${ART}`,
        '/api/v1/activities',
        '/api/v1/transactions',
        '/api/v1/mandates',
        '/api/v1/mandates/1',
        '/api/v1/workers',
        '/api/v1/store'
      ]
      const enc = (s: string) => new Uint8Array(Buffer.from(s))
      const bodies = [
        enc(JSON.stringify({ article: ART, side: 'BUY', price: 'mBTC 1', trades: 2, validMinutes: 5 })),
        enc(JSON.stringify({ article: ART, side: 'SELL', price: 'BTC 0.001', trades: 1 })),
        enc(`id=w1&article=${ART}&pushurl=http://127.0.0.1:9/work`),
        enc('id=w0'),
        multipart([['data', 'some work']]).body
      ]
      const headers = fc.record(
        {
          'content-type': fc.constantFrom(
            'application/json',
            'application/json; charset=utf-8',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=XyZ-boundary-123',
            'multipart/form-data; boundary=',
            'text/plain',
            'application/octet-stream',
            '*/*'
          ),
          origin: fc.constantFrom('http://127.0.0.1', 'https://evil.example', 'null'),
          host: fc.constantFrom('127.0.0.1', 'localhost', 'evil.example', '127.0.0.1:1')
        },
        { requiredKeys: [] }
      )
      const t = new Tally()
      await fc.assert(
        fc.asyncProperty(
          METHODS,
          hostilePath(routes),
          headers,
          hostileBytes(bodies, 200),
          async (m, p, h, b) => {
            const before = snapshot()
            const res = await sendRaw(
              f.url,
              agent,
              m,
              p,
              h,
              m === 'GET' || m === 'HEAD' ? new Uint8Array(0) : b
            )
            if (res.status >= 400) {
              // API-7: a refusal (4xx) changes nothing; a buy accepted and failed later (500
              // API_BUY_FAILED) has taken its mandate trade, as the spec says
              if (res.status < 500)
                assert.equal(snapshot(), before, `${m} ${p} -> ${res.status} changed the state`)
              if (m === 'HEAD') return t.add('HEAD')
              assert.match(res.contentType, /^application\/json/)
              const e = JSON.parse(res.body) as { code: unknown; message: unknown }
              assert.ok(typeof e.code === 'string' && codes.has(e.code), `${m} ${p} -> ${res.body}`)
              assert.equal(typeof e.message, 'string')
              t.add(e.code)
            } else t.add(m === 'GET' || m === 'HEAD' ? 'read' : 'changed')
          }
        ),
        FUZZ
      )
      assert.ok(t.codes() >= 5 && (t.counts.get('read') ?? 0) > 0, t.toString())
    })
  })

  describe("the daemon's one HTTP listener (status, peers, epochs)", () => {
    let daemon: Daemon
    let dir: string
    let agent: Agent
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'bitwrk-fuzz-daemon-'))
      daemon = await startDaemon({ dataDir: dir, apiPort: 0, articles: [ART] })
      await daemon.node.placeBid({ article: ART, side: 'SELL', price: money('BTC', 500n) })
      agent = new Agent({ keepAlive: true, maxSockets: 4 })
    })
    after(async () => {
      agent.destroy()
      await daemon.stop()
      await rm(dir, { recursive: true, force: true })
    })

    it('answers malformed request targets and oversized bodies with an API_* code, not a 500', async () => {
      for (const [m, p, body, want] of [
        ['GET', '//', 0, ApiCode.BAD_REQUEST],
        ['GET', '///api/v1/status', 0, ApiCode.NOT_FOUND],
        ['GET', '/api/v1/epochs/%zz', 0, ApiCode.BAD_REQUEST],
        // the hand-placed bid of the old control port is gone: nothing signs without a mandate
        ['POST', '/api/v1/bids', 64 * 1024, ApiCode.NOT_FOUND],
        ['POST', '/api/v1/mandates', 64 * 1024, ApiCode.TOO_LARGE]
      ] as const) {
        const headers: Record<string, string> = m === 'POST' ? { 'content-type': 'application/json' } : {}
        const res = await sendRaw(daemon.info.apiUrl, agent, m, p, headers, new Uint8Array(body).fill(0x20))
        assert.equal(
          (JSON.parse(res.body) as { code: string }).code,
          want,
          `${m} ${p} -> ${res.status} ${res.body}`
        )
        assert.ok(res.status >= 400 && res.status < 500)
      }
    })

    it('1,000 mutated requests: 200 JSON or an API_* code, the node unchanged', async () => {
      const codes = codesOf(ApiCode)
      const node = daemon.node
      const state = async () =>
        JSON.stringify({
          book: node.book.liveDigest(ART),
          articles: node.articles(),
          transactions: [...node.market.txs.phaseCounts()]
        })
      const before = await state()
      const t = new Tally()
      const routes = [
        '/api/v1/status',
        '/api/v1/peers',
        `/api/v1/epochs/${ART}:BTC`,
        '/api/v1/bids',
        `/api/v1/bids?article=${ART}`,
        '/api/v1/mandates',
        '/buy/x',
        '/'
      ]
      await fc.assert(
        fc.asyncProperty(
          METHODS,
          hostilePath(routes),
          fc.constantFrom<Record<string, string>>(
            {},
            { origin: 'https://evil.example' },
            { host: 'evil.example' },
            { 'content-type': 'text/plain' },
            { 'sec-fetch-site': 'cross-site' }
          ),
          fc.uint8Array({ maxLength: 64 }),
          async (m, p, h, b) => {
            const res = await sendRaw(
              daemon.info.apiUrl,
              agent,
              m,
              p,
              h,
              m === 'GET' || m === 'HEAD' ? new Uint8Array(0) : b
            )
            if (m === 'HEAD') return t.add('HEAD')
            if (res.status >= 400) {
              const e = JSON.parse(res.body) as { code: unknown; message: unknown }
              assert.ok(typeof e.code === 'string' && codes.has(e.code), `${m} ${p} -> ${res.body}`)
              assert.equal(typeof e.message, 'string')
              t.add(e.code)
            } else {
              assert.equal(m, 'GET', `${m} ${p} succeeded`)
              if (res.contentType.startsWith('application/json')) JSON.parse(res.body)
              t.add('read')
            }
          }
        ),
        FUZZ
      )
      assert.equal(await state(), before)
      assert.equal(daemon.node.market.txs.phaseCounts().size, 0)
      assert.ok(t.codes() >= 2 && (t.counts.get('read') ?? 0) > 0, t.toString())
    })
  })
})
