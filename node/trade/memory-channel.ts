/**
 * An in-memory {@link TxChannel} network: every joined node applies every published message
 * with the real phase machine at its own clock and persists it through its own
 * `TransactionRepository`, and retires each transaction at its deadline. Tests and local runs
 * use it where the market's gossip channel is not wanted.
 */
import {
  isDue,
  type MatchTerms,
  parseTxDocument,
  retire,
  type Transaction,
  type TxMessage,
  transactionId
} from '../../protocol/transaction/index.js'
import { KeyedListeners } from '../../protocol/util/index.js'
import type { TransactionRepository } from '../store/index.js'
import type { TxChannel } from './channel.js'
import type { TradeClock } from './clock.js'
import { TradeCode, tradeError } from './errors.js'

/** A set of nodes that see each other's transaction messages at once. */
export class MemoryTxNetwork {
  private readonly nodes: MemoryTxChannel[] = []

  /** Adds a node with its repository and clock. */
  join(repo: TransactionRepository, clock: TradeClock): MemoryTxChannel {
    const ch = new MemoryTxChannel(this, repo, clock)
    this.nodes.push(ch)
    return ch
  }

  /** Creates (and stores) the transaction of `terms` on every node; returns it. */
  async open(terms: MatchTerms): Promise<Transaction> {
    let tx: Transaction | undefined
    for (const n of this.nodes) tx = await n.open(terms)
    if (tx === undefined) throw new Error('no node joined')
    return tx
  }

  /** Delivers `message` to every node but `from` (refusals are theirs to ignore). */
  async deliver(from: MemoryTxChannel, message: TxMessage): Promise<void> {
    for (const n of this.nodes) if (n !== from) await n.receive(message)
  }

  /** Stops every node's retirement timers. */
  close(): void {
    for (const n of this.nodes) n.close()
  }
}

/** One node's view in a {@link MemoryTxNetwork}. */
export class MemoryTxChannel implements TxChannel {
  private readonly txs = new Map<string, Transaction>()
  private readonly listeners = new KeyedListeners<string, Transaction>()
  private readonly timers = new Map<string, () => void>()
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false

  constructor(
    private readonly network: MemoryTxNetwork,
    private readonly repo: TransactionRepository,
    private readonly clock: TradeClock
  ) {}

  /** Runs `fn` after every earlier update of this node (records change one at a time). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return run
  }

  /** Creates and stores the transaction of `terms` (or loads the stored one). */
  open(terms: MatchTerms): Promise<Transaction> {
    return this.serial(async () => {
      let tx: Transaction
      try {
        tx = await this.repo.create(terms)
      } catch {
        const stored = await this.repo.get(transactionId(terms.buyBidId, terms.sellBidId))
        if (stored === undefined) throw new Error('transaction neither created nor stored')
        tx = stored
      }
      this.update(tx)
      return tx
    })
  }

  async publish(message: TxMessage): Promise<Transaction> {
    const tx = await this.serial(() => this.applyLocal(message))
    if (!tx.ok) throw tradeError(TradeCode.PUBLISH_REFUSED, 'message refused', { txCode: tx.code })
    await this.network.deliver(this, message)
    return tx.tx
  }

  /** Applies a message from another node (refusals are dropped, as a gossip validator would). */
  async receive(message: TxMessage): Promise<void> {
    await this.serial(() => this.applyLocal(message))
  }

  private async applyLocal(
    message: TxMessage
  ): Promise<{ ok: true; tx: Transaction } | { ok: false; code: string }> {
    const txid = txidOf(message)
    const tx = txid === undefined ? undefined : this.txs.get(txid)
    if (tx === undefined) return { ok: false, code: 'TX_WRONG_TXID' }
    const r = await this.repo.apply(tx, message, this.clock.now())
    if (!r.ok) return r
    this.update(r.tx)
    return r
  }

  current(txid: string): Transaction | undefined {
    return this.txs.get(txid)
  }

  onChange(txid: string, listener: (tx: Transaction) => void): () => void {
    return this.listeners.add(txid, listener)
  }

  retireDue(txid: string): Promise<Transaction | undefined> {
    return this.serial(async () => {
      const tx = this.txs.get(txid)
      if (tx === undefined || !isDue(tx, this.clock.now())) return tx
      const r = retire(tx, this.clock.now())
      if (!r.ok) return tx
      await this.repo.save(r.tx, tx.revision)
      this.update(r.tx)
      return r.tx
    })
  }

  /** Cancels the retirement timers. */
  close(): void {
    this.closed = true
    for (const cancel of this.timers.values()) cancel()
    this.timers.clear()
  }

  private update(tx: Transaction): void {
    this.txs.set(tx.id, tx)
    this.timers.get(tx.id)?.()
    this.timers.delete(tx.id)
    if (tx.state === 'active' && !this.closed)
      this.timers.set(
        tx.id,
        this.clock.timer(tx.deadlineMs, () => {
          void this.retireDue(tx.id).catch(() => {})
        })
      )
    this.listeners.emit(tx.id, tx)
  }
}

/** The txid a message names (the phase machine checks the rest). */
function txidOf(message: TxMessage): string | undefined {
  const p = parseTxDocument(message.document)
  return p.ok ? p.doc.txid : undefined
}
