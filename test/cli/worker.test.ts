import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { workerCommand } from '../../cli/worker/worker.js'
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
