import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { importStream } from '../../../cafs/stream.js'
import type { Manifest } from '../../../cafs/types.js'
import type { ContentFacade } from '../../../node/api/facade.js'
import { ApiServer } from '../../../node/api/server.js'
import { createTestFacade } from '../../../node/api/testing.js'
import { MandateBook } from '../../../node/mandates/index.js'
import { createMemoryController } from '../../../node/store/db.js'
import { WorkerPool } from '../../../node/workers/index.js'
import { BitwrkError } from '../../../protocol/errors.js'
import { type ApiFixture, call, errorOf, multipart, startApi } from './helpers.js'

/**
 * An API whose facade has a content stand-in: `fetch` stores `content` (as a gateway would after
 * fetching it) and records the call, or fails with `failWith`.
 */
async function gatewayApi(opts: { token?: string; failWith?: string } = {}) {
  const kv = createMemoryController()
  const { book: mandates } = await MandateBook.open(kv)
  const workers = new WorkerPool({ mandates })
  const base = createTestFacade({ workers })
  const fetched: string[] = []
  const bytes = new Uint8Array(randomBytes(30_000))
  const key = createHash('sha256').update(bytes).digest('hex')
  const content: ContentFacade = {
    providing: true,
    share: () => true,
    fetches: () => [],
    fetch: async (fileKey): Promise<Manifest> => {
      fetched.push(Buffer.from(fileKey).toString('hex'))
      if (opts.failWith !== undefined) throw new BitwrkError(opts.failWith, 'failed')
      const m = await importStream([bytes], base.chunkStore)
      await base.files.put(m)
      return m
    }
  }
  const server = new ApiServer({
    facade: { ...base, content },
    mandates,
    workers,
    host: '127.0.0.1',
    port: 0,
    ...(opts.token !== undefined ? { requireToken: true, token: opts.token } : {})
  })
  await server.start()
  return {
    url: server.url,
    key,
    fetched,
    stop: async () => {
      await server.stop()
      workers.stop()
      await kv.close()
    }
  }
}

describe('node/api: POST /api/v1/files and the GET /file gateway (API-23, API-24)', () => {
  const fixtures: ApiFixture[] = []
  afterEach(async () => {
    await Promise.all(fixtures.splice(0).map((f) => f.stop()))
  })
  async function api(opts: Parameters<typeof startApi>[0] = {}): Promise<ApiFixture> {
    const f = await startApi(opts)
    fixtures.push(f)
    return f
  }
  const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

  it('stores and indexes an upload (raw or multipart) and answers its key; a facade without content provides nothing', async () => {
    const f = await api()
    const bytes = new Uint8Array(randomBytes(90_000))
    const res = await call(`${f.url}/api/v1/files`, {
      method: 'POST',
      body: Buffer.from(bytes),
      headers: { 'content-type': 'application/octet-stream' }
    })
    assert.equal(res.status, 201)
    const body = (await res.json()) as { key: string; size: number; chunks: number; provided: boolean }
    assert.deepEqual(
      { ...body, chunks: body.chunks > 0 },
      { key: sha(bytes), size: 90_000, chunks: true, provided: false }
    )
    const got = await call(`${f.url}/file/${body.key}`)
    assert.equal(got.status, 200)
    assert.equal(sha(new Uint8Array(await got.arrayBuffer())), body.key)
    const form = multipart([['data', bytes]])
    const viaForm = await call(`${f.url}/api/v1/files`, {
      method: 'POST',
      body: form.body,
      headers: { 'content-type': form.contentType }
    })
    assert.equal(viaForm.status, 201)
    assert.equal(((await viaForm.json()) as { key: string }).key, sha(bytes))
    // without a gateway, a file not held is 404 as before
    const unknown = await call(`${f.url}/file/${sha(new Uint8Array(3))}`)
    assert.deepEqual(await errorOf(unknown), { status: 404, code: 'API_NOT_FOUND' })
  })

  it('refuses an upload above maxBodyBytes (413) without reading it, and storing nothing', async () => {
    const f = await api({ server: { maxBodyBytes: 10_000 } })
    const bytes = new Uint8Array(randomBytes(20_000))
    const res = await call(`${f.url}/api/v1/files`, {
      method: 'POST',
      body: Buffer.from(bytes),
      headers: { 'content-type': 'application/octet-stream' }
    })
    assert.deepEqual(await errorOf(res), { status: 413, code: 'API_TOO_LARGE' })
    assert.equal(f.facade.chunkStore.stats().chunks, 0)
  })

  it('answers loopback peers only, needs the token when one is required, and refuses other origins', async () => {
    const remote = await api({ peerAddress: () => '192.0.2.7' })
    const r = await call(`${remote.url}/api/v1/files`, { method: 'POST', body: 'x' })
    assert.deepEqual(await errorOf(r), { status: 403, code: 'API_FORBIDDEN' })
    const tokened = await api({ server: { requireToken: true, token: 'ab'.repeat(32) } })
    const t = await call(`${tokened.url}/api/v1/files`, { method: 'POST', body: 'x' })
    assert.deepEqual(await errorOf(t), { status: 401, code: 'API_UNAUTHORIZED' })
    const ok = await call(`${tokened.url}/api/v1/files`, {
      method: 'POST',
      body: 'x',
      headers: { authorization: `Bearer ${'ab'.repeat(32)}` }
    })
    assert.equal(ok.status, 201)
    const page = await call(`${tokened.url}/api/v1/files`, {
      method: 'POST',
      body: 'x',
      headers: { origin: 'http://evil.example', authorization: `Bearer ${'ab'.repeat(32)}` }
    })
    assert.deepEqual(await errorOf(page), {
      status: 403,
      code: 'API_FORBIDDEN',
      detail: 'API_FOREIGN_ORIGIN'
    })
  })

  it('GET /api/v1/fetches is an empty list without a gateway', async () => {
    const f = await api()
    const res = await call(`${f.url}/api/v1/fetches`)
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), [])
  })

  it('a fetch that needs the token without it is 401 API_GATEWAY_REFUSED and fetches nothing; with it, the file is fetched and served', async () => {
    const token = 'ef'.repeat(32)
    const g = await gatewayApi({ token })
    try {
      const refused = await call(`${g.url}/file/${g.key}`)
      assert.deepEqual(await errorOf(refused), {
        status: 401,
        code: 'API_UNAUTHORIZED',
        detail: 'API_GATEWAY_REFUSED'
      })
      assert.deepEqual(g.fetched, [])
      const local = await call(`${g.url}/file/${g.key}?local=1`, {
        headers: { authorization: `Bearer ${token}` }
      })
      assert.equal(local.status, 404)
      assert.deepEqual(g.fetched, [])
      const ok = await call(`${g.url}/file/${g.key}`, { headers: { authorization: `Bearer ${token}` } })
      assert.equal(ok.status, 200)
      assert.equal(
        createHash('sha256')
          .update(new Uint8Array(await ok.arrayBuffer()))
          .digest('hex'),
        g.key
      )
      assert.deepEqual(g.fetched, [g.key])
      // held now: served without a fetch
      await call(`${g.url}/file/${g.key}`, { headers: { authorization: `Bearer ${token}` } })
      assert.deepEqual(g.fetched, [g.key])
    } finally {
      await g.stop()
    }
  })

  it('maps gateway failures to their answers (API-24)', async () => {
    const cases: [string, number, string][] = [
      ['CHUNK_NO_PROVIDERS', 404, 'API_NOT_FOUND'],
      ['CHUNK_MANIFEST_NOT_FOUND', 502, 'API_FETCH_FAILED'],
      ['CAFS_XFER_UNAVAILABLE', 502, 'API_FETCH_FAILED'],
      ['CONTENT_TOO_LARGE', 413, 'API_TOO_LARGE'],
      ['CONTENT_GATEWAY_BUSY', 503, 'API_BUSY']
    ]
    for (const [failWith, status, code] of cases) {
      const g = await gatewayApi({ failWith })
      try {
        const res = await call(`${g.url}/file/${g.key}`)
        assert.deepEqual(await errorOf(res), { status, code, detail: failWith })
      } finally {
        await g.stop()
      }
    }
  })
})
