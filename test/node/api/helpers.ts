import type { IncomingMessage } from 'node:http'
import { ApiServer, type ApiServerOptions } from '../../../node/api/server.js'
import { createTestFacade, type TestFacade, type TestFacadeOptions } from '../../../node/api/testing.js'
import { MandateBook } from '../../../node/mandates/index.js'
import { createMemoryController, type KvController } from '../../../node/store/db.js'
import { WorkerPool, type WorkerPoolOptions } from '../../../node/workers/index.js'

/** A running API server with a test facade, in-memory mandates and a worker pool. */
export interface ApiFixture {
  server: ApiServer
  facade: TestFacade
  mandates: MandateBook
  workers: WorkerPool
  kv: KvController
  url: string
  stop(): Promise<void>
}

/** Options of {@link startApi}. */
export interface StartOptions {
  server?: Partial<Omit<ApiServerOptions, 'facade' | 'mandates' | 'workers'>>
  facade?: Omit<TestFacadeOptions, 'workers'>
  workers?: Omit<WorkerPoolOptions, 'mandates'>
  /** Override the peer address (models remote peers while listening on 127.0.0.1). */
  peerAddress?: (req: IncomingMessage) => string | undefined
}

/** Starts an API on 127.0.0.1 port 0; `stop()` tears everything down. */
export async function startApi(opts: StartOptions = {}): Promise<ApiFixture> {
  const kv = createMemoryController()
  const { book: mandates } = await MandateBook.open(kv)
  const workers = new WorkerPool({ mandates, backoffMs: 50, dispatchTimeoutMs: 10_000, ...opts.workers })
  const facade = createTestFacade({ ...opts.facade, workers })
  const server = new ApiServer({
    facade,
    mandates,
    workers,
    host: '127.0.0.1',
    port: 0,
    ...(opts.peerAddress === undefined ? {} : { peerAddress: opts.peerAddress }),
    ...opts.server
  })
  await server.start()
  return {
    server,
    facade,
    mandates,
    workers,
    kv,
    url: server.url,
    stop: async () => {
      await server.stop()
      workers.stop()
      await kv.close()
    }
  }
}

/** fetch without following redirects, with a deadline. */
export function call(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(15_000), ...init })
}

/** The JSON error body of a response. */
export async function errorOf(res: Response): Promise<{ status: number; code: string; detail?: string }> {
  const body = (await res.json()) as { code: string; message: string; detail?: string }
  if (typeof body.code !== 'string' || typeof body.message !== 'string') throw new Error('not an error body')
  return {
    status: res.status,
    code: body.code,
    ...(body.detail === undefined ? {} : { detail: body.detail })
  }
}

/** A multipart body with the given fields (name → content). */
export function multipart(
  fields: [string, Uint8Array | string][],
  boundary = 'XyZ-boundary-123'
): {
  body: Uint8Array<ArrayBuffer>
  contentType: string
} {
  const parts: Buffer[] = []
  for (const [name, value] of fields) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="w.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`
      )
    )
    parts.push(Buffer.from(value))
    parts.push(Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return {
    body: new Uint8Array(Buffer.concat(parts)),
    contentType: `multipart/form-data; boundary=${boundary}`
  }
}
