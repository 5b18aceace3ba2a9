/**
 * The dashboard's live updates (protocol/spec/local-api.md API-13): a Server-Sent
 * Events hub with a bounded number of clients, a heartbeat, and change detection. Market
 * events (epochs, matches, transactions) are forwarded as they happen; panels without events
 * of their own (book, activities, peers, store, mandates, workers) are sampled while at least
 * one client listens and announced when their revision string changes. With no client the hub
 * holds no timer and no subscription; `stop()` ends every stream.
 */
import type { ServerResponse } from 'node:http'
import { ApiCode, ApiError } from '../errors.js'
import type { DashboardEvent } from '../facade.js'

/** Default most concurrent event streams (a handful of browser tabs; each holds a socket). */
export const DEFAULT_MAX_EVENT_CLIENTS = 16
/** Default heartbeat interval: below the 30–60 s idle timeouts of common proxies. */
export const DEFAULT_HEARTBEAT_MS = 15_000
/** Default sampling interval of the panels without events: half a second feels live. */
export const DEFAULT_SAMPLE_MS = 500
/** A client whose socket buffers more than this is too slow and is dropped (invariant 10). */
export const MAX_CLIENT_BUFFER_BYTES = 256 * 1024
/** Reconnect delay the browser is told to use (`retry:` field), ms. */
const RETRY_MS = 2000

/** Options of {@link EventHub}. */
export interface EventHubOptions {
  readonly maxClients?: number
  readonly heartbeatMs?: number
  readonly sampleMs?: number
  /** Revision strings per panel; a changed value is announced as event `<panel>` (the part before `:`). */
  readonly sample: () => Promise<Readonly<Record<string, string>>>
  /** Subscribes to pushed events; returns the unsubscribe function. */
  readonly subscribe?: (listener: (e: DashboardEvent) => void) => () => void
  /** Clock for the heartbeat comment. */
  readonly now?: () => number
}

interface Client {
  readonly res: ServerResponse
  readonly done: () => void
}

/** The SSE hub of one API server. */
export class EventHub {
  private readonly clients = new Set<Client>()
  private readonly maxClients: number
  private seq = 0
  private heartbeat: ReturnType<typeof setInterval> | undefined
  private sampler: ReturnType<typeof setTimeout> | undefined
  private unsubscribe: (() => void) | undefined
  private last: Readonly<Record<string, string>> | undefined
  private sampling = false
  private stopped = false

  constructor(private readonly o: EventHubOptions) {
    this.maxClients = o.maxClients ?? DEFAULT_MAX_EVENT_CLIENTS
  }

  /** Streams connected now. */
  get size(): number {
    return this.clients.size
  }

  /** The bound on streams. */
  get capacity(): number {
    return this.maxClients
  }

  /**
   * Turns `res` into an event stream and resolves when it ends (client gone, `signal` aborted
   * or hub stopped). Throws `API_CONFLICT` when {@link capacity} streams are open.
   */
  serve(res: ServerResponse, signal: AbortSignal): Promise<void> {
    if (this.stopped || signal.aborted) throw new ApiError(ApiCode.UNAVAILABLE, 'server stopping')
    if (this.clients.size >= this.maxClients)
      throw new ApiError(ApiCode.CONFLICT, `at most ${this.maxClients} event streams`)
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // reverse proxies (nginx) must not buffer the stream
      'x-accel-buffering': 'no'
    })
    return new Promise<void>((resolve) => {
      let finished = false
      const done = (): void => {
        if (finished) return
        finished = true
        this.clients.delete(client)
        res.off('close', done)
        signal.removeEventListener('abort', done)
        if (!res.writableEnded) res.end()
        if (this.clients.size === 0) this.idle()
        resolve()
      }
      const client: Client = { res, done }
      this.clients.add(client)
      res.once('close', done)
      signal.addEventListener('abort', done, { once: true })
      res.write(`retry: ${RETRY_MS}\n\n`)
      this.write(client, { type: 'hello', data: { clients: this.clients.size, maxClients: this.maxClients } })
      if (this.clients.size === 1) this.active()
    })
  }

  /** Sends `e` to every stream. */
  publish(e: DashboardEvent): void {
    for (const c of [...this.clients]) this.write(c, e)
  }

  /** Ends every stream and drops timers and subscriptions; idempotent. */
  stop(): void {
    this.stopped = true
    for (const c of [...this.clients]) c.done()
    this.idle()
  }

  private write(c: Client, e: DashboardEvent): void {
    // A slow reader would make the buffer grow without bound: drop it, EventSource reconnects.
    if (c.res.writableLength > MAX_CLIENT_BUFFER_BYTES) {
      c.res.destroy()
      c.done()
      return
    }
    this.seq++
    // JSON never contains a raw newline, so one `data:` line carries the whole payload.
    c.res.write(`id: ${this.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`)
  }

  private active(): void {
    if (this.stopped) return
    this.unsubscribe = this.o.subscribe?.((e) => this.publish(e))
    const now = this.o.now ?? Date.now
    this.heartbeat = setInterval(() => {
      // a comment line: keeps proxies and the browser's connection alive, ignored by EventSource
      for (const c of [...this.clients])
        if (c.res.writableLength <= MAX_CLIENT_BUFFER_BYTES) c.res.write(`: heartbeat ${now()}\n\n`)
    }, this.o.heartbeatMs ?? DEFAULT_HEARTBEAT_MS)
    this.heartbeat.unref()
    this.scheduleSample()
  }

  private idle(): void {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat)
    if (this.sampler !== undefined) clearTimeout(this.sampler)
    this.heartbeat = undefined
    this.sampler = undefined
    this.unsubscribe?.()
    this.unsubscribe = undefined
    this.last = undefined
  }

  private scheduleSample(): void {
    if (this.clients.size === 0 || this.stopped) return
    this.sampler = setTimeout(() => void this.sample(), this.o.sampleMs ?? DEFAULT_SAMPLE_MS)
    this.sampler.unref()
  }

  private async sample(): Promise<void> {
    if (this.sampling) return
    this.sampling = true
    try {
      const now = await this.o.sample()
      const before = this.last
      this.last = now
      if (before !== undefined && this.clients.size > 0) {
        const changed = new Set<string>()
        for (const [k, v] of Object.entries(now)) if (before[k] !== v) changed.add(k)
        for (const k of Object.keys(before)) if (!(k in now)) changed.add(k)
        for (const k of changed) {
          const colon = k.indexOf(':')
          const type = colon < 0 ? k : k.slice(0, colon)
          this.publish({ type, data: colon < 0 ? {} : { article: k.slice(colon + 1) } })
        }
      }
    } catch {
      // a failed sample (node stopping) is simply skipped; the next one retries
    } finally {
      this.sampling = false
      if (this.sampler !== undefined) this.scheduleSample()
    }
  }
}
