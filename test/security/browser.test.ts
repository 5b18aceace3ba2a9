import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, chromium } from 'playwright-core'
import { type Daemon, startDaemon } from '../../node/daemon/index.js'
import { CHROMIUM, CHROMIUM_ARGS, requireChromium } from '../../scripts/testnet/browser.js'
import { ownListeningPorts } from './listeners.js'

const ART = 'net.bitwrk/rays/0'

/** True when `port` on 127.0.0.1 answers an HTTP request (libp2p's TCP listener does not). */
function speaksHttp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
    let got = ''
    const done = (v: boolean): void => {
      s.destroy()
      resolve(v)
    }
    s.setTimeout(3_000, () => done(got.startsWith('HTTP/1.')))
    s.on('connect', () => s.write('GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'))
    s.on('data', (d) => {
      got += d.toString('latin1')
      if (got.length >= 8) done(got.startsWith('HTTP/1.'))
    })
    s.on('error', () => done(false))
    s.on('close', () => done(got.startsWith('HTTP/1.')))
  })
}

/**
 * The attack of issue 11 (1, 4, 6): a page the user visits tries every HTTP listener of the
 * node with the requests a page can send without a CORS preflight, and tries to read them.
 */
const ATTACK = `
async function attack(ports, article) {
  const out = []
  const bid = JSON.stringify({ article, side: 'BUY', price: 'BTC 21000000' })
  const grant = JSON.stringify({ article, side: 'BUY', price: 'BTC 21000000', trades: 100 })
  const form = 'id=evil&article=' + encodeURIComponent(article) + '&pushurl=' + encodeURIComponent('http://127.0.0.1:9/x')
  for (const p of ports) {
    const b = 'http://127.0.0.1:' + p
    const tries = [
      [b + '/api/v1/bids', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: bid }],
      [b + '/api/v1/mandates', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: grant }],
      [b + '/registerworker', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form }],
      [b + '/registerworker?id=evil2&article=' + encodeURIComponent(article) + '&pushurl=' + encodeURIComponent('http://127.0.0.1:9/y'), { mode: 'no-cors' }],
      [b + '/buy/' + article, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: 'work' }]
    ]
    for (const [url, init] of tries) {
      try { await fetch(url, init); out.push('sent') } catch (e) { out.push('error') }
    }
    for (const path of ['/api/v1/identity', '/api/v1/mandates', '/api/v1/status']) {
      try { const r = await fetch(b + path); out.push('read ' + path + ' ' + r.status) } catch (e) { out.push('unreadable') }
    }
  }
  return out
}
`

/** What a DNS-rebinding page reads: the API answered on a name it does not own. */
const REBIND = `
async function rebind() {
  const out = []
  for (const path of ['/api/v1/identity', '/api/v1/status', '/api/v1/mandates', '/file/${'0'.repeat(64)}', '/']) {
    const r = await fetch(path)
    const t = await r.text()
    let code = ''
    try { code = JSON.parse(t).code + '/' + JSON.parse(t).detail } catch (e) { code = 'not json' }
    out.push(r.status + ' ' + code)
  }
  const r = await fetch('/api/v1/mandates', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ article: '${ART}', side: 'BUY', price: 'BTC 1' }) })
  out.push(r.status + ' ' + JSON.parse(await r.text()).code)
  return out
}
`

describe('security: web pages against the node (chromium)', function () {
  // the whole file: daemon start ~1 s, browser ~2 s, attacks well under a second each (measured)
  this.timeout(60_000)
  let dir: string
  let daemon: Daemon
  let browser: Browser
  let hostile: Server
  let daemonPorts: number[] = []
  const httpPorts: number[] = []

  before(async () => {
    requireChromium()
    dir = await mkdtemp(join(tmpdir(), 'bitwrk-browser-attack-'))
    const before = await ownListeningPorts()
    daemon = await startDaemon({ dataDir: dir, apiPort: 0, articles: [ART] })
    daemonPorts = [...(await ownListeningPorts())].filter((p) => !before.has(p))
    for (const p of daemonPorts) if (await speaksHttp(p)) httpPorts.push(p)
    hostile = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<!doctype html><title>a page the user visits</title>')
    })
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve))
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // evil.example resolves to the node's interface, as after a DNS rebinding
      args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP evil.example 127.0.0.1']
    })
  })
  after(async () => {
    await browser?.close()
    await new Promise<void>((resolve) => (hostile ? hostile.close(() => resolve()) : resolve()))
    await daemon?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('the daemon has one HTTP listener: its API (no second port without the guards)', async () => {
    assert.deepEqual(httpPorts, [Number(new URL(daemon.info.apiUrl).port)])
  })

  it('a page on another loopback port can neither make the node sign, grant, register or buy, nor read it', async () => {
    const api = daemon.info.apiUrl
    const page = await browser.newPage()
    try {
      await page.goto(`http://127.0.0.1:${(hostile.address() as { port: number }).port}/`)
      const out = (await page.evaluate(
        `(${ATTACK.trim().replace(/^async function attack/, 'async function')})(${JSON.stringify(daemonPorts)}, ${JSON.stringify(ART)})`
      )) as string[]
      // nothing the page sent was readable
      assert.ok(!out.some((o) => o.startsWith('read')), out.join(', '))
    } finally {
      await page.close()
    }
    // and nothing changed: no bid signed, no mandate, no worker, no transaction
    assert.deepEqual(daemon.node.book.liveBids(ART), [])
    const get = async (path: string): Promise<unknown> =>
      (await fetch(`${api}${path}`, { signal: AbortSignal.timeout(5_000) })).json()
    assert.deepEqual(await get('/api/v1/mandates'), [])
    assert.deepEqual(await get('/api/v1/workers'), [])
    assert.deepEqual(await get('/api/v1/activities'), [])
    assert.equal(daemon.node.market.txs.phaseCounts().size, 0)
  })

  it('a DNS-rebinding page reaches every listener and is refused by its Host check', async () => {
    assert.ok(httpPorts.length > 0)
    for (const p of httpPorts) {
      const page = await browser.newPage()
      try {
        // The page's origin is http://evil.example:<port>, and the name now resolves to the node
        // (the end state of a rebinding). Loading it from the node keeps the browser's own
        // local-network checks out of the way, as in a browser without them: the guard must hold.
        await page.goto(`http://evil.example:${p}/`)
        const out = (await page.evaluate(
          `(${REBIND.trim().replace(/^async function rebind/, 'async function')})()`
        )) as string[]
        // every answer is readable to the page (same origin) and is the refusal, not the view
        assert.deepEqual(out, [
          '403 API_FORBIDDEN/API_BAD_HOST',
          '403 API_FORBIDDEN/API_BAD_HOST',
          '403 API_FORBIDDEN/API_BAD_HOST',
          '403 API_FORBIDDEN/API_BAD_HOST',
          '403 API_FORBIDDEN/API_BAD_HOST',
          '403 API_FORBIDDEN'
        ])
      } finally {
        await page.close()
      }
    }
    assert.equal(
      ((await fetch(`${daemon.info.apiUrl}/api/v1/mandates`).then((r) => r.json())) as unknown[]).length,
      0
    )
  })
})
