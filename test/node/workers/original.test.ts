import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from '../../../node/testing.js'
import { type ApiFixture, call, errorOf, startApi } from '../api/helpers.js'

const ART = 'net.bitwrk/blender/0/2.80/512M'
const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url))

async function grant(
  f: ApiFixture,
  side: 'BUY' | 'SELL',
  headers: Record<string, string> = {}
): Promise<void> {
  const res = await call(`${f.url}/api/v1/mandates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ article: ART, side, price: 'mBTC 1', trades: 10 })
  })
  assert.equal(res.status, 201)
}

async function buyText(f: ApiFixture, work: string, headers: Record<string, string> = {}): Promise<Response> {
  return call(`${f.url}/buy/${ART}`, { method: 'POST', body: work, headers })
}

/**
 * A worker written against the original API only (like blender-slave.py, §8.5): it learns its
 * address from /myip, registers with a form POST, answers POSTs to its push URL, and registers
 * again after every job.
 */
async function originalWorker(api: string, id: string): Promise<{ server: Server; jobs: number }> {
  const state = { server: undefined as unknown as Server, jobs: 0 }
  const register = (pushurl: string): Promise<Response> =>
    fetch(`${api}/registerworker`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ id, article: ART, pushurl }).toString()
    })
  let pushUrl = ''
  state.server = createServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (c: Buffer) => parts.push(c))
    req.on('end', () => {
      state.jobs++
      res.writeHead(200, { 'content-type': 'image/x-exr' })
      res.end(`rendered(${Buffer.concat(parts).toString()})`, () => {
        void register(pushUrl)
      })
    })
  })
  await new Promise<void>((r) => state.server.listen(0, '127.0.0.1', r))
  const myip = await (await fetch(`${api}/myip`)).text()
  const ip = myip.replace(/^\[?(?:::ffff:)?/, '').replace(/\]?:\d+$/, '')
  pushUrl = `http://${ip}:${(state.server.address() as AddressInfo).port}/work`
  const res = await register(pushUrl)
  assert.equal(res.status, 200)
  return state
}

describe('node/workers original protocol', () => {
  let f: ApiFixture
  afterEach(async () => {
    await f.stop()
  })

  it('serves buys with a worker written against the original API, unchanged', async () => {
    f = await startApi()
    await grant(f, 'BUY')
    const w = await originalWorker(f.url, 'blender-127.0.0.1-1')
    try {
      const listed = (await (await call(`${f.url}/api/v1/workers`)).json()) as { id: string; state: string }[]
      assert.deepEqual(
        listed.map((x) => [x.id, x.state]),
        [['blender-127.0.0.1-1', 'idle']]
      )
      for (const tile of ['tile-1', 'tile-2']) {
        const res = await buyText(f, tile)
        assert.equal(res.status, 303)
        const file = await call(`${f.url}${res.headers.get('location')}`)
        assert.equal(await file.text(), `rendered(${tile})`)
        // The worker re-registers after its answer; wait until it is idle again.
        await waitFor(() => f.workers.get('blender-127.0.0.1-1')?.state === 'idle', {
          timeoutMs: 5000,
          intervalMs: 0,
          what: 're-registration'
        })
      }
      assert.equal(w.jobs, 2)
      const un = await call(`${f.url}/unregisterworker?id=blender-127.0.0.1-1`)
      assert.equal(un.status, 200)
      assert.deepEqual(f.workers.list(), [])
      // an unknown id is answered 200, as the original did (WRK-6): a worker that stops after
      // its node restarted must not die of an error (issue 12.6)
      const again = await call(`${f.url}/unregisterworker?id=blender-127.0.0.1-1`)
      assert.equal(again.status, 200)
      assert.deepEqual(await again.json(), { id: 'blender-127.0.0.1-1', unregistered: false })
      const post = await call(`${f.url}/unregisterworker`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'id=never-registered'
      })
      assert.equal(post.status, 200)
      assert.deepEqual(await post.json(), { id: 'never-registered', unregistered: false })
    } finally {
      w.server.closeAllConnections()
      w.server.close()
    }
  })

  it('answers bad registrations with 4xx codes and registers nothing', async () => {
    f = await startApi()
    const cases: [string, RequestInit, number, string, string?][] = [
      ['/registerworker', { method: 'POST' }, 400, 'API_BAD_REQUEST'],
      [`/registerworker?id=w&article=${ART}`, {}, 400, 'API_BAD_REQUEST'],
      [
        `/registerworker?id=w&article=a//b&pushurl=http://127.0.0.1:1/`,
        {},
        400,
        'API_BAD_REQUEST',
        'WORKER_INVALID'
      ],
      [
        `/registerworker?id=w&article=${ART}&pushurl=http://10.0.0.1:1/`,
        {},
        403,
        'API_FORBIDDEN',
        'WORKER_URL_FORBIDDEN'
      ],
      [`/registerworker?id=w&id=v&article=${ART}&pushurl=http://127.0.0.1:1/`, {}, 400, 'API_BAD_REQUEST'],
      [
        '/registerworker',
        { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'id=w' },
        415,
        'API_UNSUPPORTED_MEDIA_TYPE'
      ],
      ['/registerworker', { method: 'DELETE' }, 405, 'API_METHOD_NOT_ALLOWED'],
      ['/unregisterworker', {}, 400, 'API_BAD_REQUEST']
    ]
    for (const [path, init, status, code, detail] of cases) {
      const e = await errorOf(await call(`${f.url}${path}`, init))
      assert.equal(e.status, status, path)
      assert.equal(e.code, code, path)
      if (detail !== undefined) assert.equal(e.detail, detail, path)
    }
    assert.deepEqual(f.workers.list(), [])
  })

  it('answers 409 when the worker limit is reached', async () => {
    f = await startApi({ workers: { maxWorkers: 1 } })
    const reg = (id: string): Promise<Response> =>
      call(`${f.url}/registerworker?id=${id}&article=${ART}&pushurl=http://127.0.0.1:1/`)
    assert.equal((await reg('a')).status, 200)
    assert.deepEqual(await errorOf(await reg('b')), {
      status: 409,
      code: 'API_CONFLICT',
      detail: 'WORKER_TOO_MANY'
    })
    assert.equal((await reg('a')).status, 200)
  })
})

/** Starts the exec worker CLI and resolves once it reports its registration. */
async function startExecWorker(
  args: string[]
): Promise<{ child: ChildProcess; out: () => string; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'worker', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString()
  })
  child.stderr?.on('data', (b: Buffer) => {
    err += b.toString()
  })
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  await Promise.race([
    waitFor(() => out.includes('registered for'), {
      timeoutMs: 15_000,
      intervalMs: 0,
      what: 'worker registration'
    }),
    exit.then((code) => {
      throw new Error(`worker exited early (${code}): ${err}`)
    })
  ])
  return { child, out: () => out, exit }
}

describe('cli worker (bitwrk-node worker --exec)', () => {
  let f: ApiFixture
  const children: ChildProcess[] = []
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL')
    await f.stop()
    for (const c of cleanups.splice(0)) await c()
  })

  it('runs the command per job, re-registers, and unregisters on SIGTERM', async () => {
    f = await startApi()
    await grant(f, 'BUY')
    const w = await startExecWorker([
      '--article',
      ART,
      '--exec',
      'tr a-z A-Z',
      '--api',
      f.url,
      '--id',
      'exec-1'
    ])
    children.push(w.child)
    assert.equal(f.workers.get('exec-1')?.state, 'idle')
    for (const work of ['first job', 'second job']) {
      const res = await buyText(f, work)
      assert.equal(res.status, 303)
      assert.equal(await (await call(`${f.url}${res.headers.get('location')}`)).text(), work.toUpperCase())
      await waitFor(() => f.workers.get('exec-1')?.state === 'idle', {
        timeoutMs: 10_000,
        intervalMs: 0,
        what: 're-registration'
      })
    }
    assert.equal(f.workers.get('exec-1')?.jobs, 2)
    w.child.kill('SIGTERM')
    assert.equal(await w.exit, 0)
    assert.deepEqual(f.workers.list(), [])
    assert.match(w.out(), /unregistered/)
  })

  it('answers 500 when the command fails, so the buy fails with WORKER_FAILED', async () => {
    f = await startApi()
    await grant(f, 'BUY')
    const w = await startExecWorker([
      '--article',
      ART,
      '--exec',
      'cat >/dev/null; exit 3',
      '--api',
      f.url,
      '--id',
      'bad'
    ])
    children.push(w.child)
    const e = await errorOf(await buyText(f, 'x'))
    assert.deepEqual(e, { status: 500, code: 'API_BUY_FAILED', detail: 'WORKER_FAILED' })
    w.child.kill('SIGINT')
    assert.equal(await w.exit, 0)
  })

  it('uses the token from the cookie file when the node requires one, and exits 1 when refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bitwrk-worker-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    f = await startApi({ server: { requireToken: true, dataDir: dir } })
    const cookie = join(dir, '.cookie')
    const token = (await readFile(cookie, 'utf8')).trim()
    await grant(f, 'BUY', { authorization: `Bearer ${token}` })
    const refused = spawn(
      process.execPath,
      [CLI, 'worker', '--article', ART, '--exec', 'cat', '--api', f.url],
      {
        stdio: ['ignore', 'pipe', 'pipe']
      }
    )
    children.push(refused)
    let stderr = ''
    refused.stderr.on('data', (b: Buffer) => {
      stderr += b.toString()
    })
    const code = await new Promise<number | null>((resolve) => refused.on('exit', resolve))
    assert.equal(code, 1)
    assert.match(stderr, /API_UNAUTHORIZED/)
    const w = await startExecWorker([
      '--article',
      ART,
      '--exec',
      'cat',
      '--api',
      f.url,
      '--id',
      'tok',
      '--cookie',
      cookie
    ])
    children.push(w.child)
    const res = await buyText(f, 'same', { authorization: `Bearer ${token}` })
    assert.equal(res.status, 303)
    assert.equal(await (await call(`${f.url}${res.headers.get('location')}`)).text(), 'same')
    w.child.kill('SIGTERM')
    assert.equal(await w.exit, 0)
  })

  it('refuses a bad command line with exit code 2', async () => {
    f = await startApi()
    const child = spawn(process.execPath, [CLI, 'worker', '--exec', 'cat'], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    children.push(child)
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString()
    })
    assert.equal(await new Promise((resolve) => child.on('exit', resolve)), 2)
    assert.match(stderr, /CLI_MISSING_ARGUMENT/)
  })
})
