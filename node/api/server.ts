/**
 * The local HTTP API server (protocol/spec/local-api.md): `node:http`, the route table of
 * `routes.ts`, and the guards of API-2/API-3 (Host/Origin checks, loopback-only routes, the
 * cookie-file token when bound beyond loopback). `stop()` aborts running buys and uploads,
 * closes every connection, removes the cookie file; it is idempotent and never sleeps.
 */

import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { MandateBook } from '../mandates/index.js'
import type { WorkerPool } from '../workers/index.js'
import { createCookieFile, isLoopbackAddress, removeCookieFile, tokenCookieName } from './auth.js'
import { EventHub } from './dashboard/events.js'
import { ApiCode, ApiError } from './errors.js'
import type { NodeFacade } from './facade.js'
import { type GuardPolicy, guardRequest } from './guard.js'
import { errorBody, sendJson, toApiError } from './http.js'
import { findRoute, type RouteContext } from './routes.js'

/** Default port of the original client's internal API (§8.1 `-intport 8081`). */
export const DEFAULT_API_PORT = 8081
/** Default interface (§8.1 `-intiface 127.0.0.1`). */
export const DEFAULT_API_HOST = '127.0.0.1'
/** Default largest work upload: 1 GiB (a bound; Blender scenes of the original were up to hundreds of MB). */
export const DEFAULT_MAX_BODY_BYTES = 2 ** 30
/** Largest JSON body (mandate grants are a few hundred bytes). */
export const DEFAULT_MAX_JSON_BYTES = 16 * 1024
/** Largest form body of `registerworker` / `unregisterworker`. */
export const DEFAULT_MAX_FORM_BYTES = 8 * 1024
/** API-20: a client has this long to send its request headers. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000
/** API-20: an upload that sends no byte for this long is cut. */
export const DEFAULT_BODY_IDLE_TIMEOUT_MS = 30_000
/** API-20: the whole request, body included (1 GiB at 1.2 MB/s), must arrive within this. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15 * 60_000
/** API-20: most open connections (blocked buys, uploads, event streams, idle keep-alives). */
export const DEFAULT_MAX_CONNECTIONS = 256

/**
 * The connection cap (API-20): {@link DEFAULT_MAX_CONNECTIONS}, but at most a quarter of the
 * process's open-file limit, so that LevelDB, the chunk store and libp2p keep the rest.
 */
export function defaultMaxConnections(): number {
  let soft = Number.POSITIVE_INFINITY
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    if (m !== null && m[1] !== 'unlimited') soft = Number(m[1])
  } catch {
    // not Linux: keep the default
  }
  return Math.max(16, Math.min(DEFAULT_MAX_CONNECTIONS, Math.floor(soft / 4)))
}

/** Options of {@link ApiServer}. */
export interface ApiServerOptions {
  readonly facade: NodeFacade
  readonly mandates: MandateBook
  readonly workers: WorkerPool
  /** Interface to bind (default 127.0.0.1). */
  readonly host?: string
  /** Port (default 8081; 0 picks a free one). */
  readonly port?: number
  /** Data directory: where the token's cookie file `.cookie` is written when a token is required. */
  readonly dataDir?: string
  /** Require the token for state-changing requests; default: when `host` is not loopback. */
  readonly requireToken?: boolean
  /** Use this token instead of writing a cookie file (tests, or a token managed elsewhere). */
  readonly token?: string
  /**
   * Host names (besides loopback names and, off loopback, IP literals) the API answers to, e.g.
   * a LAN name of the machine (`--api-allow-host`, API-2).
   */
  readonly allowedHosts?: readonly string[]
  /** Most open connections (default {@link defaultMaxConnections}, API-20). */
  readonly maxConnections?: number
  /** Header deadline, ms (default {@link DEFAULT_HEADERS_TIMEOUT_MS}). */
  readonly headersTimeoutMs?: number
  /** Longest pause inside a request body, ms (default {@link DEFAULT_BODY_IDLE_TIMEOUT_MS}). */
  readonly bodyIdleTimeoutMs?: number
  /** Deadline of a whole request, body included, ms (default {@link DEFAULT_REQUEST_TIMEOUT_MS}). */
  readonly requestTimeoutMs?: number
  /** Let `/registerworker` and `/unregisterworker` work without the token (LAN workers of the original). */
  readonly openWorkerEndpoints?: boolean
  /** Largest work upload of `POST /buy` (default {@link DEFAULT_MAX_BODY_BYTES}). */
  readonly maxBodyBytes?: number
  /** Largest JSON body (default {@link DEFAULT_MAX_JSON_BYTES}). */
  readonly maxJsonBytes?: number
  /** Largest form body (default {@link DEFAULT_MAX_FORM_BYTES}). */
  readonly maxFormBytes?: number
  /** The clock (default `Date.now`). */
  readonly now?: () => number
  /** The peer address of a request (default: the socket's); lets tests model remote peers. */
  readonly peerAddress?: (req: IncomingMessage) => string | undefined
  /** Most concurrent `/api/v1/events` streams (default 16, API-13). */
  readonly maxEventClients?: number
  /** Heartbeat interval of the event streams, ms (default 15 s). */
  readonly eventHeartbeatMs?: number
  /** Sampling interval of the panels without events of their own, ms (default 500). */
  readonly eventSampleMs?: number
}

function digest(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)))
    .digest('hex')
    .slice(0, 16)
}

function isLoopbackBind(host: string): boolean {
  return host === 'localhost' || isLoopbackAddress(host)
}

/** The local HTTP API of one node. */
export class ApiServer {
  private readonly server: Server
  private readonly stopCtl = new AbortController()
  private readonly inFlight = new Set<Promise<void>>()
  private readonly host: string
  private readonly requireToken: boolean
  private token: string | undefined
  private cookiePath: string | undefined
  private started = false
  private stopping: Promise<void> | undefined
  /** The dashboard's event streams. */
  readonly events: EventHub

  constructor(private readonly options: ApiServerOptions) {
    this.host = options.host ?? DEFAULT_API_HOST
    this.requireToken = options.requireToken ?? !isLoopbackBind(this.host)
    const dashboard = options.facade.dashboard
    this.events = new EventHub({
      ...(options.maxEventClients !== undefined ? { maxClients: options.maxEventClients } : {}),
      ...(options.eventHeartbeatMs !== undefined ? { heartbeatMs: options.eventHeartbeatMs } : {}),
      ...(options.eventSampleMs !== undefined ? { sampleMs: options.eventSampleMs } : {}),
      ...(options.now !== undefined ? { now: options.now } : {}),
      ...(dashboard !== undefined ? { subscribe: (fn) => dashboard.subscribe(fn) } : {}),
      sample: async () => ({
        ...(dashboard !== undefined ? await dashboard.revisions() : {}),
        activities: digest(await options.facade.activities()),
        transactions: digest(
          (await options.facade.transactions()).map((t) => [t.txId, t.phase, t.messages.length])
        ),
        mandates: digest(options.mandates.list().map((m) => [m.id, m.tradesLeft ?? null])),
        workers: digest(options.workers.list())
      })
    })
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      const p = this.handle(req, res)
      this.inFlight.add(p)
      void p.finally(() => this.inFlight.delete(p))
    }
    // API-20: a client gets a deadline for its headers and for its body (a blocked buy's
    // answer has none: the buy's own deadlines bound it, and Node stops the request timer once
    // the body is in). Node checks both on an interval kept below the shortest deadline.
    const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    // Node requires headersTimeout <= requestTimeout
    const headersTimeout = Math.min(options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout)
    this.server = createServer(
      {
        headersTimeout,
        requestTimeout,
        connectionsCheckingInterval: Math.min(
          30_000,
          Math.max(50, Math.floor(Math.min(headersTimeout, requestTimeout) / 4))
        )
      },
      onRequest
    )
    // `Expect: 100-continue` (curl sends it for large uploads): the guards and the mandate check
    // run before the client is told to send the body, so a refused upload is never transferred.
    this.server.on('checkContinue', onRequest)
    // API-20: idle sockets cannot exhaust the descriptors libp2p and LevelDB need.
    this.server.maxConnections = options.maxConnections ?? defaultMaxConnections()
  }

  /** The bound address (after `start`). */
  get address(): AddressInfo {
    const a = this.server.address()
    if (a === null || typeof a === 'string') throw new Error('API server not started')
    return a
  }

  /** `http://host:port` of the bound server. */
  get url(): string {
    const a = this.address
    return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
  }

  /** Requests being handled right now (uploads and blocked buys included). */
  get activeRequests(): number {
    return this.inFlight.size
  }

  /** Path of the cookie file, when one was written. */
  get cookieFile(): string | undefined {
    return this.cookiePath
  }

  /** Writes the cookie file when a token is required, then listens. */
  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    if (this.requireToken) {
      if (this.options.token !== undefined) this.token = this.options.token
      else {
        if (this.options.dataDir === undefined)
          throw new ApiError(ApiCode.INTERNAL, 'a token is required: give dataDir or token')
        const c = await createCookieFile(this.options.dataDir)
        this.token = c.token
        this.cookiePath = c.path
      }
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.options.port ?? DEFAULT_API_PORT, this.host, () => {
        this.server.off('error', reject)
        resolve()
      })
    })
  }

  /** Aborts running requests, closes every connection, removes the cookie file; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopCtl.abort(new ApiError(ApiCode.UNAVAILABLE, 'server stopping'))
      this.events.stop()
      const closed = this.started
        ? new Promise<void>((resolve) => this.server.close(() => resolve()))
        : Promise.resolve()
      this.server.closeIdleConnections()
      await Promise.allSettled([...this.inFlight])
      this.server.closeAllConnections()
      await closed
      if (this.cookiePath !== undefined) await removeCookieFile(this.cookiePath)
    })()
    return this.stopping
  }

  private cookieName(): string {
    return tokenCookieName(this.started ? this.address.port : (this.options.port ?? DEFAULT_API_PORT))
  }

  private policy(): GuardPolicy {
    return {
      port: this.address.port,
      loopbackBind: isLoopbackBind(this.host),
      allowedHosts: (this.options.allowedHosts ?? []).map((h) => h.toLowerCase()),
      token: this.token,
      cookieName: this.cookieName()
    }
  }

  private peerOf(req: IncomingMessage): string | undefined {
    return this.options.peerAddress ? this.options.peerAddress(req) : req.socket.remoteAddress
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctl = new AbortController()
    const onClose = (): void => {
      if (!res.writableFinished) ctl.abort(new ApiError(ApiCode.UNAVAILABLE, 'client went away'))
    }
    res.once('close', onClose)
    // A stalled upload would keep its handler (and stop()) waiting for bytes that never come.
    const onStop = (): void => {
      if (!req.complete) req.destroy()
    }
    this.stopCtl.signal.addEventListener('abort', onStop, { once: true })
    // API-20: a body that stalls is cut (the socket's timer runs only while the body arrives).
    const socket = req.socket
    const idleMs = this.options.bodyIdleTimeoutMs ?? DEFAULT_BODY_IDLE_TIMEOUT_MS
    const onIdle = (): void => {
      socket.destroy()
    }
    let armed = false
    const bodyDone = (): void => {
      // only our own timer is cleared: after the answer, Node arms its keep-alive timer
      if (!armed) return
      armed = false
      socket.setTimeout(0)
      socket.off('timeout', onIdle)
    }
    // only a request with a body has one to wait for: a GET's `complete` is false until its
    // (empty) body is read, and a gateway GET /file may work for minutes before it answers
    const hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0')
    if (!req.complete && hasBody) {
      armed = true
      socket.setTimeout(idleMs)
      socket.once('timeout', onIdle)
      req.once('end', bodyDone)
    }
    const signal = AbortSignal.any([ctl.signal, this.stopCtl.signal])
    try {
      await this.route(req, res, signal)
    } catch (err) {
      const apiErr = toApiError(err, ApiCode.BAD_REQUEST)
      if (res.headersSent) {
        res.destroy()
        return
      }
      // The request body may be unread (refused early): close the connection after answering
      // rather than read an unwanted upload.
      if (!req.complete) res.setHeader('connection', 'close')
      sendJson(res, apiErr.status, errorBody(apiErr))
    } finally {
      res.off('close', onClose)
      req.off('end', bodyDone)
      bodyDone()
      this.stopCtl.signal.removeEventListener('abort', onStop)
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    if (this.stopCtl.signal.aborted) throw new ApiError(ApiCode.UNAVAILABLE, 'server stopping')
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      throw new ApiError(ApiCode.BAD_REQUEST, 'bad request target')
    }
    let path: string
    try {
      path = decodeURIComponent(url.pathname)
    } catch {
      throw new ApiError(ApiCode.BAD_REQUEST, 'bad percent-encoding in path')
    }
    const found = findRoute(path)
    if (found === undefined) throw new ApiError(ApiCode.NOT_FOUND, 'no such route')
    const { route, rest } = found
    const method = req.method ?? ''
    if (!route.methods.includes(method)) {
      res.setHeader('allow', route.methods.join(', '))
      throw new ApiError(ApiCode.METHOD_NOT_ALLOWED, `method ${method.slice(0, 10)} not allowed`)
    }
    const peerAddr = this.peerOf(req)
    if (route.loopbackOnly && !isLoopbackAddress(peerAddr))
      throw new ApiError(ApiCode.FORBIDDEN, 'this endpoint answers only loopback peers')
    const guardAs = (changesState: boolean): void =>
      guardRequest(
        { method, headers: req.headers, peer: peerAddr },
        {
          changesState,
          public: route.public === true,
          anyBodyType: route.anyBodyType === true,
          tokenExempt:
            route.tokenExempt === true ||
            (route.workerEndpoint === true && this.options.openWorkerEndpoints === true)
        },
        this.policy()
      )
    guardAs(route.changesState(method))
    const port = req.socket.remotePort ?? 0
    let continued = false
    const ctx: RouteContext = {
      req,
      res,
      url,
      rest,
      signal,
      facade: this.options.facade,
      mandates: this.options.mandates,
      workers: this.options.workers,
      now: this.options.now ?? Date.now,
      limits: {
        maxBodyBytes: this.options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
        maxJsonBytes: this.options.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES,
        maxFormBytes: this.options.maxFormBytes ?? DEFAULT_MAX_FORM_BYTES
      },
      peer: peerAddr?.includes(':') ? `[${peerAddr}]:${port}` : `${peerAddr}:${port}`,
      proceed: () => {
        if (continued || !/^100-continue$/i.test(String(req.headers.expect ?? ''))) return
        continued = true
        res.writeContinue()
      },
      events: this.events,
      tokenRequired: this.token !== undefined,
      auth: { token: this.token, cookieName: this.cookieName() },
      requireChange: () => guardAs(true)
    }
    if (route.defersContinue !== true) ctx.proceed()
    await route.handle(ctx)
  }
}
