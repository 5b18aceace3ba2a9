import assert from 'node:assert/strict'
import { ApiCode, ApiError } from '../../../node/api/errors.js'
import {
  type GuardPolicy,
  type GuardRequest,
  type GuardRoute,
  guardRequest,
  parseHostHeader
} from '../../../node/api/guard.js'

const TOKEN = 'ab'.repeat(32)
const LOOPBACK: GuardPolicy = {
  port: 8081,
  loopbackBind: true,
  allowedHosts: [],
  token: undefined,
  cookieName: 'bitwrk_token_8081'
}
const LAN: GuardPolicy = { ...LOOPBACK, loopbackBind: false, allowedHosts: ['nas.lan'], token: TOKEN }
const READ: GuardRoute = { changesState: false, public: false, tokenExempt: false }
const WRITE: GuardRoute = { changesState: true, public: false, tokenExempt: false }
const PUBLIC: GuardRoute = { changesState: false, public: true, tokenExempt: false }

/** The code and detail a request gets, or 'ok'. */
function verdict(
  req: Partial<GuardRequest> & { headers: GuardRequest['headers'] },
  route: GuardRoute,
  policy: GuardPolicy
): string {
  try {
    guardRequest({ method: 'GET', peer: '127.0.0.1', ...req }, route, policy)
    return 'ok'
  } catch (err) {
    if (!(err instanceof ApiError)) throw err
    const d = err.details['detail']
    return typeof d === 'string' ? `${err.code}/${d}` : err.code
  }
}

const BAD_HOST = `${ApiCode.FORBIDDEN}/API_BAD_HOST`
const FOREIGN = `${ApiCode.FORBIDDEN}/API_FOREIGN_ORIGIN`
const CROSS = `${ApiCode.FORBIDDEN}/API_CROSS_SITE`

describe('node/api guards (API-2, API-3, API-19)', () => {
  it('parses Host headers strictly', () => {
    assert.deepEqual(parseHostHeader('127.0.0.1:8081'), { name: '127.0.0.1', port: 8081 })
    assert.deepEqual(parseHostHeader('LocalHost'), { name: 'localhost', port: undefined })
    assert.deepEqual(parseHostHeader('[::1]:80'), { name: '[::1]', port: 80 })
    for (const bad of [
      '',
      ' ',
      'a b',
      'x:0',
      'x:65536',
      'x:99999',
      '[zz]',
      'user@host',
      'h/ost',
      'é.example',
      '127.0.0.1:'
    ])
      assert.equal(parseHostHeader(bad), undefined, bad)
  })

  it('answers only its own names in Host, whatever the binding (DNS rebinding)', () => {
    const table: [string | undefined, GuardPolicy, string][] = [
      ['127.0.0.1:8081', LOOPBACK, 'ok'],
      ['localhost:8081', LOOPBACK, 'ok'],
      ['[::1]:8081', LOOPBACK, 'ok'],
      ['127.5.6.7', LOOPBACK, 'ok'],
      ['evil.example:8081', LOOPBACK, BAD_HOST],
      ['localhost.:8081', LOOPBACK, BAD_HOST],
      ['127.0.0.1.evil.example', LOOPBACK, BAD_HOST],
      ['192.168.1.5:8081', LOOPBACK, BAD_HOST],
      [undefined, LOOPBACK, BAD_HOST],
      // bound beyond loopback: IP literals (a rebinding page cannot send one) and allowed names
      ['192.168.1.5:8081', LAN, 'ok'],
      ['[fe80::1]:8081', LAN, 'ok'],
      ['nas.lan:8081', LAN, 'ok'],
      ['NAS.LAN', LAN, 'ok'],
      ['evil.example:8081', LAN, BAD_HOST],
      ['nas.lan.evil.example', LAN, BAD_HOST]
    ]
    for (const [host, policy, want] of table)
      assert.equal(verdict({ headers: { host } }, READ, policy), want, `${host} ${policy.loopbackBind}`)
  })

  it('accepts only its own origin: http, an own name, its own port', () => {
    const table: [string, string][] = [
      ['http://127.0.0.1:8081', 'ok'],
      ['http://localhost:8081', 'ok'],
      ['http://[::1]:8081', 'ok'],
      // another loopback port is another origin: a local dev server or a hostile local page
      ['http://127.0.0.1:3000', FOREIGN],
      ['http://localhost', FOREIGN],
      ['https://127.0.0.1:8081', FOREIGN],
      ['http://evil.example:8081', FOREIGN],
      ['null', FOREIGN],
      ['http://127.0.0.1:8081/path', FOREIGN],
      ['http://user@127.0.0.1:8081', FOREIGN],
      ['', FOREIGN]
    ]
    for (const [origin, want] of table) {
      assert.equal(verdict({ headers: { host: '127.0.0.1:8081', origin } }, READ, LOOPBACK), want, origin)
      assert.equal(
        verdict({ method: 'POST', headers: { host: '127.0.0.1:8081', origin } }, WRITE, LOOPBACK),
        want,
        origin
      )
    }
  })

  it('refuses cross-site fetches, but lets the user follow a link to a read-only page', () => {
    const h = { host: '127.0.0.1:8081' }
    assert.equal(verdict({ headers: { ...h, 'sec-fetch-site': 'same-origin' } }, READ, LOOPBACK), 'ok')
    assert.equal(verdict({ headers: { ...h, 'sec-fetch-site': 'none' } }, WRITE, LOOPBACK), 'ok')
    // another port of 127.0.0.1 is the same site: refused like any other site
    assert.equal(verdict({ headers: { ...h, 'sec-fetch-site': 'same-site' } }, READ, LOOPBACK), CROSS)
    assert.equal(verdict({ headers: { ...h, 'sec-fetch-site': 'cross-site' } }, READ, LOOPBACK), CROSS)
    const nav = {
      ...h,
      'sec-fetch-site': 'cross-site',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document'
    }
    assert.equal(verdict({ headers: nav }, READ, LOOPBACK), 'ok')
    // a navigation to a GET that acts (the original's GET /registerworker), or into a frame, is not
    assert.equal(verdict({ headers: nav }, WRITE, LOOPBACK), CROSS)
    assert.equal(verdict({ headers: { ...nav, 'sec-fetch-dest': 'iframe' } }, READ, LOOPBACK), CROSS)
    assert.equal(verdict({ method: 'POST', headers: nav }, READ, LOOPBACK), CROSS)
  })

  it('refuses the body type a page sends without a preflight (text/plain) on changes', () => {
    const h = { host: '127.0.0.1:8081' }
    assert.equal(
      verdict(
        { method: 'POST', headers: { ...h, 'content-type': 'text/plain;charset=UTF-8' } },
        WRITE,
        LOOPBACK
      ),
      ApiCode.UNSUPPORTED_MEDIA_TYPE
    )
    assert.equal(
      verdict({ method: 'POST', headers: { ...h, 'content-type': 'application/json' } }, WRITE, LOOPBACK),
      'ok'
    )
  })

  it('asks for the token for changes, and for every non-public read of a non-loopback peer', () => {
    const h = { host: '192.168.1.5:8081' }
    const bearer = { ...h, authorization: `Bearer ${TOKEN}` }
    const cookie = { ...h, cookie: `other=1; bitwrk_token_8081=${TOKEN}` }
    const lan = '192.168.1.9'
    assert.equal(verdict({ method: 'POST', headers: h }, WRITE, LAN), ApiCode.UNAUTHORIZED)
    assert.equal(verdict({ method: 'POST', headers: bearer }, WRITE, LAN), 'ok')
    assert.equal(verdict({ method: 'POST', headers: cookie }, WRITE, LAN), 'ok')
    // the token cookie of another port (another node on this host) is not this node's
    const otherPort = { ...h, cookie: `bitwrk_token_8082=${TOKEN}` }
    assert.equal(verdict({ method: 'POST', headers: otherPort }, WRITE, LAN), ApiCode.UNAUTHORIZED)
    assert.equal(
      verdict({ method: 'POST', headers: { ...h, authorization: `Bearer ${'cd'.repeat(32)}` } }, WRITE, LAN),
      ApiCode.UNAUTHORIZED
    )
    // reads: loopback peers need none, LAN peers need it (work files), public routes never
    assert.equal(verdict({ headers: h }, READ, LAN), 'ok')
    assert.equal(verdict({ headers: h, peer: lan }, READ, LAN), ApiCode.UNAUTHORIZED)
    assert.equal(verdict({ headers: bearer, peer: lan }, READ, LAN), 'ok')
    assert.equal(verdict({ headers: h, peer: lan }, PUBLIC, LAN), 'ok')
    assert.equal(
      verdict({ method: 'POST', headers: h, peer: lan }, { ...WRITE, tokenExempt: true }, LAN),
      'ok'
    )
  })
})
