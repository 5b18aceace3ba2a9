import assert from 'node:assert/strict'
import { type ApiFixture, call, errorOf, startApi } from './helpers.js'

const ART = 'net.bitwrk/gorays/0'

describe('node/api /registerworker push URLs', () => {
  let f: ApiFixture | undefined
  afterEach(async () => {
    await f?.stop()
    f = undefined
  })

  const register = (api: ApiFixture, id: string, pushurl: string): Promise<Response> =>
    call(`${api.url}/registerworker`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ id, article: ART, pushurl }).toString()
    })

  /** Registers each of `urls`, expects the error `expected` for each, and no worker registered. */
  async function refused(
    api: ApiFixture,
    urls: string[],
    expected: { status: number; code: string; detail: string }
  ): Promise<void> {
    for (const url of urls) assert.deepEqual(await errorOf(await register(api, 'w', url)), expected, url)
    assert.deepEqual(api.workers.list(), [])
  }

  it('refuses push URLs outside the operator allow list with 403 WORKER_URL_FORBIDDEN and registers nothing (WRK-9)', async () => {
    f = await startApi({
      workers: { pushUrls: { allow: [{ host: '127.0.0.1', minPort: 9000, maxPort: 9100 }] } }
    })
    await refused(
      f,
      ['http://127.0.0.1:6379/', 'http://0x7f.1:6379/', 'http://2130706433:22/', 'http://[::1]:9000/'],
      { status: 403, code: 'API_FORBIDDEN', detail: 'WORKER_URL_FORBIDDEN' }
    )
    const ok = await register(f, 'w', 'http://0x7f.1:9050/work')
    assert.equal(ok.status, 200)
    assert.equal(((await ok.json()) as { pushUrl: string }).pushUrl, 'http://127.0.0.1:9050/work')
  })

  it('answers hostile push URLs with 400 WORKER_INVALID and lists only normalised URLs (WRK-8)', async () => {
    f = await startApi()
    await refused(
      f,
      ['https://127.0.0.1:9/', 'http://u:p@127.0.0.1:9/', 'http://127.0.0.1:0/', 'http://ⓛocalhost:9/'],
      { status: 400, code: 'API_BAD_REQUEST', detail: 'WORKER_INVALID' }
    )
    // The default keeps the original's behaviour: any loopback port, written one way.
    assert.equal((await register(f, 'w', 'http://[::ffff:127.0.0.1]:6379/')).status, 200)
    const listed = (await (await call(`${f.url}/api/v1/workers`)).json()) as { pushUrl: string }[]
    assert.deepEqual(
      listed.map((w) => w.pushUrl),
      ['http://127.0.0.1:6379/']
    )
  })
})
