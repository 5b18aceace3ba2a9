import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { type ApiFixture, call, errorOf, multipart, startApi } from './helpers.js'

describe('node/api: POST /api/v1/files and GET /file without a gateway (API-23, API-24)', () => {
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
})
