/**
 * The daemon's built-in local HTTP API: the read-only JSON views (`/api/v1/identity`,
 * `/api/v1/peers`, `/api/v1/status`, `/api/v1/epochs/<matchKey>`), `/version`, and `POST /api/v1/bids` to place a bid by
 * hand. It binds to loopback. The BitWrk API (buy, files, workers, mandates) is `node/api/` on
 * its own port; here those paths answer 501 with `DAEMON_API_MISSING`.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { BitwrkError, isBitwrkError } from '../../protocol/errors.js'
import { parseMoney } from '../../protocol/money/index.js'
import type { BitwrkNode } from '../node.js'
import { identityView, peersView, statusView } from './status.js'

/** Codes of the daemon's local API (`DAEMON_*`), returned as `{code, message}` bodies. */
export const DaemonApiCode = {
  /** No such path. */
  NOT_FOUND: 'DAEMON_NOT_FOUND',
  /** The path belongs to the main local API (node/api/), on its own port. */
  API_MISSING: 'DAEMON_API_MISSING',
  /** Wrong method for the path. */
  BAD_METHOD: 'DAEMON_BAD_METHOD',
  /** Malformed JSON body or field. */
  BAD_REQUEST: 'DAEMON_BAD_REQUEST',
  /** A request from a non-loopback peer. */
  FORBIDDEN: 'DAEMON_FORBIDDEN'
} as const

/** Largest JSON body accepted (a bid request is ~200 bytes). */
const MAX_JSON_BYTES = 16 * 1024

/** Paths of the original client API and `/api/v1` that the full API (node/api/) serves. */
const FULL_API_PREFIXES = [
  '/buy/',
  '/file/',
  '/registerworker',
  '/unregisterworker',
  '/api/v1/book/',
  '/api/v1/activities',
  '/api/v1/transactions',
  '/api/v1/mandates',
  '/api/v1/workers',
  '/api/v1/store'
]

/** Options of {@link DaemonApi}. */
export interface DaemonApiOptions {
  readonly node: BitwrkNode
  readonly version: string
  readonly host: string
  readonly port: number
  readonly startedMs: number
  /** Which daemon pieces run (shown by `/api/v1/status`). */
  readonly services: () => Record<string, boolean>
}

/** The built-in local API server. */
export class DaemonApi {
  private readonly server: Server
  private started = false
  private stopping: Promise<void> | undefined

  constructor(private readonly opts: DaemonApiOptions) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const code = isBitwrkError(err) ? err.code : 'DAEMON_INTERNAL'
        send(res, isBitwrkError(err) ? 400 : 500, {
          code,
          message: err instanceof Error ? err.message : 'error'
        })
      })
    })
    this.server.headersTimeout = 10_000
  }

  /** Listens on host:port (port 0: a free one). */
  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
  }

  /** `http://host:port` of the bound server. */
  get url(): string {
    const a = this.server.address() as AddressInfo | null
    if (a === null) throw new Error('daemon API not started')
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
  }

  /** Closes the server and every connection; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      if (!this.started) return resolve()
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
    return this.stopping
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { node, version } = this.opts
    const remote = req.socket.remoteAddress ?? ''
    if (!(remote === '::1' || remote.startsWith('127.') || remote.startsWith('::ffff:127.')))
      return send(res, 403, { code: DaemonApiCode.FORBIDDEN, message: 'loopback only' })
    // a request target such as `//x` or `%zz` is the client's error (400), never a 500
    let path: string
    try {
      path = new URL(`http://localhost${req.url ?? '/'}`).pathname
    } catch {
      return send(res, 400, { code: DaemonApiCode.BAD_REQUEST, message: 'malformed request target' })
    }
    const get = req.method === 'GET' || req.method === 'HEAD'
    if (path === '/version' && get) return sendText(res, `${version}\n`)
    if (path === '/api/v1/identity' && get) return send(res, 200, identityView(node, version))
    if (path === '/api/v1/peers' && get) return send(res, 200, peersView(node))
    if (path === '/api/v1/status' && get)
      return send(
        res,
        200,
        statusView(node, {
          version,
          startedMs: this.opts.startedMs,
          nowMs: Date.now(),
          services: this.opts.services()
        })
      )
    if (path.startsWith('/api/v1/epochs/') && get) {
      // MATCH-13 digests of every remembered epoch of one match key, to compare nodes
      let key: string
      try {
        key = decodeURIComponent(path.slice('/api/v1/epochs/'.length))
      } catch {
        return send(res, 400, { code: DaemonApiCode.BAD_REQUEST, message: 'malformed match key' })
      }
      return send(res, 200, { key, epochs: node.market.epochs(key) })
    }
    if (path === '/api/v1/bids') {
      if (req.method !== 'POST')
        return send(res, 405, { code: DaemonApiCode.BAD_METHOD, message: 'POST only' })
      return this.placeBid(req, res)
    }
    if (FULL_API_PREFIXES.some((p) => path === p || path.startsWith(p)))
      return send(res, 501, {
        code: DaemonApiCode.API_MISSING,
        message: 'served by the main local API (apiUrl in daemon.json), not the status API'
      })
    return send(res, 404, { code: DaemonApiCode.NOT_FOUND, message: 'no such path' })
  }

  /** `POST /api/v1/bids` `{article, side, price, lifetimeMs?}` → `{bidId}`. */
  private async placeBid(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req)
    const o = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {}
    const { article, side, price, lifetimeMs } = o
    if (typeof article !== 'string' || (side !== 'BUY' && side !== 'SELL') || typeof price !== 'string')
      return send(res, 400, {
        code: DaemonApiCode.BAD_REQUEST,
        message: 'need article, side BUY|SELL, price'
      })
    if (lifetimeMs !== undefined && (typeof lifetimeMs !== 'number' || !Number.isSafeInteger(lifetimeMs)))
      return send(res, 400, { code: DaemonApiCode.BAD_REQUEST, message: 'lifetimeMs must be an integer' })
    // A hand-placed BUY commits to a random work (TX-15): it establishes, but no trade follows.
    const work =
      side === 'BUY'
        ? { workHash: randomBytes(32).toString('hex'), buyerSecret: randomBytes(32).toString('hex') }
        : undefined
    const bid = await this.opts.node.placeBid({
      article,
      side,
      price: parseMoney(price),
      ...(lifetimeMs !== undefined ? { lifetimeMs } : {}),
      ...(work !== undefined ? { work } : {})
    })
    return send(res, 200, { bidId: bid.id })
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = []
  let n = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length
    if (n > MAX_JSON_BYTES) throw new BitwrkError(DaemonApiCode.BAD_REQUEST, 'body too large')
    parts.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8'))
  } catch {
    return undefined
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function sendText(res: ServerResponse, text: string): void {
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text)
  })
  res.end(text)
}
