import type {
  AvgMinMax,
  AvgMinMaxConfig,
  Gauge,
  GaugeConfig,
  Histogram,
  HistogramConfig,
  MetricsRegister,
  TopicStrToLabel
} from '@libp2p/gossipsub/metrics'
import { Gauge as PromGauge, Histogram as PromHistogram, type Registry } from 'prom-client'
import { parseTopic } from './topics.js'

type Labels = Record<string, string | number>

// GossipSub labels some metrics with topic strings, including topics that peers merely
// subscribe to: peer-supplied, unbounded. They are mapped to the topic kind instead.
const TOPIC_LABELS = new Set(['topic', 'topicStr'])

const KIND_LABELS = new Set(['bids', 'tx', 'evidence', 'other'])

/** Bounded label for a topic string: its kind (`bids`, `tx`, `evidence`) or `other`; kinds map to themselves. */
export function topicKindLabel(topic: string): string {
  if (KIND_LABELS.has(topic)) return topic
  return parseTopic(topic)?.kind ?? 'other'
}

function bounded(labels: Labels): Labels {
  // hot path (several calls per GossipSub RPC): topic labels usually arrive as kinds already
  // (TopicKindLabels), and then the caller's object is used as it is, without a copy
  let clean = true
  for (const k in labels)
    if (TOPIC_LABELS.has(k) && !KIND_LABELS.has(String(labels[k]))) {
      clean = false
      break
    }
  if (clean) return labels
  const out: Labels = {}
  for (const [k, v] of Object.entries(labels)) out[k] = TOPIC_LABELS.has(k) ? topicKindLabel(String(v)) : v
  return out
}

/** Splits GossipSub's overloaded `(labels, value)` / `(value)` call forms. */
function args<V>(a: Labels | V | undefined, b: V | undefined): [Labels, V | undefined] {
  return typeof a === 'object' && a !== null && !Array.isArray(a) ? [bounded(a as Labels), b] : [{}, a as V]
}

/**
 * The topic → label map GossipSub's metrics require: every topic maps to its kind, so labels
 * stay bounded whatever topics peers announce.
 */
export class TopicKindLabels extends Map<string, string> implements TopicStrToLabel {
  override get(topic: string): string {
    return topicKindLabel(topic)
  }
}

/**
 * Lets GossipSub register its metrics (`gossipsub_*`) in the node's prom-client registry,
 * so one scrape shows both (STYLE.md: one registry shared with libp2p). Topic labels are
 * reduced to the topic kind (a gauge set per topic then shows the last topic of that kind);
 * AvgMinMax metrics become three gauges `<name>_avg|_min|_max`. GossipSub fills its
 * scrape-time gauges from one collect hook, so some of them lag by one scrape.
 */
export function gossipsubMetricsRegister(registry: Registry): MetricsRegister {
  return {
    gauge<L extends Labels>(config: GaugeConfig<L>): Gauge<L> {
      const collectors: ((g: Gauge<L>) => void)[] = []
      const self: { api?: Gauge<L> } = {}
      const g = new PromGauge({
        name: config.name,
        help: config.help,
        labelNames: (config.labelNames ?? []) as string[],
        registers: [registry],
        collect() {
          for (const fn of collectors) if (self.api !== undefined) fn(self.api)
        }
      })
      const api = {
        inc: (a?: Labels | number, b?: number) => {
          const [labels, v] = args<number>(a, b)
          g.inc(labels, v ?? 1)
        },
        set: (a: Labels | number, b?: number) => {
          const [labels, v] = args<number>(a, b)
          g.set(labels, v ?? 0)
        },
        addCollect: (fn: (g: Gauge<L>) => void) => {
          collectors.push(fn)
        }
      }
      self.api = api as unknown as Gauge<L>
      return self.api
    },
    histogram<L extends Labels>(config: HistogramConfig<L>): Histogram<L> {
      const h = new PromHistogram({
        name: config.name,
        help: config.help,
        labelNames: (config.labelNames ?? []) as string[],
        ...(config.buckets !== undefined ? { buckets: config.buckets } : {}),
        registers: [registry]
      })
      const api = {
        startTimer: () => h.startTimer(),
        observe: (a: Labels | number, b?: number) => {
          const [labels, v] = args<number>(a, b)
          h.observe(labels, v ?? 0)
        },
        reset: () => h.reset()
      }
      return api as unknown as Histogram<L>
    },
    avgMinMax<L extends Labels>(config: AvgMinMaxConfig<L>): AvgMinMax<L> {
      const labelNames = (config.labelNames ?? []) as string[]
      const make = (stat: string) =>
        new PromGauge({
          name: `${config.name}_${stat}`,
          help: `${config.help} (${stat})`,
          labelNames,
          registers: [registry]
        })
      const avg = make('avg')
      const min = make('min')
      const max = make('max')
      const api = {
        set: (a: Labels | number[], b?: number[]) => {
          const [labels, values] = args<number[]>(a, b)
          if (values === undefined || values.length === 0) return
          let sum = 0
          let lo = Number.POSITIVE_INFINITY
          let hi = Number.NEGATIVE_INFINITY
          for (const x of values) {
            sum += x
            if (x < lo) lo = x
            if (x > hi) hi = x
          }
          avg.set(labels, sum / values.length)
          min.set(labels, lo)
          max.set(labels, hi)
        }
      }
      return api as unknown as AvgMinMax<L>
    }
  }
}
