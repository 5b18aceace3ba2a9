import type { Metrics } from '@libp2p/interface'
import { type PrometheusMetricsInit, prometheusMetrics } from '@libp2p/prometheus-metrics'

/** The members of @libp2p/prometheus-metrics 5 that {@link prometheusMetricsTalliedPerStream} replaces. */
interface TransferInternals {
  transferStats?: Map<string, number>
  _track?: (stream: TrackedStream, name: string) => void
  registerCounter?: (name: string, opts?: { calculate?: unknown }) => unknown
}

/** @libp2p/prometheus-metrics 5's `PrometheusCounter`: `increment` goes to its prom-client counter. */
interface LibCounter {
  increment(value?: number): void
  reset(): void
  counter?: { inc(value: number): void; reset(): void; collect?: unknown }
}

// counters made per-scrape already (libp2p keeps its counters in one map per process, so
// several hosts of a process get the same counter object)
const tallied = new WeakSet<object>()

/**
 * Makes `increment` of a label-less libp2p counter add to a number that the counter's scrape
 * (its prom-client `collect`) adds to the prom-client counter: Noise counts every frame it
 * encrypts and decrypts, and prom-client's `inc` validates and hashes labels on every call
 * (about 2 % of the `gossip` bench, issue 14). The exported totals are the same at every scrape.
 */
export function tallyCounter(c: unknown): void {
  const lib = c as LibCounter | undefined
  const prom = lib?.counter
  if (lib === undefined || prom === undefined || prom.collect !== undefined || tallied.has(lib)) return
  if (typeof prom.inc !== 'function' || typeof lib.increment !== 'function') return
  tallied.add(lib)
  let pending = 0
  lib.increment = (value = 1) => {
    pending += value
  }
  const reset = lib.reset.bind(lib)
  lib.reset = () => {
    pending = 0
    reset()
  }
  prom.collect = () => {
    if (pending === 0) return
    prom.inc(pending)
    pending = 0
  }
}

/** What `_track` uses of a connection or protocol stream. */
interface TrackedStream {
  send(buf: Uint8Array | { byteLength: number }): unknown
  dispatchEvent(evt: Event): boolean
  addEventListener(type: 'close', fn: () => void, opts: { once: true }): void
}

/** Bytes one stream sent and received since its last flush. */
interface Tally {
  readonly sentKey: string
  readonly receivedKey: string
  sent: number
  received: number
}

/**
 * libp2p's Prometheus metrics (`prometheusMetrics(init)`), with its plain counters added up
 * between scrapes (`tallyCounter`) and the byte counts of
 * `libp2p_data_transfer_bytes_total{protocol}` (per protocol and `global`, `sent`/`received`)
 * kept per stream and added to the family's table when the stream closes and at every scrape.
 * The library adds every stream message to a map under a key it builds anew each time (a string
 * concatenation, hashed again for every lookup): four times for every gossip copy, about 4 % of
 * the `gossip` bench's CPU (issue 14). The counts exported are the same. If a later version
 * renames the internals, its own tracking stays (`test/node/host/host.test.ts` checks the family).
 */
export function prometheusMetricsTalliedPerStream(
  init: Partial<PrometheusMetricsInit>
): (components: Parameters<ReturnType<typeof prometheusMetrics>>[0]) => Metrics {
  const factory = prometheusMetrics(init)
  return (components) => {
    const metrics = factory(components)
    const internals = metrics as unknown as TransferInternals
    const registerCounter = internals.registerCounter?.bind(metrics)
    if (registerCounter !== undefined)
      internals.registerCounter = (name, opts) => {
        const c = registerCounter(name, opts)
        if (opts?.calculate === undefined) tallyCounter(c)
        return c
      }
    const stats = internals.transferStats
    if (!(stats instanceof Map) || typeof internals._track !== 'function') return metrics
    const live = new Set<Tally>()
    const flush = (t: Tally): void => {
      if (t.sent > 0) stats.set(t.sentKey, (stats.get(t.sentKey) ?? 0) + t.sent)
      if (t.received > 0) stats.set(t.receivedKey, (stats.get(t.receivedKey) ?? 0) + t.received)
      t.sent = 0
      t.received = 0
    }
    // the family's scrape reads the table with `entries()` (then clears it): open streams first
    const entries = stats.entries.bind(stats)
    stats.entries = () => {
      for (const t of live) flush(t)
      return entries()
    }
    internals._track = (stream, name) => {
      const t: Tally = { sentKey: `${name} sent`, receivedKey: `${name} received`, sent: 0, received: 0 }
      live.add(t)
      // as the library: wrap dispatchEvent, not a `message` listener (that would start the
      // stream's reads before its protocol handler listens)
      const dispatchEvent = stream.dispatchEvent.bind(stream)
      stream.dispatchEvent = (evt) => {
        if (evt.type === 'message')
          t.received += (evt as Event & { data: { byteLength: number } }).data.byteLength
        return dispatchEvent(evt)
      }
      const send = stream.send.bind(stream)
      stream.send = (buf) => {
        t.sent += buf.byteLength
        return send(buf)
      }
      stream.addEventListener(
        'close',
        () => {
          flush(t)
          live.delete(t)
        },
        { once: true }
      )
    }
    return metrics
  }
}
