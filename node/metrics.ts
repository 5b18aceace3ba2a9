import { Counter, Gauge, Histogram, Registry } from 'prom-client'

/** Topic kinds used as a metrics label (bounded: never a topic string, never a peer id). */
export type TopicKindLabel = 'bids' | 'tx' | 'evidence' | 'other'

/**
 * The node's Prometheus metrics, all `bitwrk_*`, in ONE registry per node (several nodes may
 * share a process in tests and the testnet, so we never use prom-client's global registry).
 * Labels are bounded: topic kind, result, error code (sanitised by {@link codeLabel}),
 * outcome. The host registers libp2p's own metrics (`@libp2p/prometheus-metrics`, `libp2p_*`)
 * in the same registry, so one scrape has both.
 */
export interface NodeMetrics {
  /** The registry to scrape (`await registry.metrics()`). */
  readonly registry: Registry
  /** Validation outcomes by topic kind, result (accept/ignore/reject) and code. */
  readonly validation: Counter<'kind' | 'result' | 'code'>
  /** Time spent in the injected validator, seconds. */
  readonly validationSeconds: Histogram<'kind'>
  /** Messages waiting for validation now. */
  readonly queueLength: Gauge<'kind'>
  /** Messages ignored because the validation queue was full. */
  readonly queueDropped: Counter<'kind'>
  /** Messages over a peer's rate limit, by action taken (ignore or reject). */
  readonly rateLimited: Counter<'kind' | 'action'>
  /** Own publications by outcome (sent, no_peers, duplicate, aborted, error). */
  readonly published: Counter<'kind' | 'outcome'>
  /** Bootstrap dial attempts by outcome (ok, error). */
  readonly bootstrapDials: Counter<'outcome'>
  /** Inbound connections refused before the handshake because the inbound budget was spent (GOSSIP-14). */
  readonly inboundRefused: Counter
  /** Connected peers (sampled at scrape time through {@link NodeMetrics.setPeerSource}). */
  readonly peers: Gauge
  /** Sets the function sampled for `bitwrk_p2p_peers` at scrape time. */
  setPeerSource(fn: () => number): void
  /** NET-9: 1 for the node's current reachability (`state`: public, private, unknown), 0 for the others. */
  readonly reachability: Gauge<'state'>
  /** Open connections by kind (`direct` or `relayed` through a circuit relay), sampled at scrape time. */
  readonly connections: Gauge<'kind'>
  /** Circuit-relay reservations this node holds on relays (NET-15), sampled at scrape time. */
  readonly relayReservations: Gauge
  /** Relay requests this node refused as a relay server, by reason (denied, not_serving, budget; NET-14). */
  readonly relayRefused: Counter<'reason'>
  /** TRADE-20: trade streams this node opened as the buyer, by path (`direct`, or `relayed` within the relay's limits). */
  readonly tradePaths: Counter<'path'>
  /** Sets the function sampled for the network gauges at scrape time. */
  setNetworkSource(fn: () => NetworkSample): void
}

/** What the network gauges sample at scrape time. */
export interface NetworkSample {
  readonly reachability: 'public' | 'private' | 'unknown'
  readonly direct: number
  readonly relayed: number
  readonly reservations: number
}

/** Creates the metric families in `registry` (default: a fresh registry). */
export function createMetrics(registry: Registry = new Registry()): NodeMetrics {
  let peerSource: () => number = () => 0
  let networkSource: () => NetworkSample = () => ({
    reachability: 'unknown',
    direct: 0,
    relayed: 0,
    reservations: 0
  })
  const registers = [registry]
  return {
    registry,
    validation: new Counter({
      name: 'bitwrk_gossip_validation_total',
      help: 'Gossip messages validated, by topic kind, result and code',
      labelNames: ['kind', 'result', 'code'],
      registers
    }),
    validationSeconds: new Histogram({
      name: 'bitwrk_gossip_validation_seconds',
      help: 'Time spent in the gossip validator',
      labelNames: ['kind'],
      // a native secp256k1 recovery is ~0.1 ms (notes/libp2p-stack.md); GossipSub wants < 100 ms
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1],
      registers
    }),
    queueLength: new Gauge({
      name: 'bitwrk_gossip_validation_queue_length',
      help: 'Gossip messages waiting for validation',
      labelNames: ['kind'],
      registers
    }),
    queueDropped: new Counter({
      name: 'bitwrk_gossip_validation_queue_dropped_total',
      help: 'Gossip messages ignored because the validation queue was full',
      labelNames: ['kind'],
      registers
    }),
    rateLimited: new Counter({
      name: 'bitwrk_gossip_rate_limited_total',
      help: 'Gossip messages over the per-peer rate limit, by action',
      labelNames: ['kind', 'action'],
      registers
    }),
    published: new Counter({
      name: 'bitwrk_gossip_published_total',
      help: 'Own gossip publications by outcome',
      labelNames: ['kind', 'outcome'],
      registers
    }),
    bootstrapDials: new Counter({
      name: 'bitwrk_p2p_bootstrap_dials_total',
      help: 'Bootstrap dial attempts by outcome',
      labelNames: ['outcome'],
      registers
    }),
    inboundRefused: new Counter({
      name: 'bitwrk_p2p_inbound_refused_total',
      help: 'Inbound connections refused before the handshake: the inbound connection budget was spent (GOSSIP-14)',
      registers
    }),
    peers: new Gauge({
      name: 'bitwrk_p2p_peers',
      help: 'Connected libp2p peers',
      registers,
      collect() {
        this.set(peerSource())
      }
    }),
    setPeerSource(fn) {
      peerSource = fn
    },
    reachability: new Gauge({
      name: 'bitwrk_reachability',
      help: "The node's reachability (NET-9): 1 for the current state, 0 for the others",
      labelNames: ['state'],
      registers,
      collect() {
        const now = networkSource().reachability
        for (const state of ['public', 'private', 'unknown'] as const)
          this.set({ state }, state === now ? 1 : 0)
      }
    }),
    connections: new Gauge({
      name: 'bitwrk_connections',
      help: 'Open libp2p connections by kind: direct or relayed (circuit relay v2)',
      labelNames: ['kind'],
      registers,
      collect() {
        const s = networkSource()
        this.set({ kind: 'direct' }, s.direct)
        this.set({ kind: 'relayed' }, s.relayed)
      }
    }),
    relayReservations: new Gauge({
      name: 'bitwrk_relay_reservations',
      help: 'Circuit-relay reservations this node holds on relays (NET-15)',
      registers,
      collect() {
        this.set(networkSource().reservations)
      }
    }),
    relayRefused: new Counter({
      name: 'bitwrk_relay_refused_total',
      help: 'Relay reservations and circuits this node refused as a relay server, by reason (NET-14)',
      labelNames: ['reason'],
      registers
    }),
    tradePaths: new Counter({
      name: 'bitwrk_trade_paths_total',
      help: 'Trade streams opened as the buyer, by path: direct, or relayed within the relay limits (TRADE-20)',
      labelNames: ['path'],
      registers
    }),
    setNetworkSource(fn) {
      networkSource = fn
    }
  }
}

/** Longest code accepted as a label value; error codes are short module-prefixed constants. */
const MAX_CODE_LABEL = 64
const CODE_RE = /^[A-Z][A-Z0-9_]*$/

/**
 * Maps an error code to a bounded label value: module-prefixed constants pass, anything else
 * (which would be a bug in a validator) becomes `OTHER`, so a label can never carry peer data.
 */
export function codeLabel(code: string): string {
  return code.length <= MAX_CODE_LABEL && CODE_RE.test(code) ? code : 'OTHER'
}
