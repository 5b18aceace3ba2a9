import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import { MemoryChunkStore } from '../../../cafs/store/memory.js'
import { exportStream } from '../../../cafs/stream.js'
import { pushWork, WorkerPool } from '../../../node/workers/index.js'

const ART = 'net.bitwrk/gorays/0'

/** What a raw worker saw of one request: its header block and the body bytes it read. */
interface Seen {
  head: string
  body: Buffer
}

/**
 * A worker on a raw socket, as a program written from "raw work as body" alone would be: it
 * never sends `100 Continue` (like Python's `http.server` in its default HTTP/1.0 mode) and
 * `respond` decides, from the header block and what arrived, when and what to answer.
 */
async function rawWorker(
  respond: (head: string, received: Buffer, socket: Socket) => boolean
): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    let buf = Buffer.alloc(0)
    let done = false
    socket.on('data', (d: Buffer) => {
      if (done) return
      buf = Buffer.concat([buf, d])
      const end = buf.indexOf('\r\n\r\n')
      if (end < 0) return
      const head = buf.subarray(0, end).toString('latin1')
      const received = buf.subarray(end + 4)
      if (respond(head, received, socket)) {
        done = true
        seen.push({ head, body: received })
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    url: `http://127.0.0.1:${port}/work`,
    seen,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}

/** A worker that reads `Content-Length` bytes (0: the header is absent) and answers at once. */
function contentLengthReader(status: number, answer: string) {
  return (head: string, received: Buffer, socket: Socket): boolean => {
    const m = /\r\ncontent-length: *(\d+)/i.exec(head)
    const want = m === null ? 0 : Number(m[1])
    if (received.length < want) return false
    socket.end(`HTTP/1.0 ${status} X\r\ncontent-length: ${answer.length}\r\n\r\n${answer}`)
    return true
  }
}

/** Decodes a complete chunked body, or undefined while its last chunk has not arrived. */
function dechunk(raw: Buffer): Buffer | undefined {
  const parts: Buffer[] = []
  let at = 0
  for (;;) {
    const eol = raw.indexOf('\r\n', at)
    if (eol < 0) return undefined
    const size = Number.parseInt(raw.subarray(at, eol).toString('latin1'), 16)
    if (size === 0) return raw.length >= eol + 4 ? Buffer.concat(parts) : undefined
    if (raw.length < eol + 2 + size + 2) return undefined
    parts.push(raw.subarray(eol + 2, eol + 2 + size))
    at = eol + 2 + size + 2
  }
}

describe('node/workers push (WRK-4, WRK-10)', () => {
  const cleanups: (() => Promise<void> | void)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })
  const worker = async (respond: Parameters<typeof rawWorker>[0]) => {
    const w = await rawWorker(respond)
    cleanups.push(() => w.close())
    return w
  }
  // a wait for `100 Continue` longer than any test: the work is only sent on 100 Continue
  const noFallback = { timeoutMs: 10_000, maxResultBytes: 1 << 20, expectContinueMs: 600_000 }

  it('fails with WORKER_BODY_UNREAD when a worker answers before it read the work (a Content-Length reader)', async () => {
    for (const status of [200, 500]) {
      const w = await worker(contentLengthReader(status, 'result-of-nothing'))
      const store = new MemoryChunkStore()
      const out = await pushWork(w.url, new TextEncoder().encode('{"tile":1}'), { ...noFallback, store })
      assert.equal(out.ok, false, `status ${status}`)
      assert.deepEqual(out.ok ? {} : { code: out.code, status: out.status }, {
        code: 'WORKER_BODY_UNREAD',
        status
      })
      assert.match(out.ok ? '' : out.message, /chunked/)
      assert.equal(store.stats().chunks, 0)
      // the worker saw the request without a Content-Length and read none of the work
      assert.match(w.seen[0]?.head ?? '', /\r\ntransfer-encoding: chunked/i)
      assert.doesNotMatch(w.seen[0]?.head ?? '', /\r\ncontent-length/i)
      assert.match(w.seen[0]?.head ?? '', /\r\nexpect: 100-continue/i)
      assert.equal(w.seen[0]?.body.length, 0)
    }
  })

  it('sends the work after the wait to a worker that never answers 100 Continue but reads the chunked body', async () => {
    const w = await worker((_head, received, socket) => {
      const work = dechunk(received)
      if (work === undefined) return false
      socket.end(`HTTP/1.0 200 OK\r\n\r\nrendered(${work.toString()})`)
      return true
    })
    const store = new MemoryChunkStore()
    const out = await pushWork(w.url, new TextEncoder().encode('tile 7'), {
      ...noFallback,
      expectContinueMs: 20,
      store
    })
    assert.ok(out.ok, out.ok ? '' : out.message)
    const parts: Uint8Array[] = []
    for await (const c of exportStream(out.manifest, store)) parts.push(c)
    assert.equal(Buffer.concat(parts).toString(), 'rendered(tile 7)')
  })

  it('blocks a worker that answered without reading for the back-off, with the reason in lastError', async () => {
    const w = await worker(contentLengthReader(200, 'nothing'))
    const p = new WorkerPool({ backoffMs: 60_000, dispatchTimeoutMs: 10_000, expectContinueMs: 600_000 })
    cleanups.push(() => p.stop())
    p.register({ id: 'w1', article: ART, pushUrl: w.url })
    await assert.rejects(p.dispatch('w1', new Uint8Array([1, 2, 3]), { store: new MemoryChunkStore() }), {
      code: 'WORKER_BODY_UNREAD',
      details: { id: 'w1', status: 200 }
    })
    const v = p.get('w1')
    assert.match(v?.lastError ?? '', /^WORKER_BODY_UNREAD: worker answered 200 before it read the work/)
    assert.ok((v?.blockedUntilMs ?? 0) > Date.now())
  })
})
