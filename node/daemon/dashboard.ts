/**
 * The dashboard's views of a running node ({@link DashboardFacade}, node/api/facade.ts): market
 * depth, recent matches and epoch digests per article, demo images, the metrics scrape, panel
 * revisions and the market events for the SSE stream; plus the peer view with reputation.
 */
import { Gauge } from 'prom-client'
import { addressFromPublicKey, publicKeyFromPeerId } from '../../protocol/identity/index.js'
import { formatMoney, isCurrency, money } from '../../protocol/money/index.js'
import type {
  DashboardEvent,
  DashboardFacade,
  DepthLevel,
  MarketView,
  MatchView,
  PeerReputationView,
  PeerView
} from '../api/facade.js'
import type { TxEvent, TxPhaseEvent } from '../market/follower.js'
import type { EpochEvent, MatchEvent } from '../market/market.js'
import type { BitwrkNode } from '../node.js'
import type { ReputationView } from '../reputation/index.js'
import type { DemoImages } from './demo-images.js'
import { peersView } from './status.js'

/** Recent matches kept per article for the chart (bounded, oldest dropped). */
export const MAX_RECENT_MATCHES = 200
/** Epochs shown per match key. */
export const MAX_SHOWN_EPOCHS = 30

/** The dashboard views plus their teardown. */
export interface DaemonDashboard extends DashboardFacade {
  /** Stops listening to the market. */
  close(): void
}

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  readonly node: BitwrkNode
  readonly images: DemoImages
  readonly startedMs: number
  /** Registers the dashboard's event hook of the images (set once). */
  readonly onImagesChange: (fn: (id: string) => void) => void
}

function articleOf(key: string): string {
  return key.slice(0, key.lastIndexOf(':'))
}

function levels(prices: bigint[], text: Map<bigint, string>, descending: boolean): DepthLevel[] {
  const count = new Map<bigint, number>()
  for (const p of prices) count.set(p, (count.get(p) ?? 0) + 1)
  return [...count.entries()]
    .sort(([a], [b]) => (a === b ? 0 : a < b !== descending ? -1 : 1))
    .map(([p, n]) => ({ price: text.get(p) ?? String(p), units: p.toString(), count: n }))
}

/** The API-14 shape of the reputation service's view; null when the node holds no record. */
function peerReputation(v: ReputationView): PeerReputationView | null {
  if (v.lastUpdatedMs === null) return null
  return {
    counters: v.counters,
    evidenceIds: v.proofs.map((p) => p.id),
    score: v.score,
    blocked: v.blocked,
    lastUpdatedMs: v.lastUpdatedMs
  }
}

/** Connected peers with their market address and the reputation the node holds about them. */
export async function peersWithReputation(node: BitwrkNode): Promise<PeerView[]> {
  return Promise.all(
    peersView(node).map(async (p): Promise<PeerView> => {
      let address: string | undefined
      try {
        address = addressFromPublicKey(publicKeyFromPeerId(p.peerId))
      } catch {
        // not a secp256k1 peer id: a peer outside the market (no address, no record)
      }
      // the reputation service's view (it includes counts not yet flushed to the store)
      const byAddress =
        address !== undefined
          ? peerReputation(await node.reputation.view({ kind: 'address', id: address }))
          : null
      const reputation =
        byAddress ?? peerReputation(await node.reputation.view({ kind: 'peer', id: p.peerId }))
      return {
        ...p,
        ...(address !== undefined ? { address } : {}),
        reputation
      }
    })
  )
}

/** Builds the dashboard views of a started node. */
export function createDashboard(o: DashboardOptions): DaemonDashboard {
  const { node, images } = o
  const matches = new Map<string, MatchView[]>()
  const listeners = new Set<(e: DashboardEvent) => void>()
  const emit = (e: DashboardEvent): void => {
    for (const l of [...listeners]) l(e)
  }
  o.onImagesChange((id) => emit({ type: 'image', data: { id } }))

  const onMatch = (e: CustomEvent<MatchEvent>): void => {
    const { key, match, txid, own } = e.detail
    const article = articleOf(key)
    const currency = key.slice(key.lastIndexOf(':') + 1)
    const list = matches.get(article) ?? []
    list.push({
      key,
      epoch: match.epoch,
      matchedMs: match.matchedMs,
      price: isCurrency(currency) ? formatMoney(money(currency, match.price)) : match.price.toString(),
      units: match.price.toString(),
      buyer: match.buyer,
      seller: match.seller,
      txId: txid,
      own
    })
    if (list.length > MAX_RECENT_MATCHES) list.shift()
    matches.set(article, list)
    emit({ type: 'match', data: { article, txid, epoch: match.epoch } })
  }
  const onEpoch = (e: CustomEvent<EpochEvent>): void => {
    const { article, key, epoch, digest } = e.detail
    emit({ type: 'epoch', data: { article, key, epoch, digest, matches: e.detail.matches.length } })
  }
  const onTx = (e: CustomEvent<TxPhaseEvent | TxEvent>): void => {
    if (e.detail.own === null) return
    emit({ type: 'tx', data: { txid: e.detail.txid, phase: e.detail.tx.phase, state: e.detail.tx.state } })
  }
  node.market.addEventListener('market:match', onMatch)
  node.market.addEventListener('market:epoch', onEpoch)
  node.market.addEventListener('tx:phase', onTx)
  node.market.addEventListener('tx:established', onTx)
  node.market.addEventListener('tx:retired', onTx)

  // Figures the metrics of other modules do not cover: the chunk store, and connections by
  // direction in one family (libp2p's own `libp2p_*` metrics share the registry, node/host/host.ts).
  const registers = [node.registry]
  const stats = (): ReturnType<BitwrkNode['chunks']['stats']> => node.chunks.stats()
  new Gauge({
    name: 'bitwrk_chunk_store_bytes',
    help: 'Bytes of chunks held by the chunk store',
    registers,
    collect() {
      this.set(stats().bytes)
    }
  })
  new Gauge({
    name: 'bitwrk_chunk_store_chunks',
    help: 'Chunks held by the chunk store',
    registers,
    collect() {
      this.set(stats().chunks)
    }
  })
  new Gauge({
    name: 'bitwrk_chunk_store_evicted_chunks',
    help: 'Chunks evicted from the chunk store since start',
    registers,
    collect() {
      this.set(stats().evictions)
    }
  })
  new Gauge({
    name: 'bitwrk_chunk_store_dedup_hits',
    help: 'Chunk puts that found the chunk already stored, since start',
    registers,
    collect() {
      this.set(stats().dedupHits)
    }
  })
  new Gauge({
    name: 'bitwrk_p2p_connections',
    help: 'Open libp2p connections by direction',
    labelNames: ['direction'],
    registers,
    collect() {
      let inbound = 0
      let outbound = 0
      for (const c of node.host.libp2p.getConnections()) {
        if (c.direction === 'inbound') inbound++
        else outbound++
      }
      this.set({ direction: 'inbound' }, inbound)
      this.set({ direction: 'outbound' }, outbound)
    }
  })
  new Gauge({
    name: 'bitwrk_uptime_seconds',
    help: 'Seconds since the daemon started',
    registers,
    collect() {
      this.set((Date.now() - o.startedMs) / 1000)
    }
  })

  return {
    startedMs: o.startedMs,
    articles: () => node.articles(),
    market: async (article): Promise<MarketView> => {
      const buys: bigint[] = []
      const sells: bigint[] = []
      const text = new Map<bigint, string>()
      for (const l of node.book.liveBids(article)) {
        text.set(l.bid.price.amount, formatMoney(l.bid.price))
        ;(l.bid.type === 'BUY' ? buys : sells).push(l.bid.price.amount)
      }
      const epochs: { key: string; epoch: number; digest: string }[] = []
      for (const key of node.book.matcher.keys())
        if (articleOf(key) === article)
          for (const e of node.market.epochs(key).slice(-MAX_SHOWN_EPOCHS)) epochs.push({ key, ...e })
      epochs.sort((a, b) => a.epoch - b.epoch)
      return {
        article,
        liveDigest: node.book.liveDigest(article),
        depth: { buys: levels(buys, text, true), sells: levels(sells, text, false) },
        matches: [...(matches.get(article) ?? [])],
        epochs
      }
    },
    images: () => images.list(),
    imagePng: (id) => images.png(id),
    metrics: async () => ({ contentType: node.registry.contentType, text: await node.registry.metrics() }),
    revisions: async () => {
      const r: Record<string, string> = {}
      for (const a of node.articles()) r[`book:${a}`] = node.book.liveDigest(a)
      r['peers'] = peersView(node)
        .map((p) => p.peerId)
        .join(',')
      r['store'] = JSON.stringify(node.chunks.stats())
      r['images'] = images.revision()
      r['articles'] = node.articles().join(',')
      return r
    },
    subscribe: (listener) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    close: () => {
      listeners.clear()
      node.market.removeEventListener('market:match', onMatch)
      node.market.removeEventListener('market:epoch', onEpoch)
      node.market.removeEventListener('tx:phase', onTx)
      node.market.removeEventListener('tx:established', onTx)
      node.market.removeEventListener('tx:retired', onTx)
    }
  }
}
