/**
 * The seller side of the market (issue 5, issue 13): when an own SELL bid's transaction is
 * established, the worker chosen for that bid trades it ({@link wireSeller}); the daemon's
 * worker offers become SELL bids whose sales its worker pool works ({@link OfferSeller}).
 */
import { exportStream } from '../../cafs/stream.js'
import type { ChunkStore } from '../../cafs/types.js'
import { isBitwrkError } from '../../protocol/errors.js'
import type { Transaction } from '../../protocol/transaction/index.js'
import type { Logger } from '../logger.js'
import type { TransferProgressEvent } from '../trade/buyer.js'
import type { TradeWorker } from '../trade/seller.js'
import type { TradeService } from '../trade/service.js'
import type { SellOffer, WorkerPool } from '../workers/index.js'
import type { Market } from './market.js'

/** Lifetime of a worker offer's SELL bid, ms: renewed by a new offer when it expires unmatched. */
export const SELL_BID_LIFETIME_MS = 60_000

/** A worker of the node as the trade sees it: a function from work to result bytes. */
export type WorkFunction = (work: Uint8Array, options: { signal: AbortSignal }) => Promise<Uint8Array>

/** The worker of one established sale, and who is told how the sale ended. */
export interface Sale {
  /** Does the work; reserved for this sale until it ends (one job per worker). */
  readonly worker: TradeWorker
  /** Told once how the sale ended: `ok`, or not with the failure's error code. */
  readonly done?: (ok: boolean, code?: string) => void
}

/**
 * Who works the sale of an own SELL bid once its transaction is established: one worker for
 * every sale, or a choice per SELL bid id (undefined: nothing is sold, the transaction retires
 * by the rules).
 */
export type SellWorker = TradeWorker | ((bidId: string) => Sale | undefined)

/** The error code of a failed sale (`UNKNOWN` for an error without one). */
const codeOf = (err: unknown): string => (isBitwrkError(err) ? err.code : 'UNKNOWN')

/**
 * Seller side: when an own SELL bid's transaction is established, `worker` (or the worker it
 * chooses for the bid) trades it through `trade`. Returns the function that stops selling.
 */
export function wireSeller(
  market: Market,
  trade: Pick<TradeService, 'onEstablished'>,
  worker: SellWorker,
  logger?: Logger
): () => void {
  const saleOf = typeof worker === 'function' ? worker : (): Sale => ({ worker })
  const onEst = (e: CustomEvent<{ tx: Transaction; own: string | null }>): void => {
    if (e.detail.own !== 'seller') return
    const tx = e.detail.tx
    const sale = saleOf(tx.terms.sellBidId)
    if (sale === undefined) {
      logger?.warn({ txid: tx.id }, 'sell: no worker for the established transaction')
      return
    }
    const done = sale.done ?? (() => {})
    trade.onEstablished(tx, sale.worker).then(
      (r) => (r.error === null ? done(true) : done(false, codeOf(r.error))),
      (err: unknown) => {
        logger?.warn({ txid: tx.id, code: codeOf(err) }, 'sell failed')
        done(false, codeOf(err))
      }
    )
  }
  market.addEventListener('tx:established', onEst)
  return () => market.removeEventListener('tx:established', onEst)
}

/** What an {@link OfferSeller} follows of one offer: its SELL bid, then its sale (the API's activity). */
export interface OfferProgress {
  /** The SELL bid ended without a sale: `withdrawn` (the offer was), else `bid:closed`'s reason. */
  ended(reason: string): void
  /** The bid's transaction was established: the sale begins. */
  established(): void
  /** The worker got the work, `bytes` long. */
  working(bytes: number): void
  /** The worker failed with its own `code` (`ERROR` for an error without one; issue 12.5). */
  workerFailed(code: string): void
  /** Byte progress of the work arriving or the result leaving. */
  transfer(event: TransferProgressEvent): void
  /** The sale ended: `ok`, or not with the failure's code. */
  done(ok: boolean, code?: string): void
}

/** The worker pool as an {@link OfferSeller} uses it. */
export type OfferWorkers = Pick<WorkerPool, 'dispatch' | 'release' | 'offerFailed' | 'established'>

/** Options of {@link OfferSeller}. */
export interface OfferSellerOptions {
  /** Where the SELL bids are placed and their sales established. */
  readonly market: Market
  /** The store the workers' results are read from. */
  readonly store: ChunkStore
  /** The worker pool; undefined while there is none (then nothing is sold). */
  readonly workers: () => OfferWorkers | undefined
  /** Lifetime of each SELL bid, ms; default {@link SELL_BID_LIFETIME_MS}. */
  readonly bidLifetimeMs?: number
  readonly logger?: Logger
  /** Called when an offer's SELL bid is placed; what it returns follows the bid and its sale. */
  readonly onBid?: (offer: SellOffer, bidId: string) => OfferProgress
}

/** An {@link OfferProgress} that follows nothing. */
const IGNORED: OfferProgress = {
  ended: () => {},
  established: () => {},
  working: () => {},
  workerFailed: () => {},
  transfer: () => {},
  done: () => {}
}

/**
 * The worker pool's offers on the market (issue 5, issue 12): one SELL bid per offer, cancelled
 * when the offer is withdrawn, the worker released when the bid closes unmatched; when a bid's
 * transaction is established, {@link OfferSeller.sale} gives the sale its offer's worker (pass
 * it to {@link wireSeller}, or the node's `sell`).
 */
export class OfferSeller {
  /** Bid id → its offer, until the bid closes or its transaction is established. */
  private readonly offers = new Map<string, { offer: SellOffer; progress: OfferProgress }>()
  private readonly onClosed = (e: CustomEvent<{ bidId: string; reason: string }>): void => {
    if (e.detail.reason === 'matched') return
    const s = this.offers.get(e.detail.bidId)
    if (s === undefined) return
    this.offers.delete(e.detail.bidId)
    s.progress.ended(e.detail.reason)
    this.o.workers()?.release(s.offer.workerId)
  }

  constructor(private readonly o: OfferSellerOptions) {
    o.market.addEventListener('bid:closed', this.onClosed)
  }

  /** `WorkerPool` `onOffer` hook: places one SELL bid for `offer`. */
  offer(offer: SellOffer): void {
    void this.place(offer)
  }

  private async place(offer: SellOffer): Promise<void> {
    const market = this.o.market
    let bidId: string
    try {
      const bid = await market.placeBid({
        article: offer.article,
        side: 'SELL',
        price: offer.price,
        lifetimeMs: this.o.bidLifetimeMs ?? SELL_BID_LIFETIME_MS
      })
      bidId = bid.id
    } catch (err) {
      this.o.logger?.warn({ code: codeOf(err) }, 'sell offer not placed')
      // the trade goes back, the worker backs off (issue 12.2)
      this.o.workers()?.offerFailed(offer, err)
      return
    }
    const progress = this.o.onBid?.(offer, bidId) ?? IGNORED
    this.offers.set(bidId, { offer, progress })
    // Withdrawn (worker unregistered, changed article, taken by a local job, node stopping):
    // the bid is cancelled and the offer ends here, as bid:closed will no longer find it
    // (issue 12.4). Not after establishment: the sale then owns it.
    const withdrawn = (): void => {
      if (!this.offers.delete(bidId)) return
      progress.ended('withdrawn')
      void market.cancelBid(bidId).catch(() => {})
    }
    if (offer.signal.aborted) withdrawn()
    else offer.signal.addEventListener('abort', withdrawn, { once: true })
  }

  /**
   * The sale of SELL bid `bidId` (a {@link SellWorker}): its offer's worker, dispatched through
   * the pool, or undefined when the bid is no offer's (or there is no pool).
   */
  sale(bidId: string): Sale | undefined {
    const s = this.offers.get(bidId)
    const pool = this.o.workers()
    if (s === undefined || pool === undefined) return undefined
    this.offers.delete(bidId)
    const { offer, progress } = s
    progress.established()
    // a transaction is established: the offer's mandate trade is charged (MAN-5)
    pool.established(offer)
    const store = this.o.store
    return {
      worker: {
        work: async (work, { signal }) => {
          progress.working(work.length)
          let m: Awaited<ReturnType<WorkerPool['dispatch']>>
          try {
            m = await pool.dispatch(offer.workerId, work, { store, signal, offer })
          } catch (err) {
            // the worker's own reason, not only the trade's (issue 12.5)
            progress.workerFailed(isBitwrkError(err) ? err.code : 'ERROR')
            throw err
          }
          const parts: Uint8Array[] = []
          for await (const c of exportStream(m, store, { signal })) parts.push(c)
          return Buffer.concat(parts)
        },
        onTransfer: (e) => progress.transfer(e)
      },
      done: (ok, code) => progress.done(ok, code)
    }
  }

  /** Stops following the market's bids. */
  close(): void {
    this.o.market.removeEventListener('bid:closed', this.onClosed)
  }
}
