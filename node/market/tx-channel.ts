/**
 * The market's transaction topic as the trade's {@link TxChannel} (issue 5): own messages
 * published through the market's transaction follower, the current state of a transaction
 * (kept for a while after it retires) and its changes.
 */
import type { Transaction, TxMessage } from '../../protocol/transaction/index.js'
import { evictOldest, KeyedListeners } from '../../protocol/util/index.js'
import type { TxChannel } from '../trade/channel.js'
import { TradeCode, tradeError } from '../trade/errors.js'
import { isMarketTxError, MarketTxCode } from './follower.js'
import type { Market } from './market.js'

/** Retired records kept for `current` after the market stops following them (bounded). */
const MAX_RETIRED_KEPT = 4096

/** Longest wait for the market's serial retire job in {@link MarketTxChannel.retireDue}. */
const RETIRE_WAIT_MS = 1000

/** The market's transaction topic as a {@link TxChannel}. */
export class MarketTxChannel implements TxChannel {
  private readonly retired = new Map<string, Transaction>()
  private readonly listeners = new KeyedListeners<string, Transaction>()

  constructor(
    private readonly market: Market,
    private readonly clock: () => number
  ) {
    market.addEventListener('tx:phase', (e) => this.changed(e.detail.tx))
    market.addEventListener('tx:retired', (e) => {
      this.retired.set(e.detail.txid, e.detail.tx)
      evictOldest(this.retired, MAX_RETIRED_KEPT)
      this.changed(e.detail.tx)
    })
  }

  /** @inheritdoc */
  async publish(message: TxMessage): Promise<Transaction> {
    try {
      return await this.market.txs.publishSigned(message)
    } catch (err) {
      if (isMarketTxError(err, MarketTxCode.REFUSED) || isMarketTxError(err, MarketTxCode.NOT_A_PARTY))
        throw tradeError(TradeCode.PUBLISH_REFUSED, 'own message refused', {
          txCode: 'code' in err.details ? err.details.code : err.code
        })
      throw err
    }
  }

  /** @inheritdoc */
  current(txid: string): Transaction | undefined {
    return this.market.txs.get(txid)?.tx ?? this.retired.get(txid)
  }

  /** @inheritdoc */
  onChange(txid: string, listener: (tx: Transaction) => void): () => void {
    return this.listeners.add(txid, listener)
  }

  /** @inheritdoc */
  async retireDue(txid: string): Promise<Transaction | undefined> {
    const tx = this.current(txid)
    if (tx === undefined || tx.state === 'retired' || tx.deadlineMs > this.clock()) return tx
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        off()
        resolve()
      }, RETIRE_WAIT_MS)
      const off = this.onChange(txid, (t) => {
        if (t.state !== 'retired') return
        clearTimeout(timer)
        off()
        resolve()
      })
    })
    this.market.txs.retireDue(this.clock())
    await done
    return this.current(txid)
  }

  private changed(tx: Transaction): void {
    this.listeners.emit(tx.id, tx)
  }
}
