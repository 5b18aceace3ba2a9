import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import type { ContentFacade } from '../../../node/api/facade.js'
import { defaultMaxConnections } from '../../../node/api/server.js'
import { BitwrkError } from '../../../protocol/errors.js'
import { type ApiFixture, call, errorOf, startApi } from './helpers.js'

const ART = 'net.bitwrk/gorays/0'
/** Deadline for a socket the server must cut (the configured timeouts are a few hundred ms). */
const CUT_MS = 10_000

/** Opens a raw connection to the fixture's port. */
function open(f: ApiFixture): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port: f.server.address.port }, () => resolve(s))
    s.once('error', reject)
  })
}

/** Resolves with what the server wrote once it closes `s`; rejects when it stays open past the deadline. */
function closedByServer(s: Socket, ms = CUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = ''
    s.on('data', (d) => {
      got += d.toString('latin1')
    })
    s.on('error', () => {})
    const timer = setTimeout(() => reject(new Error(`still open after ${ms} ms`)), ms)
    s.once('close', () => {
      clearTimeout(timer)
      resolve(got)
    })
  })
}

/** The open-file limit of this process (soft), from /proc. */
async function softFdLimit(): Promise<number> {
  const { readFile } = await import('node:fs/promises')
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(await readFile('/proc/self/limits', 'utf8'))
  return m === null || m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1])
}

describe('node/api connection and time limits (API-20)', function () {
  this.timeout(30_000)
  let f: ApiFixture | undefined
  const sockets: Socket[] = []
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy()
    await f?.stop()
    f = undefined
  })

  it('caps open connections below the descriptor limit; a refused socket is closed at once', async () => {
    const cap = defaultMaxConnections()
    assert.ok(cap >= 16 && cap <= 256 && cap <= Math.max(16, (await softFdLimit()) / 4), String(cap))
    f = await startApi()
    // idle sockets up to the default cap are held …
    for (let i = 0; i < cap; i++) sockets.push(await open(f))
    // … one more is closed by the server without an answer
    const extra = await open(f)
    sockets.push(extra)
    assert.equal(await closedByServer(extra), '')
    // freeing one lets requests in again
    sockets.shift()?.destroy()
    const fx = f
    const deadline = Date.now() + CUT_MS
    let status = 0
    while (status !== 200 && Date.now() < deadline)
      // a request that raced the server's bookkeeping of the freed socket is dropped: try again
      status = await call(`${fx.url}/version`, { signal: AbortSignal.timeout(1_000) }).then(
        (r) => r.status,
        () => 0
      )
    assert.equal(status, 200)
  })

  it('cuts a client that does not finish its headers', async () => {
    f = await startApi({ server: { headersTimeoutMs: 300 } })
    const s = await open(f)
    sockets.push(s)
    s.write('GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    const answer = await closedByServer(s)
    assert.ok(answer === '' || answer.startsWith('HTTP/1.1 408'), answer.slice(0, 40))
  })

  it('cuts an upload that stalls, and the stalled buy takes no mandate trade', async () => {
    f = await startApi({ server: { bodyIdleTimeoutMs: 300 } })
    await f.mandates.grant({ article: ART, side: 'BUY', price: 'mBTC 1', trades: 3 }, Date.now())
    const s = await open(f)
    sockets.push(s)
    s.write(
      `POST /buy/${ART} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`
    )
    s.write(Buffer.alloc(1000, 1))
    assert.equal(await closedByServer(s), '')
    assert.equal(f.mandates.list()[0]?.tradesLeft, 3)
    assert.equal(f.facade.buys.length, 0)
  })

  it('does not cut a GET that works longer than the body idle timeout (a gateway fetch, API-24)', async () => {
    f = await startApi({ server: { bodyIdleTimeoutMs: 200 } })
    // a gateway fetch that finds nothing after 800 ms, four body-idle timeouts
    ;(f.facade as { content?: ContentFacade }).content = {
      providing: true,
      share: () => true,
      fetches: () => [],
      fetch: async () => {
        await new Promise((r) => setTimeout(r, 800))
        throw new BitwrkError('CHUNK_NO_PROVIDERS', 'no provider of the file was found')
      }
    }
    const r = await call(`${f.url}/file/${'ab'.repeat(32)}`, { signal: AbortSignal.timeout(CUT_MS) })
    assert.equal(r.status, 404)
    assert.deepEqual(await errorOf(r), { status: 404, code: 'API_NOT_FOUND', detail: 'CHUNK_NO_PROVIDERS' })
  })

  it('cuts an upload that trickles past the request deadline', async () => {
    f = await startApi({ server: { requestTimeoutMs: 600, bodyIdleTimeoutMs: 10_000 } })
    await f.mandates.grant({ article: ART, side: 'BUY', price: 'mBTC 1', trades: 3 }, Date.now())
    const s = await open(f)
    sockets.push(s)
    s.write(
      `POST /buy/${ART} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n`
    )
    // one byte every 50 ms: never idle, never done
    const drip = setInterval(() => s.writable && s.write(Buffer.of(7)), 50)
    try {
      const answer = await closedByServer(s)
      assert.ok(answer === '' || answer.startsWith('HTTP/1.1 408'), answer.slice(0, 40))
    } finally {
      clearInterval(drip)
    }
    assert.equal(f.mandates.list()[0]?.tradesLeft, 3)
  })

  it('serves files to peers beyond loopback only with the token when bound beyond loopback', async () => {
    const token = 'cd'.repeat(32)
    f = await startApi({ server: { requireToken: true, token }, peerAddress: () => '192.168.1.7' })
    const path = `${f.url}/file/${'0'.repeat(64)}`
    assert.deepEqual(await errorOf(await call(path)), { status: 401, code: 'API_UNAUTHORIZED' })
    // with the token the request reaches the file index (unknown here)
    assert.deepEqual(await errorOf(await call(path, { headers: { authorization: `Bearer ${token}` } })), {
      status: 404,
      code: 'API_NOT_FOUND'
    })
    // the original's public probes stay open
    assert.equal((await call(`${f.url}/id`)).status, 200)
  })
})
