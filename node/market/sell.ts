/**
 * The seller side of the market (issue 5): when an own SELL bid's transaction is established,
 * the worker reserved for that bid is put to work on it.
 */
import { isBitwrkError } from '../../protocol/errors.js'
import type { Transaction } from '../../protocol/transaction/index.js'
import type { Logger } from '../logger.js'
import type { TradeWorker } from '../trade/seller.js'
import type { TradeService } from '../trade/service.js'
import type { Market } from './market.js'

/** A worker of the node as the trade sees it: a function from work to result bytes. */
export type WorkFunction = (work: Uint8Array, options: { signal: AbortSignal }) => Promise<Uint8Array>

/**
 * Seller side: when an own SELL bid's transaction is established, the worker reserved for that
 * bid trades it. `workerFor(bidId)` returns the worker and a release callback (called with the
 * outcome and, on failure, the error code) or undefined when the bid has none (then nothing is
 * sold and the transaction retires).
 */
export function wireSeller(
  market: Market,
  trade: TradeService,
  workerFor: (
    bidId: string
  ) => { worker: TradeWorker; done: (ok: boolean, code?: string) => void } | undefined,
  logger?: Logger
): () => void {
  const onEst = (e: CustomEvent<{ tx: Transaction; own: string | null }>): void => {
    if (e.detail.own !== 'seller') return
    const tx = e.detail.tx
    const w = workerFor(tx.terms.sellBidId)
    if (w === undefined) {
      logger?.warn({ txid: tx.id }, 'sell: no worker for the established transaction')
      return
    }
    const codeOf = (err: unknown): string => (isBitwrkError(err) ? err.code : 'UNKNOWN')
    trade.onEstablished(tx, w.worker).then(
      (r) => (r.error === null ? w.done(true) : w.done(false, codeOf(r.error))),
      (err: unknown) => {
        logger?.warn({ txid: tx.id, code: codeOf(err) }, 'sell failed')
        w.done(false, codeOf(err))
      }
    )
  }
  market.addEventListener('tx:established', onEst)
  return () => market.removeEventListener('tx:established', onEst)
}
