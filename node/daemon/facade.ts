/**
 * The node as the local HTTP API sees it ({@link NodeFacade}, node/api/facade.ts): identity,
 * peers, book, activities, transactions, store figures and `buy`, plus the activities of the
 * seller side (node/market/sell.ts) that turns the worker pool's offers into SELL bids and
 * established sales into worker jobs.
 */
import { isBitwrkError } from '../../protocol/errors.js'
import { verifyMessage } from '../../protocol/identity/index.js'
import { formatMoney } from '../../protocol/money/index.js'
import { partyAddress, type Transaction } from '../../protocol/transaction/index.js'
import { evictOldest } from '../../protocol/util/index.js'
import { ApiCode, ApiError } from '../api/errors.js'
import type {
  ActivityView,
  BookEntryView,
  BookView,
  FileIndex,
  NodeFacade,
  TransactionView,
  TxMessageView
} from '../api/facade.js'
import { RAYS_ARTICLE } from '../demo/index.js'
import type { Logger } from '../logger.js'
import { NodeTradeCode } from '../market/buy.js'
import { OfferSeller } from '../market/sell.js'
import type { BitwrkNode } from '../node.js'
import type { SellOffer, WorkerPool } from '../workers/index.js'
import { createDashboard, peersWithReputation } from './dashboard.js'
import { DemoImages, type DemoTileHandle } from './demo-images.js'
import { networkView, statusView } from './status.js'

/** Activities kept for the API (bounded, oldest dropped). */
const MAX_ACTIVITIES = 1000

/** Own transactions kept for the API after they retire (they leave the followed set, MARKET-12). */
const MAX_RETIRED_SHOWN = 200

/** Signature checks remembered (a transaction's messages are re-checked on every view). */
const MAX_SIGNATURE_CACHE = 10_000

/** Deadline of the book pull for a newly followed article (the sync service's auto-sync deadline). */
const FOLLOW_SYNC_MS = 30_000

type Activity = { -readonly [K in keyof ActivityView]: ActivityView[K] }

/** The facade with the hooks the daemon wires to the worker pool. */
export interface DaemonFacade extends NodeFacade {
  /** `WorkerPool` `onOffer` hook: one SELL bid per offer. */
  onOffer(offer: SellOffer): void
  /** Stops listening to the market. */
  close(): void
}

/** Options of {@link createNodeFacade}. */
export interface NodeFacadeOptions {
  readonly node: BitwrkNode
  /** Filled after construction (the pool needs the facade's `onOffer`). */
  readonly workers: () => WorkerPool | undefined
  readonly version: string
  readonly logger?: Logger
  /** When the daemon started (dashboard uptime); default now. */
  readonly startedMs?: number
  /** Articles whose results are byte-comparable: bought twice from low-trust sellers (REP-17). */
  readonly deterministicArticles?: readonly string[]
  /** Which pieces of the daemon run (shown by `/api/v1/status`). */
  readonly services?: () => Record<string, boolean>
}

/** Builds the {@link DaemonFacade} of a started node. */
export function createNodeFacade(o: NodeFacadeOptions): DaemonFacade {
  const { node } = o
  // In the data directory (node/store `file` bucket), so `GET /file/<sha256>` survives a restart.
  const files: FileIndex = {
    get: (key) => node.repos.files.get(key),
    put: async (m) => {
      await node.repos.files.put(m, Date.now())
    }
  }
  let onImage: (id: string) => void = () => {}
  const images = new DemoImages(node.chunks, (id) => onImage(id))
  const dashboard = createDashboard({
    node,
    images,
    startedMs: o.startedMs ?? Date.now(),
    onImagesChange: (fn) => {
      onImage = fn
    }
  })
  // Own transactions that retired, newest last (the follower forgets them at retirement).
  const retired = new Map<string, Transaction>()
  const onRetired = (e: CustomEvent<{ txid: string; tx: Transaction; own: unknown }>): void => {
    if (e.detail.own === null) return
    retired.delete(e.detail.txid)
    retired.set(e.detail.txid, e.detail.tx)
    evictOldest(retired, MAX_RETIRED_SHOWN)
  }
  node.market.addEventListener('tx:retired', onRetired)
  const checked = new Map<string, boolean>()
  const signatureOk = (signer: string, signature: string, document: string): boolean => {
    const key = `${signer}\n${signature}\n${document}`
    let ok = checked.get(key)
    if (ok === undefined) {
      ok = verifyMessage(signer, signature, document)
      checked.set(key, ok)
      evictOldest(checked, MAX_SIGNATURE_CACHE)
    }
    return ok
  }
  const activities: Activity[] = []
  let nextActivity = 1
  const newActivity = (a: Omit<Activity, 'id'>): Activity => {
    const act = { id: nextActivity++, ...a }
    activities.push(act)
    if (activities.length > MAX_ACTIVITIES) activities.shift()
    return act
  }

  // Seller side: one SELL bid per worker offer, its sale worked by the offer's worker; each
  // offer is an activity.
  const seller = new OfferSeller({
    market: node.market,
    store: node.chunks,
    workers: o.workers,
    ...(o.logger !== undefined ? { logger: o.logger } : {}),
    onBid: (offer, bidId) => {
      const activity = newActivity({
        side: 'SELL',
        article: offer.article,
        alive: true,
        phase: 'BID',
        price: formatMoney(offer.price),
        bidId,
        txId: null,
        workerId: offer.workerId,
        bytesTotal: 0,
        bytesTransferred: 0,
        error: null,
        workTransfer: null,
        resultTransfer: null
      })
      return {
        ended: (reason) => {
          activity.alive = false
          activity.phase = reason.toUpperCase()
        },
        established: () => {
          activity.phase = 'ESTABLISHED'
        },
        working: (bytes) => {
          activity.phase = 'WORKING'
          activity.bytesTotal = bytes
        },
        workerFailed: (code) => {
          activity.error = code
        },
        transfer: (e) => {
          const t = { done: e.bytesDone, total: e.bytesTotal }
          if (e.direction === 'work') activity.workTransfer = t
          else activity.resultTransfer = t
        },
        done: (ok, code) => {
          activity.alive = false
          activity.phase = ok ? 'FINISHED' : 'FAILED'
          if (!ok) activity.error ??= code ?? 'ERROR'
        }
      }
    }
  })
  const unwire = node.sell((bidId) => seller.sale(bidId))

  const txView = (tx: Transaction): TransactionView => ({
    txId: tx.id,
    article: tx.terms.article,
    buyer: tx.terms.buyer,
    seller: tx.terms.seller,
    price: formatMoney(tx.terms.price),
    phase: tx.phase,
    state: tx.state,
    matchedMs: tx.terms.matchedMs,
    outcome: tx.outcome === null ? null : { result: tx.outcome.result, reason: tx.outcome.reason },
    messages: tx.evidence.map((e): TxMessageView => {
      const signer = partyAddress(tx, e.party)
      return {
        document: e.message.document,
        signature: e.message.signature,
        receivedMs: e.receivedMs,
        kind: e.kind,
        party: e.party,
        signer,
        from: e.from,
        to: e.to,
        // re-verified here, not taken from the acceptance: the page shows the node's own check
        signatureOk: signatureOk(signer, e.message.signature, e.message.document)
      }
    })
  })

  return {
    version: o.version,
    chunkStore: node.chunks,
    files,
    // API-23, API-24: uploads are provided, files not held are fetched by key
    content: {
      providing: node.content.provided.enabled,
      share: (m) => node.content.provided.add(m, 'upload'),
      fetch: (key, opts) => node.content.gateway.fetch(key, opts),
      fetches: () => node.content.gateway.active()
    },
    dashboard,
    onOffer: (offer) => seller.offer(offer),
    close: () => {
      unwire()
      seller.close()
      node.market.removeEventListener('tx:retired', onRetired)
      dashboard.close()
    },
    identity: () => ({
      address: node.address,
      peerId: node.peerId,
      addrs: node.multiaddrs(),
      network: networkView(node)
    }),
    peers: async () => peersWithReputation(node),
    status: () =>
      statusView(node, {
        version: o.version,
        startedMs: o.startedMs ?? Date.now(),
        nowMs: Date.now(),
        services: o.services?.() ?? {}
      }),
    epochs: (key) => ({ key, epochs: node.market.epochs(key) }),
    follow: async (article, why) => {
      if (node.book.follows(article)) return false
      // the book follows at once (before this awaits), the subscription is stored next
      const stored = node.follow(article)
      o.logger?.info(
        { article, why },
        'following a new article (its bids, transactions and a stored subscription)'
      )
      await stored
      // the late joiner's pull (SYNC): bids already open for it on the connected peers
      void node.sync?.syncNow(article, { signal: AbortSignal.timeout(FOLLOW_SYNC_MS) }).catch(() => {})
      return true
    },
    book: async (article): Promise<BookView> => {
      const buys: BookEntryView[] = []
      const sells: BookEntryView[] = []
      for (const l of node.book.liveBids(article)) {
        const v: BookEntryView = {
          bidId: l.bid.id,
          side: l.bid.type,
          price: formatMoney(l.bid.price),
          bidder: l.bid.address,
          peerId: l.bid.peerId,
          createdMs: l.bid.createdMs,
          expiresMs: l.bid.expiresMs
        }
        ;(l.bid.type === 'BUY' ? buys : sells).push(v)
      }
      return { article, buys, sells }
    },
    activities: async () => activities.map((a) => ({ ...a })),
    transactions: async () => {
      const active = node.market.txs.list().filter((e) => e.party !== null)
      const ids = new Set(active.map((e) => e.tx.id))
      // retired first (older), then the active ones
      return [...[...retired.values()].filter((t) => !ids.has(t.id)), ...active.map((e) => e.tx)].map(txView)
    },
    storeStats: () => node.chunks.stats(),
    reputation: {
      list: async () => ({ thresholds: { ...node.reputation.thresholds }, subjects: node.reputation.list() }),
      get: (subject) => node.reputation.view(subject)
    },
    buy: async (article, work, options) => {
      const activity = newActivity({
        side: 'BUY',
        article,
        alive: true,
        phase: 'LOCAL',
        price: formatMoney(options.price),
        bidId: null,
        txId: null,
        workerId: null,
        bytesTotal: work.size,
        bytesTransferred: 0,
        error: null,
        workTransfer: null,
        resultTransfer: null,
        counterparty: null,
        ref: options.ref ?? null
      })
      const tile: DemoTileHandle | undefined =
        article === RAYS_ARTICLE ? await images.track(work).catch(() => undefined) : undefined
      try {
        const r = await node.buy(article, work, {
          price: options.price,
          signal: options.signal,
          deterministic: o.deterministicArticles?.includes(article) === true,
          ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          onTransfer: (e) => {
            const t = { done: e.bytesDone, total: e.bytesTotal }
            if (e.direction === 'work') {
              activity.workTransfer = t
              // the original's one figure: the work's bytes on their way (a chunk the seller holds counts as sent)
              activity.bytesTransferred = work.size - (e.bytesTotal - e.bytesDone)
            } else activity.resultTransfer = t
          },
          onProgress: (phase, d) => {
            // a new attempt (another seller) starts its transfers afresh
            if (phase === 'established') {
              activity.workTransfer = null
              activity.resultTransfer = null
              if (typeof d['sellerAddress'] === 'string') activity.counterparty = d['sellerAddress']
              options.onEstablished?.()
            }
            activity.phase = phase.toUpperCase()
            if (typeof d['bidId'] === 'string') activity.bidId = d['bidId']
            if (typeof d['txid'] === 'string') activity.txId = d['txid']
          }
        })
        await files.put(r.result)
        // the transaction whose result was accepted (replication may have run others after it)
        activity.txId = r.tx.id
        activity.phase = 'FINISHED'
        activity.bytesTransferred = work.size
        tile?.done(r.result)
        return { resultKey: r.result.fileKey }
      } catch (err) {
        tile?.failed()
        activity.phase = 'FAILED'
        activity.error = isBitwrkError(err) ? err.code : 'ERROR'
        // API-21: nobody sold is not a failure of the node: its own answer, 504
        if (isBitwrkError(err, NodeTradeCode.NO_SELLER))
          throw new ApiError(ApiCode.NO_SELLER, err.message, err.code)
        throw err
      } finally {
        activity.alive = false
      }
    }
  }
}
