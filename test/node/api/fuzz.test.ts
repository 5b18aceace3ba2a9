import assert from 'node:assert/strict'
import { Agent } from 'node:http'
import fc from 'fast-check'
import { sendRaw } from '../../support/http.js'
import { type ApiFixture, multipart, startApi } from './helpers.js'

const ART = 'net.bitwrk/gorays/0'
const TOKEN = 'ef'.repeat(32)

/** What the server's state looks like from the outside. */
function snapshot(f: ApiFixture): string {
  return JSON.stringify({
    mandates: f.mandates.list().map((m) => [m.id, m.tradesLeft]),
    workers: f.workers.list().map((w) => [w.id, w.state, w.pushUrl]),
    buys: f.facade.buys.length,
    chunks: f.facade.storeStats().chunks
  })
}

const segment = fc.oneof(
  fc.constantFrom(
    'buy',
    'file',
    'api',
    'v1',
    'mandates',
    'workers',
    'book',
    'id',
    'version',
    'myip',
    'registerworker',
    'unregisterworker',
    'store',
    'identity',
    'peers',
    'activities',
    'transactions',
    '..',
    '.',
    '',
    '%2F',
    '%00',
    '%zz',
    '1',
    '0'.repeat(64)
  ),
  fc.stringMatching(/^[A-Za-z0-9._~-]{0,12}$/)
)
const path = fc
  .tuple(
    fc.array(segment, { minLength: 1, maxLength: 6 }),
    fc.option(fc.stringMatching(/^[a-z=&%0-9.:/]{0,30}$/), { nil: undefined })
  )
  .map(([segs, q]) => `/${segs.join('/')}${q === undefined ? '' : `?${q}`}`)
const method = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD')
const headers = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=XyZ-boundary-123',
      'multipart/form-data',
      'text/plain',
      'application/octet-stream'
    ),
    authorization: fc.oneof(fc.constant(`Bearer ${'0'.repeat(64)}`), fc.stringMatching(/^[ -~]{0,40}$/)),
    cookie: fc.oneof(fc.constant('bitwrk_token=nope'), fc.stringMatching(/^[ -~]{0,30}$/)),
    origin: fc.constantFrom('http://127.0.0.1:8081', 'https://evil.example', 'null')
  },
  { requiredKeys: [] }
)
const body = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.constant(new TextEncoder().encode(JSON.stringify({ article: ART, side: 'BUY', price: 'mBTC 1' }))),
  fc.constant(new TextEncoder().encode(`id=w&article=${ART}&pushurl=http://127.0.0.1:1/`)),
  fc.constant(multipart([['data', 'x']]).body)
)

describe('node/api fuzz', () => {
  let f: ApiFixture
  let agent: Agent
  before(async () => {
    f = await startApi({ server: { requireToken: true, token: TOKEN, maxBodyBytes: 4096 } })
    await f.mandates.grant({ article: ART, side: 'BUY', price: 'mBTC 1', trades: 5 }, Date.now())
    f.workers.register({ id: 'w0', article: ART, pushUrl: 'http://127.0.0.1:9/work' })
    agent = new Agent({ keepAlive: true, maxSockets: 4 })
  })
  after(async () => {
    agent.destroy()
    await f.stop()
  })

  it('answers 1,000 random requests without the token: no crash, 4xx with a code or a read, state unchanged', async () => {
    const before = snapshot(f)
    await fc.assert(
      fc.asyncProperty(method, path, headers, body, async (m, p, h, b) => {
        const res = await sendRaw(f.url, agent, m, p, h, m === 'GET' || m === 'HEAD' ? new Uint8Array(0) : b)
        assert.ok(res.status < 500, `${m} ${p} -> ${res.status} ${res.body}`)
        if (res.status >= 400 && m !== 'HEAD') {
          assert.match(res.contentType, /^application\/json/)
          const e = JSON.parse(res.body) as { code: string; message: string }
          assert.match(e.code, /^API_[A-Z_]+$/)
          assert.equal(typeof e.message, 'string')
        } else if (res.status < 400) assert.equal(m, 'GET', `${m} ${p} succeeded`)
      }),
      { numRuns: 1000 }
    )
    assert.equal(snapshot(f), before)
  })

  it('refuses malformed multipart uploads with the token: 400, no buy, no mandate trade taken', async () => {
    const before = snapshot(f)
    const good = Buffer.from(multipart([['data', 'payload-bytes']]).body)
    const closing = good.lastIndexOf('--XyZ-boundary-123--')
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: closing }),
        fc.uint8Array({ maxLength: 20 }),
        async (cut, junk) => {
          // Everything cut before the closing delimiter, with junk that holds no CR, is malformed.
          const tail = Buffer.from(junk.filter((x) => x !== 13))
          const res = await sendRaw(
            f.url,
            agent,
            'POST',
            `/buy/${ART}`,
            {
              'content-type': 'multipart/form-data; boundary=XyZ-boundary-123',
              authorization: `Bearer ${TOKEN}`
            },
            Buffer.concat([good.subarray(0, cut), tail])
          )
          assert.equal(res.status, 400, res.body)
          assert.equal(JSON.parse(res.body).code, 'API_BAD_REQUEST')
        }
      ),
      { numRuns: 200 }
    )
    const after = JSON.parse(snapshot(f)) as { chunks: number }
    const was = JSON.parse(before) as { chunks: number }
    // Chunks of refused uploads may stay as evictable cache; nothing else changes (API-7).
    assert.deepEqual({ ...after, chunks: 0 }, { ...was, chunks: 0 })
    assert.equal(f.facade.buys.length, 0)
  })
})
