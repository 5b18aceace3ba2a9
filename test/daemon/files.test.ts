import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { Agent } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keyFromHex } from '../../cafs/keys.js'
import { type Daemon, startDaemon } from '../../node/daemon/index.js'
import { waitFor } from '../../node/testing.js'
import { waitForRoutingTables } from '../cafs/adapters/helpers.js'
import { runCli } from '../cli/run.js'
import { sendRaw } from '../support/http.js'

/** Deadline of one HTTP request of these tests. */
const HTTP_MS = 30_000

describe('daemon: files by key over the network (CHUNK-16 … CHUNK-20, API-23, API-24)', function () {
  this.timeout(120_000)
  const dirs: string[] = []
  const daemons: Daemon[] = []
  after(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.stop()))
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
  })
  async function tmp(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'bitwrk-files-'))
    dirs.push(dir)
    return dir
  }
  async function daemon(opts: { bootstrap?: string[]; provide?: boolean } = {}): Promise<Daemon> {
    const d = await startDaemon({ dataDir: await tmp(), apiPort: 0, ...opts })
    daemons.push(d)
    return d
  }
  async function upload(
    d: Daemon,
    bytes: Uint8Array
  ): Promise<{ key: string; provided: boolean; status: number }> {
    const res = await fetch(`${d.info.apiUrl}/api/v1/files`, {
      method: 'POST',
      body: Buffer.from(bytes),
      headers: { 'content-type': 'application/octet-stream' },
      signal: AbortSignal.timeout(HTTP_MS)
    })
    const body = (await res.json()) as { key: string; provided: boolean }
    return { ...body, status: res.status }
  }
  function sha(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex')
  }

  let a: Daemon
  let b: Daemon
  let c: Daemon
  before(async () => {
    a = await daemon()
    const boot = [a.info.listen[0] as string]
    // B publishes nothing: what it holds is served to no stranger
    b = await daemon({ bootstrap: boot, provide: false })
    c = await daemon({ bootstrap: boot })
    await waitFor(() => a.node.host.libp2p.getConnections().length >= 2, {
      timeoutMs: 20_000,
      intervalMs: 50,
      what: 'B and C connected to A'
    })
    await waitForRoutingTables([a.node.host, b.node.host, c.node.host])
  })

  it('a file uploaded on A is fetched through C’s GET /file from A and then provided by C too', async () => {
    const bytes = new Uint8Array(randomBytes(700_000))
    const up = await upload(a, bytes)
    assert.equal(up.status, 201)
    assert.equal(up.key, sha(bytes))
    assert.equal(up.provided, true)
    await a.node.content.provided.idle()
    // ?local=1 keeps the old answer: C does not hold it
    const local = await fetch(`${c.info.apiUrl}/file/${up.key}?local=1`, {
      signal: AbortSignal.timeout(HTTP_MS)
    })
    assert.equal(local.status, 404)
    assert.equal(((await local.json()) as { code: string }).code, 'API_NOT_FOUND')
    const res = await fetch(`${c.info.apiUrl}/file/${up.key}`, { signal: AbortSignal.timeout(HTTP_MS) })
    assert.equal(res.status, 200)
    const got = new Uint8Array(await res.arrayBuffer())
    assert.equal(sha(got), up.key)
    // C holds it now, provides it, and serves it locally
    assert.equal(c.node.content.provided.get(keyFromHex(up.key))?.reason, 'fetched')
    const again = await fetch(`${c.info.apiUrl}/file/${up.key}?local=1`, {
      signal: AbortSignal.timeout(HTTP_MS)
    })
    assert.equal(again.status, 200)
    assert.equal(sha(new Uint8Array(await again.arrayBuffer())), up.key)
    const metrics = await (await fetch(`${c.info.apiUrl}/metrics`)).text()
    assert.match(metrics, /^bitwrk_content_gateway_fetches_total\{result="ok"\} 1$/m)
    assert.match(metrics, /^bitwrk_content_provided_files\{reason="fetched"\} 1$/m)
    const ma = await (await fetch(`${a.info.apiUrl}/metrics`)).text()
    assert.match(ma, /^bitwrk_content_announcements_total\{result="ok"\} [1-9]/m)
  })

  it('a page on another site cannot make the node fetch from the network (API_GATEWAY_REFUSED)', async () => {
    const bytes = new Uint8Array(randomBytes(50_000))
    const up = await upload(a, bytes)
    await a.node.content.provided.idle()
    // a link a hostile page makes the user follow: a cross-site top-level navigation (sent raw:
    // fetch() rewrites Sec-Fetch-Mode)
    const agent = new Agent()
    const send = (headers: Record<string, string>) =>
      sendRaw(
        c.info.apiUrl,
        agent,
        'GET',
        `/file/${up.key}`,
        { host: new URL(c.info.apiUrl).host, ...headers },
        new Uint8Array(0)
      )
    const nav = await send({
      'sec-fetch-site': 'cross-site',
      'sec-fetch-mode': 'navigate',
      'sec-fetch-dest': 'document'
    })
    assert.equal(nav.status, 403)
    const body = JSON.parse(nav.body) as { code: string; detail: string }
    assert.deepEqual([body.code, body.detail], ['API_FORBIDDEN', 'API_GATEWAY_REFUSED'])
    // a page's <img>: refused by the guards before the route runs
    const img = await send({
      'sec-fetch-site': 'cross-site',
      'sec-fetch-mode': 'no-cors',
      'sec-fetch-dest': 'image'
    })
    assert.equal(img.status, 403)
    assert.equal((JSON.parse(img.body) as { detail: string }).detail, 'API_CROSS_SITE')
    // another origin's script
    const xhr = await send({ origin: 'http://evil.example' })
    assert.equal(xhr.status, 403)
    agent.destroy()
    // nothing was fetched
    assert.equal(c.node.content.provided.get(keyFromHex(up.key)), undefined)
    assert.equal(await c.node.chunks.has(keyFromHex(up.key)), false)
    const metrics = await (await fetch(`${c.info.apiUrl}/metrics`)).text()
    assert.doesNotMatch(metrics, /^bitwrk_content_gateway_fetches_total\{result="ok"\} 2$/m)
  })

  it('an unknown key is 404 CHUNK_NO_PROVIDERS; a bad ?local= is 400', async () => {
    const key = sha(new Uint8Array(randomBytes(16)))
    const res = await fetch(`${c.info.apiUrl}/file/${key}`, { signal: AbortSignal.timeout(HTTP_MS) })
    assert.equal(res.status, 404)
    const body = (await res.json()) as { code: string; detail: string }
    assert.deepEqual([body.code, body.detail], ['API_NOT_FOUND', 'CHUNK_NO_PROVIDERS'])
    const bad = await fetch(`${c.info.apiUrl}/file/${key}?local=yes`, {
      signal: AbortSignal.timeout(HTTP_MS)
    })
    assert.equal(bad.status, 400)
    assert.equal(((await bad.json()) as { detail: string }).detail, 'API_BAD_LOCAL')
  })

  it('--no-provide: an upload is stored and served locally but no other node can fetch it', async () => {
    const bytes = new Uint8Array(randomBytes(60_000))
    const up = await upload(b, bytes)
    assert.equal(up.status, 201)
    assert.equal(up.provided, false)
    const local = await fetch(`${b.info.apiUrl}/file/${up.key}`, { signal: AbortSignal.timeout(HTTP_MS) })
    assert.equal(local.status, 200)
    assert.equal(sha(new Uint8Array(await local.arrayBuffer())), up.key)
    // asked directly, B answers "not held" to a stranger (CHUNK-14)
    const m = await c.node.exchange.getManifest(b.node.host.libp2p.peerId, keyFromHex(up.key))
    assert.equal(m, undefined)
    const res = await fetch(`${c.info.apiUrl}/file/${up.key}`, { signal: AbortSignal.timeout(HTTP_MS) })
    assert.equal(res.status, 404)
    assert.equal(((await res.json()) as { detail: string }).detail, 'CHUNK_NO_PROVIDERS')
  })

  it('bitwrk-node put prints the key and bitwrk-node get fetches it on another node', async () => {
    const dir = await tmp()
    const bytes = new Uint8Array(randomBytes(300_000))
    await writeFile(join(dir, 'in.bin'), bytes)
    const put = await runCli(['put', join(dir, 'in.bin'), '--api', a.info.apiUrl], {})
    assert.equal(put.code, 0, put.stderr)
    assert.equal(put.stdout.trim(), sha(bytes))
    assert.match(put.stderr, /provided on the network/)
    await a.node.content.provided.idle()
    const out = join(dir, 'out.bin')
    const get = await runCli(
      ['get', sha(bytes), '--out', out, '--api', c.info.apiUrl],
      {},
      { timeoutMs: 60_000 }
    )
    assert.equal(get.code, 0, get.stderr)
    assert.equal(sha(await readFile(out)), sha(bytes))
    assert.match(get.stderr, new RegExp(`^get: ${sha(bytes)} 300000 bytes$`, 'm'))
    const missing = await runCli(['get', sha(new Uint8Array(8)), '--api', c.info.apiUrl, '--local'], {})
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /404 API_NOT_FOUND/)
    const bad = await runCli(['get', 'xyz', '--api', c.info.apiUrl], {})
    assert.equal(bad.code, 2)
  })
})
