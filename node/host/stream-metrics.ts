import { Counter, Gauge, type Registry } from 'prom-client'
import type { StreamGuardReason } from '../../cafs/adapters/libp2p/index.js'

/** The node's stream protocols, as a metrics label (bounded). */
export type StreamProtocolLabel = 'trade' | 'sync' | 'chunk'

/**
 * Metrics of the inbound stream guards of the trade, sync and chunk protocols (DESIGN.md
 * invariant 10: every limit has a metric). Labels are bounded: protocol and reason.
 */
export interface StreamMetrics {
  /** Inbound streams refused at a cap or the budget, or cut for an overrun, by protocol and reason. */
  readonly refusals: Counter<'protocol' | 'reason'>
  /** Reports one refusal (a function to pass as a service's `onStreamRefused`). */
  refused(protocol: StreamProtocolLabel): (reason: StreamGuardReason) => void
  /** Samples `count` for `bitwrk_inbound_streams{protocol}` at scrape time. */
  track(protocol: StreamProtocolLabel, count: () => number): void
}

const byRegistry = new WeakMap<Registry, StreamMetrics>()

/**
 * The stream metric families of `registry` (`bitwrk_inbound_stream_refusals_total`,
 * `bitwrk_inbound_streams`), created on first use: the node, its trade service and its sync
 * service share one registry and so one set.
 */
export function streamMetrics(registry: Registry): StreamMetrics {
  const known = byRegistry.get(registry)
  if (known !== undefined) return known
  const sources = new Map<StreamProtocolLabel, () => number>()
  const refusals = new Counter({
    name: 'bitwrk_inbound_stream_refusals_total',
    help: 'Inbound trade, sync and chunk streams refused at a stream cap or the invalid-request budget, or cut because the peer sent more than the step allows',
    labelNames: ['protocol', 'reason'],
    registers: [registry]
  })
  new Gauge({
    name: 'bitwrk_inbound_streams',
    help: 'Inbound streams being served, by protocol',
    labelNames: ['protocol'],
    registers: [registry],
    collect() {
      for (const [protocol, count] of sources) this.set({ protocol }, count())
    }
  })
  const metrics: StreamMetrics = {
    refusals,
    refused: (protocol) => (reason) => refusals.inc({ protocol, reason }),
    track: (protocol, count) => {
      sources.set(protocol, count)
    }
  }
  byRegistry.set(registry, metrics)
  return metrics
}
