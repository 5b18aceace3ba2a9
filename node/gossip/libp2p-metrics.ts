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
import { Gauge as PromGauge, type Registry } from 'prom-client'
import { parseTopic } from './topics.js'

type Labels = Record<string, string | number>

// GossipSub labels some metrics with topic strings, including topics that peers merely
// subscribe to: peer-supplied, unbounded. They are mapped to the topic kind instead.
const TOPIC_LABELS = new Set(['topic', 'topicStr'])

const KIND_LABELS = new Set(['bids', 'tx', 'evidence', 'other'])

// topic string → kind, for the few topics a node sees (GossipSub asks once per message and
// metric); emptied when full, so peer-supplied topics cannot grow it
const kindCache = new Map<string, string>()
const KIND_CACHE_MAX = 256

/** Bounded label for a topic string: its kind (`bids`, `tx`, `evidence`) or `other`; kinds map to themselves. */
export function topicKindLabel(topic: string): string {
  if (KIND_LABELS.has(topic)) return topic
  const known = kindCache.get(topic)
  if (known !== undefined) return known
  const kind = parseTopic(topic)?.kind ?? 'other'
  if (kindCache.size >= KIND_CACHE_MAX) kindCache.clear()
  kindCache.set(topic, kind)
  return kind
}

/**
 * The children of one metric, one per combination of label values, found by walking nested maps
 * keyed by the values in label-name order: no key string, sorting or validation per call, which
 * prom-client does on every `inc`/`observe` (issue 14: GossipSub updates several metrics per
 * copy of a message). Topic labels are looked up by their kind (`topicKindLabel`).
 */
class Children<C> {
  private readonly root = new Map<unknown, unknown>()
  // per label name: a topic label, whose peer-supplied values are reduced to kinds before the
  // lookup so that they cannot grow the maps
  private readonly topic: boolean[]
  /** Every child made so far. */
  readonly all: C[] = []

  constructor(
    private readonly names: readonly string[],
    private readonly make: (labels: Record<string, string>) => C
  ) {
    this.topic = names.map((n) => TOPIC_LABELS.has(n))
  }

  private value(labels: Labels | undefined, i: number): unknown {
    const v = labels?.[this.names[i] as string]
    if (v === undefined) return v
    // one key per exported value: 1 and '1' are the same label
    if (this.topic[i] === true) return topicKindLabel(String(v))
    return typeof v === 'string' ? v : String(v)
  }

  /** The child for `labels` (made on first use). */
  get(labels: Labels | undefined): C {
    const names = this.names
    let node: Map<unknown, unknown> = this.root
    const last = names.length - 1
    if (last < 0) {
      const only = node.get(undefined) as C | undefined
      return only ?? this.add(node, undefined, {})
    }
    for (let i = 0; i < last; i++) {
      const v = this.value(labels, i)
      let next = node.get(v) as Map<unknown, unknown> | undefined
      if (next === undefined) {
        next = new Map()
        node.set(v, next)
      }
      node = next
    }
    const v = this.value(labels, last)
    const child = node.get(v) as C | undefined
    return child ?? this.add(node, v, labels ?? {})
  }

  private add(node: Map<unknown, unknown>, key: unknown, labels: Labels): C {
    const clean: Record<string, string> = {}
    for (const name of this.names) {
      const v = labels[name]
      if (v === undefined) continue
      clean[name] = TOPIC_LABELS.has(name) ? topicKindLabel(String(v)) : String(v)
    }
    const child = this.make(clean)
    node.set(key, child)
    this.all.push(child)
    return child
  }
}

/** Splits GossipSub's overloaded `(labels, value)` / `(value)` call forms. */
function isLabels(a: unknown): a is Labels {
  return typeof a === 'object' && a !== null && !Array.isArray(a)
}

/** prom-client's default histogram buckets, seconds. */
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

interface HistogramChild {
  readonly labels: Record<string, string>
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  readonly counts: number[]
  sum: number
  count: number
}

interface SampleValue {
  labels: Record<string, string | number>
  sharedLabels?: Record<string, string>
  value: number
  metricName: string
  exemplar?: null | undefined
}

/**
 * A histogram in a prom-client registry, exported exactly as prom-client's `Histogram` is
 * (`_bucket{le}` cumulative, `_sum`, `_count`), but observed in a few array operations: one
 * GossipSub histogram is observed for every duplicate copy received (issue 14).
 */
class BucketHistogram {
  /** prom-client's metric type. */
  readonly type = 'histogram'
  /** How a cluster registry would merge it (prom-client's default). */
  readonly aggregator = 'sum'
  private readonly bounds: number[]
  private children: Children<HistogramChild>

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    buckets: readonly number[] | undefined,
    registry: Registry
  ) {
    this.bounds = [...(buckets ?? DEFAULT_BUCKETS)].sort((a, b) => a - b)
    this.children = this.newChildren()
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0])
  }

  private newChildren(): Children<HistogramChild> {
    const n = this.bounds.length + 1
    return new Children(this.labelNames, (labels) => ({
      labels,
      counts: new Array(n).fill(0),
      sum: 0,
      count: 0
    }))
  }

  /** Adds one observation (prom-client refuses non-finite values the same way). */
  observe(labels: Labels | undefined, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`)
    const c = this.children.get(labels)
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && value > (bounds[i] as number)) i++
    c.counts[i] = (c.counts[i] as number) + 1
    c.sum += value
    c.count += 1
  }

  /** Drops every observation. */
  reset(): void {
    this.children = this.newChildren()
  }

  /** The registry's text export: child labels apart, as prom-client's `getForPromString`. */
  getForPromString(): {
    name: string
    help: string
    type: string
    values: SampleValue[]
    aggregator: string
  } {
    const values: SampleValue[] = []
    const bucket = `${this.name}_bucket`
    for (const c of this.children.all) {
      let acc = 0
      for (let i = 0; i < this.bounds.length; i++) {
        acc += c.counts[i] as number
        values.push({
          labels: { le: this.bounds[i] as number },
          sharedLabels: c.labels,
          value: acc,
          metricName: bucket,
          exemplar: null
        })
      }
      values.push({
        labels: { le: '+Inf' },
        sharedLabels: c.labels,
        value: c.count,
        metricName: bucket,
        exemplar: null
      })
      values.push({
        labels: {},
        sharedLabels: c.labels,
        value: c.sum,
        metricName: `${this.name}_sum`,
        exemplar: undefined
      })
      values.push({
        labels: {},
        sharedLabels: c.labels,
        value: c.count,
        metricName: `${this.name}_count`,
        exemplar: undefined
      })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }

  /** The registry's JSON export: child labels merged in, as prom-client's `get`. */
  get(): { name: string; help: string; type: string; values: SampleValue[]; aggregator: string } {
    const data = this.getForPromString()
    data.values = data.values.map(({ sharedLabels, labels, ...rest }) => ({
      ...rest,
      labels: { ...labels, ...sharedLabels }
    }))
    return data
  }
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
      // values are kept here and written to prom-client at scrape time (after GossipSub's
      // collect hooks): an `inc` per message costs a map walk and an addition
      const collectors: ((g: Gauge<L>) => void)[] = []
      const children = new Children((config.labelNames ?? []) as string[], (labels) => ({ labels, value: 0 }))
      const self: { api?: Gauge<L> } = {}
      new PromGauge({
        name: config.name,
        help: config.help,
        labelNames: (config.labelNames ?? []) as string[],
        registers: [registry],
        collect() {
          for (const fn of collectors) if (self.api !== undefined) fn(self.api)
          for (const c of children.all) this.set(c.labels, c.value)
        }
      })
      const api = {
        inc: (a?: Labels | number, b?: number) => {
          if (isLabels(a)) children.get(a).value += b ?? 1
          else children.get(undefined).value += a ?? 1
        },
        set: (a: Labels | number, b?: number) => {
          if (isLabels(a)) children.get(a).value = b ?? 0
          else children.get(undefined).value = a
        },
        addCollect: (fn: (g: Gauge<L>) => void) => {
          collectors.push(fn)
        }
      }
      self.api = api as unknown as Gauge<L>
      return self.api
    },
    histogram<L extends Labels>(config: HistogramConfig<L>): Histogram<L> {
      const h = new BucketHistogram(
        config.name,
        config.help,
        (config.labelNames ?? []) as string[],
        config.buckets,
        registry
      )
      const api = {
        startTimer: () => {
          const start = performance.now()
          return () => h.observe(undefined, (performance.now() - start) / 1000)
        },
        observe: (a: Labels | number, b?: number) => {
          if (isLabels(a)) h.observe(a, b ?? 0)
          else h.observe(undefined, a)
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
      const bounded = new Children(labelNames, (labels) => labels)
      const api = {
        set: (a: Labels | number[], b?: number[]) => {
          const labels = isLabels(a) ? bounded.get(a) : {}
          const values = isLabels(a) ? b : a
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
