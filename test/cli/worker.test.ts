import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { jobEnv, workerCommand } from '../../cli/worker/worker.js'
import { waitFor } from '../../node/testing.js'

/** A stand-in for a node's local API: answers /registerworker with the given statuses in turn. */
async function fakeNode(
  statuses: number[]
): Promise<{ url: string; server: Server; registrations: () => number }> {
  let registrations = 0
  const server = createServer((req, res) => {
    req.resume()
    if (req.url === '/registerworker') {
      const status = statuses[Math.min(registrations, statuses.length - 1)] ?? 200
      registrations++
      res
        .writeHead(status, { 'content-type': 'application/json' })
        .end(status === 200 ? '{}' : '{"code":"BUSY"}')
    } else res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, server, registrations: () => registrations }
}

function io(): { out: string[]; err: string[]; io: Parameters<typeof workerCommand>[1] } {
  const out: string[] = []
  const err: string[] = []
  return {
    out,
    err,
    io: {
      stdout: { write: (s: string) => out.push(s) },
      stderr: { write: (s: string) => err.push(s) },
      env: {}
    }
  }
}

describe('cli worker registration (a loaded node answers late, not never)', function () {
  this.timeout(30_000)

  it('asks a node that answers 503 again, with back-off, until it registers', async () => {
    const node = await fakeNode([503, 503, 200])
    const stop = new AbortController()
    const t = io()
    try {
      const run = workerCommand(
        ['--article', 'net.bitwrk/test/0', '--exec', 'cat', '--api', node.url],
        t.io,
        stop.signal
      )
      await waitFor(() => t.out.join('').includes('registered'), { timeoutMs: 20_000 })
      assert.equal(node.registrations(), 3)
      stop.abort()
      assert.equal(await run, 0)
    } finally {
      node.server.close()
    }
  })

  it('gives up at once when the node refuses the registration (4xx)', async () => {
    const node = await fakeNode([403])
    const t = io()
    try {
      const code = await workerCommand(
        ['--article', 'net.bitwrk/test/0', '--exec', 'cat', '--api', node.url],
        t.io,
        new AbortController().signal
      )
      assert.notEqual(code, 0)
      assert.equal(node.registrations(), 1)
      assert.match(t.err.join(''), /refused/)
    } finally {
      node.server.close()
    }
  })
})

describe('cli worker: CMD reaches the node (WRK-12)', function () {
  this.timeout(30_000)

  it('runs CMD with BITWRK_NODE_API (no trailing slash) and BITWRK_NODE_TOKEN when it holds the token', async () => {
    let form = new URLSearchParams()
    const server = createServer((req, res) => {
      let body = ''
      req.setEncoding('utf8')
      req.on('data', (c: string) => {
        body += c
      })
      req.on('end', () => {
        if (req.url === '/registerworker') form = new URLSearchParams(body)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const stop = new AbortController()
    const t = io()
    try {
      const run = workerCommand(
        [
          '--article',
          'net.bitwrk/test/0',
          '--exec',
          'printf "%s|%s" "$BITWRK_NODE_API" "$BITWRK_NODE_TOKEN"',
          '--api',
          `${api}/`,
          '--token',
          'cd'.repeat(32)
        ],
        t.io,
        stop.signal
      )
      await waitFor(() => form.get('pushurl') !== null, { timeoutMs: 20_000, what: 'registration' })
      const res = await fetch(form.get('pushurl') as string, {
        method: 'POST',
        body: 'work',
        signal: AbortSignal.timeout(10_000)
      })
      assert.equal(res.status, 200)
      assert.equal(await res.text(), `${api}|${'cd'.repeat(32)}`)
      stop.abort()
      assert.equal(await run, 0)
    } finally {
      server.close()
    }
  })

  it('leaves BITWRK_NODE_TOKEN out when the worker holds no token, even if its own environment has one', () => {
    const saved = process.env['BITWRK_NODE_TOKEN']
    process.env['BITWRK_NODE_TOKEN'] = 'stale'
    try {
      const env = jobEnv({ api: 'http://127.0.0.1:8081//', token: undefined })
      assert.equal(env['BITWRK_NODE_API'], 'http://127.0.0.1:8081')
      assert.equal(env['BITWRK_NODE_TOKEN'], undefined)
      assert.equal(env['PATH'], process.env['PATH'])
    } finally {
      if (saved === undefined) delete process.env['BITWRK_NODE_TOKEN']
      else process.env['BITWRK_NODE_TOKEN'] = saved
    }
  })
})
