import { errorBuilder, errorGuard, isBitwrkError } from '../../protocol/errors.js'
import type { Identity } from '../../protocol/identity/index.js'
import {
  createTransaction,
  decodeTxMessage,
  encodeTxMessage,
  isDue,
  type MatchTerms,
  type MessageContent,
  type ParsedTxDocument,
  type Party,
  type Phase,
  parseTxDocument,
  retire,
  signTxMessage,
  type Transaction,
  TX_REFUSAL_SEVERITY,
  TxCode,
  type TxErrorCode,
  type TxMessage,
  validateTxMessage
} from '../../protocol/transaction/index.js'
import { evictOldest } from '../../protocol/util/index.js'
import type { GossipAdapter } from '../gossip/adapter.js'
import { txTopic } from '../gossip/topics.js'
import type { ValidationContext, ValidationResult } from '../gossip/types.js'
import type { Logger } from '../logger.js'
import { codeLabel } from '../metrics.js'
import type { BidRepository } from '../store/bids.js'
import { StoreCode } from '../store/errors.js'
import type { TransactionRepository } from '../store/transactions.js'
import type { MarketMetrics } from './metrics.js'

/** Shortest time a transaction message is retried for, even after its phase's deadline (MARKET-10). */
const MIN_PUBLISH_WINDOW_MS = 10_000

/** Codes of the transaction follower (`MARKET_*`, MARKET-9 … MARKET-12). */
export const MarketTxCode = {
  /** MARKET-9: no followed transaction has this id (not matched here, or views differ). */
  UNKNOWN_TX: 'MARKET_UNKNOWN_TX',
  /** MARKET-9: the message's transaction belongs to another article's topic. */
  WRONG_TOPIC: 'MARKET_WRONG_TOPIC',
  /** Persisting an accepted message failed; it is not applied (and not forwarded). */
  STORE_FAILED: 'MARKET_STORE_FAILED',
  /** MARKET-8: the own bid is already used in another transaction; nothing is signed. */
  BID_USED: 'MARKET_BID_USED',
  /** `sendTxMessage` for a transaction this node is no party of. */
  NOT_A_PARTY: 'MARKET_NOT_A_PARTY',
  /** The phase machine refused the node's own message (wrong phase, deadline passed). */
  REFUSED: 'MARKET_TX_REFUSED'
} as const

/** Union of the transaction follower's codes. */
export type MarketTxErrorCode = (typeof MarketTxCode)[keyof typeof MarketTxCode]

/** The details of the follower codes whose details are read (issue 13); others carry any. */
export type MarketTxDetails = {
  /** The transaction. */
  [MarketTxCode.NOT_A_PARTY]: { txid: string }
  /** The transaction and the phase machine's code. */
  [MarketTxCode.REFUSED]: { txid: string; code: TxErrorCode }
}

/** Builds a transaction follower error. */
export const marketTxError = errorBuilder<MarketTxErrorCode, MarketTxDetails>()

/** True when `err` is the follower error `code`; narrows its details ({@link MarketTxDetails}). */
export const isMarketTxError = errorGuard<MarketTxErrorCode, MarketTxDetails>()

/** A followed transaction: the current record and the node's party in it (null: audit only). */
export interface TxEntry {
  /** The current record. */
  tx: Transaction
  /** The node's role, or null when the node only audits it. */
  readonly party: Party | null
  /** True once an own transaction is in the store (later saves check the revision). */
  stored: boolean
}

/** Payload of `tx:phase`. */
export interface TxPhaseEvent {
  /** Transaction id. */
  readonly txid: string
  /** Phase before. */
  readonly from: Phase
  /** Phase after. */
  readonly to: Phase
  /** The new record. */
  readonly tx: Transaction
  /** The node's party, or null. */
  readonly own: Party | null
}

/** Payload of `tx:established` and `tx:retired`. */
export interface TxEvent {
  /** Transaction id. */
  readonly txid: string
  /** The record. */
  readonly tx: Transaction
  /** The node's party, or null. */
  readonly own: Party | null
}

/** Bounds of the early-message stash (MARKET-9): ids, and messages per id (the 2 establishing ones and spare). */
const MAX_STASHED_TXS = 1024
const MAX_STASHED_PER_TX = 4

/** The establishing phases: a transaction retiring in one of them did not establish. */
export const ESTABLISHING: ReadonlySet<Phase> = new Set<Phase>([
  'ESTABLISHING',
  'BUYER_ESTABLISHED',
  'SELLER_ESTABLISHED'
])

/** Options of {@link TransactionFollower}. */
export interface TransactionFollowerOptions {
  /** The node's identity (signs own messages). */
  readonly identity: Identity
  /** Own transactions with their messages (MARKET-11). */
  readonly transactions: TransactionRepository
  /** Own bids and their used marks (MARKET-8). */
  readonly bids: BidRepository
  /** Metric families. */
  readonly metrics: MarketMetrics
  /** Parent logger. */
  readonly logger: Logger
  /** Clock, ms since the epoch. */
  readonly clock: () => number
  /** Runs the epoch engine now; a message may name a match of an epoch that just closed. */
  readonly tick: () => void
  /** How long a message of a not (yet) followed transaction is kept for it, ms (MARKET-9). */
  readonly txWaitMs: number
  /** Most transactions followed at once; own ones are always followed (MARKET-12). */
  readonly maxFollowed: number
  /**
   * Sees every message that parsed, with the followed transaction if any, before the phase
   * machine judges it (the reputation's equivocation check, REP-26). Must not throw.
   */
  readonly onMessage?: (message: TxMessage, doc: ParsedTxDocument, tx: Transaction | undefined) => void
  /** Event sink. */
  readonly emit: (type: 'tx:phase' | 'tx:established' | 'tx:retired', detail: TxPhaseEvent | TxEvent) => void
}

/**
 * The transaction topic side of the market (MARKET-9 … MARKET-12): follows the transaction of
 * every match, validates gossiped phase messages against the phase machine, persists every
 * message of own transactions, signs own messages (never for a used bid), publishes them, and
 * retires transactions when due.
 */
export class TransactionFollower {
  private readonly o: TransactionFollowerOptions
  private readonly log: Logger
  private readonly txs = new Map<string, TxEntry>()
  private readonly chains = new Map<string, Promise<unknown>>()
  private readonly early = new Map<string, { article: string; untilMs: number; messages: TxMessage[] }>()
  private readonly pending = new Set<Promise<unknown>>()
  private readonly stopController = new AbortController()
  private gossip: GossipAdapter | undefined
  private established = 0
  private failed = 0

  constructor(opts: TransactionFollowerOptions) {
    this.o = opts
    this.log = opts.logger.child({ module: 'market-tx' })
    this.o.metrics.establishShare.set(1)
    this.o.metrics.setPhaseSource(() => this.phaseCounts())
  }

  /** Publishes through `gossip` from now on. */
  attach(gossip: GossipAdapter): void {
    this.gossip = gossip
  }

  /** The followed transaction `txid`. */
  get(txid: string): TxEntry | undefined {
    return this.txs.get(txid)
  }

  /** Every followed (active) transaction. */
  list(): TxEntry[] {
    return [...this.txs.values()]
  }

  /** Active followed transactions per phase. */
  phaseCounts(): Map<Phase, number> {
    const m = new Map<Phase, number>()
    for (const e of this.txs.values()) m.set(e.tx.phase, (m.get(e.tx.phase) ?? 0) + 1)
    return m
  }

  /** Starts following the transaction of a match (MARKET-7); undefined when over the bound. */
  follow(terms: MatchTerms, party: Party | null): TxEntry | undefined {
    const tx = createTransaction(terms)
    const known = this.txs.get(tx.id)
    if (known !== undefined) return known
    if (party === null && this.txs.size >= this.o.maxFollowed) return undefined
    return this.adopt(tx, party, false)
  }

  /** Follows an existing record (restored from storage). */
  adopt(tx: Transaction, party: Party | null, stored = true): TxEntry {
    const entry: TxEntry = { tx, party, stored }
    this.txs.set(tx.id, entry)
    this.applyEarly(entry)
    return entry
  }

  /**
   * The transaction-topic validator (MARKET-9): decode, parse, find the followed transaction
   * (running the epoch engine first; an unknown one is ignored and its message kept for
   * `txWaitMs` in case the match is made here a moment later), then the phase machine; own
   * transactions persist the message before it is accepted.
   */
  async validate(data: Uint8Array, ctx: ValidationContext): Promise<ValidationResult> {
    const r = await this.check(data, ctx)
    this.o.metrics.txMessages.inc({
      result: r.result,
      code: r.result === 'accept' ? 'OK' : codeLabel(r.code)
    })
    return r
  }

  private async check(data: Uint8Array, ctx: ValidationContext): Promise<ValidationResult> {
    let msg: TxMessage
    try {
      msg = decodeTxMessage(data)
    } catch (err) {
      // [REJECT] TX-6: framing and size.
      return { result: 'reject', code: isBitwrkError(err) ? err.code : TxCode.MALFORMED }
    }
    // [REJECT] TX-4 … TX-7: the document, before any lookup.
    const parsed = parseTxDocument(msg.document)
    if (!parsed.ok) return { result: TX_REFUSAL_SEVERITY[parsed.code], code: parsed.code }
    const txid = parsed.doc.txid
    let entry = this.txs.get(txid)
    if (entry === undefined) {
      this.o.tick()
      entry = this.txs.get(txid)
    }
    this.o.onMessage?.(msg, parsed.doc, entry?.tx)
    if (entry === undefined) {
      // [IGNORE] MARKET-9: not a match of our view (yet); no proof of misbehaviour. Kept for
      // txWaitMs in case our epoch closes a moment later than the sender's (timer jitter,
      // clock skew); never waited for here, because GossipSub handles a peer's RPCs in order.
      this.stash(txid, msg, ctx.article)
      return { result: 'ignore', code: MarketTxCode.UNKNOWN_TX }
    }
    // [REJECT] MARKET-9: the txid commits to the bids, hence to the article of the topic.
    if (entry.tx.terms.article !== ctx.article) return { result: 'reject', code: MarketTxCode.WRONG_TOPIC }
    const e = entry
    return this.serial(txid, async (): Promise<ValidationResult> => {
      // [IGNORE/REJECT] TX-8 … TX-17 by TX-20 severity; signatures last.
      const v = validateTxMessage(e.tx, msg, this.o.clock())
      if (v.result !== 'accept') return v
      try {
        await this.commit(e, v.tx)
      } catch (err) {
        this.log.error({ txid, err: String(err) }, 'storing a transaction message failed')
        return { result: 'ignore', code: MarketTxCode.STORE_FAILED }
      }
      return { result: 'accept' }
    })
  }

  /**
   * Signs the node's establishing message for its bid `bidId` (MARKET-8): marks the bid used
   * (durably, BEFORE signing; a bid already used for another transaction signs nothing), then
   * signs, applies, persists and publishes. Returns false when nothing was signed.
   */
  establish(entry: TxEntry, bidId: string, content: MessageContent): Promise<boolean> {
    return this.serial(entry.tx.id, async () => {
      if (entry.tx.state !== 'active') return false
      try {
        await this.o.bids.markUsed(bidId, entry.tx.id)
      } catch (err) {
        if (isBitwrkError(err, StoreCode.BID_ALREADY_USED) || isBitwrkError(err, StoreCode.BID_UNKNOWN)) {
          this.log.warn({ txid: entry.tx.id, code: err.code }, 'bid not usable: not establishing')
          return false
        }
        throw err
      }
      await this.signAndSend(entry, content)
      return true
    })
  }

  /**
   * Signs and publishes a later phase message of an own transaction (for the trade protocol).
   * Throws MARKET_NOT_A_PARTY, or MARKET_TX_REFUSED with the phase machine's code in details.
   */
  send(txid: string, content: MessageContent): Promise<Transaction> {
    const entry = this.txs.get(txid)
    if (entry === undefined || entry.party === null)
      return Promise.reject(
        marketTxError(MarketTxCode.NOT_A_PARTY, 'not a party of this transaction', { txid })
      )
    return this.serial(txid, () => this.signAndSend(entry, content))
  }

  /**
   * Applies, persists and publishes an own message signed elsewhere (the trade protocol's
   * TxChannel signs its messages itself): the path of {@link send} after signing. Throws
   * MARKET_NOT_A_PARTY, or MARKET_TX_REFUSED with the phase machine's code in details.
   */
  publishSigned(msg: TxMessage): Promise<Transaction> {
    const parsed = parseTxDocument(msg.document)
    const txid = parsed.ok ? parsed.doc.txid : ''
    const entry = this.txs.get(txid)
    if (entry === undefined || entry.party === null)
      return Promise.reject(
        marketTxError(MarketTxCode.NOT_A_PARTY, 'not a party of this transaction', { txid })
      )
    return this.serial(txid, async () => {
      const v = validateTxMessage(entry.tx, msg, this.o.clock())
      if (v.result !== 'accept')
        throw marketTxError(MarketTxCode.REFUSED, 'phase machine refused own message', {
          txid,
          code: v.code
        })
      await this.commit(entry, v.tx)
      this.publish(entry, msg)
      return v.tx
    })
  }

  /** Publishes an already accepted own message again (after a restart, MARKET-11). */
  republish(entry: TxEntry, message: TxMessage): void {
    this.publish(entry, message)
  }

  /**
   * Retires every followed transaction that is due at `nowMs` (TX-18): own ones are saved
   * retired; all leave the followed set. Counts the establish share (MARKET-13).
   */
  retireDue(nowMs: number): void {
    for (const [txid, early] of this.early) if (early.untilMs <= nowMs) this.early.delete(txid)
    for (const entry of this.txs.values()) {
      if (!isDue(entry.tx, nowMs)) continue
      const txid = entry.tx.id
      this.track(
        this.serial(txid, async () => {
          if (!isDue(entry.tx, nowMs)) return
          const r = retire(entry.tx, nowMs)
          if (!r.ok) return
          if (entry.party !== null) await this.save(entry, r.tx)
          this.concluded(entry, r.tx)
        })
      )
    }
  }

  /** Counts and announces a transaction retired elsewhere (restart recovery). */
  recovered(tx: Transaction, party: Party | null): void {
    this.concluded({ tx, party, stored: true }, tx)
  }

  /** Stops: waiters resolve empty, publications abort; waits for in-flight work. */
  async stop(): Promise<void> {
    this.stopController.abort()
    this.early.clear()
    await Promise.allSettled([...this.pending])
  }

  private concluded(entry: TxEntry, retired: Transaction): void {
    this.txs.delete(retired.id)
    entry.tx = retired
    const reason = retired.outcome?.reason ?? 'not-established'
    this.o.metrics.retired.inc({ reason })
    if (retired.outcome !== null && ESTABLISHING.has(retired.outcome.phase)) this.failed++
    this.updateShare()
    this.o.emit('tx:retired', { txid: retired.id, tx: retired, own: entry.party })
  }

  private async signAndSend(entry: TxEntry, content: MessageContent): Promise<Transaction> {
    const msg = signTxMessage(this.o.identity, entry.tx.id, content)
    const v = validateTxMessage(entry.tx, msg, this.o.clock())
    if (v.result !== 'accept')
      throw marketTxError(MarketTxCode.REFUSED, 'phase machine refused own message', {
        txid: entry.tx.id,
        code: v.code
      })
    await this.commit(entry, v.tx)
    this.publish(entry, msg)
    return v.tx
  }

  /** Persists (own transactions) and then applies an accepted record, with events. */
  private async commit(entry: TxEntry, next: Transaction): Promise<void> {
    const prev = entry.tx
    if (entry.party !== null) await this.save(entry, next)
    entry.tx = next
    const own = entry.party
    this.o.emit('tx:phase', { txid: next.id, from: prev.phase, to: next.phase, tx: next, own })
    if (next.phase === 'TRANSMITTING' && ESTABLISHING.has(prev.phase)) {
      this.established++
      this.o.metrics.established.inc()
      this.updateShare()
      this.o.emit('tx:established', { txid: next.id, tx: next, own })
    }
  }

  private async save(entry: TxEntry, next: Transaction): Promise<void> {
    await this.o.transactions.save(next, entry.stored ? entry.tx.revision : undefined)
    entry.stored = true
  }

  private updateShare(): void {
    const total = this.established + this.failed
    this.o.metrics.establishShare.set(total === 0 ? 1 : this.established / total)
  }

  /** Publishes with retries until the transaction's deadline or stop (MARKET-10). */
  private publish(entry: TxEntry, msg: TxMessage): void {
    const gossip = this.gossip
    if (gossip === undefined) return
    const topic = txTopic(entry.tx.terms.article)
    const bytes = encodeTxMessage(msg)
    // A terminal phase's deadline is the moment it was entered (TX rules), yet the message that
    // ended the transaction must still reach the other party and observers: give every publish
    // at least MIN_PUBLISH_WINDOW_MS.
    const deadlineMs = Math.max(entry.tx.deadlineMs, this.o.clock() + MIN_PUBLISH_WINDOW_MS)
    const signal = this.stopController.signal
    this.track(
      (async () => {
        while (!signal.aborted) {
          const left = deadlineMs - this.o.clock()
          if (left <= 0) return
          try {
            await gossip.publish(topic, bytes, { signal, timeoutMs: Math.min(left, 10_000) })
            return
          } catch (err) {
            if (signal.aborted) return
            this.log.debug({ txid: entry.tx.id, err: String(err) }, 'transaction message not yet published')
          }
        }
      })()
    )
  }

  private stash(txid: string, message: TxMessage, article: string): void {
    const now = this.o.clock()
    const early = this.early.get(txid)
    if (early !== undefined) {
      if (early.messages.length < MAX_STASHED_PER_TX) early.messages.push(message)
      return
    }
    evictOldest(this.early, MAX_STASHED_TXS - 1)
    this.early.set(txid, { article, untilMs: now + this.o.txWaitMs, messages: [message] })
  }

  /** Applies messages that arrived before the transaction was followed here (MARKET-9). */
  private applyEarly(entry: TxEntry): void {
    const early = this.early.get(entry.tx.id)
    if (early === undefined) return
    this.early.delete(entry.tx.id)
    if (early.article !== entry.tx.terms.article) return
    for (const msg of early.messages)
      this.track(
        this.serial(entry.tx.id, async () => {
          const v = validateTxMessage(entry.tx, msg, this.o.clock())
          this.o.metrics.txMessages.inc({
            result: v.result,
            code: v.result === 'accept' ? 'OK_EARLY' : codeLabel(v.code)
          })
          if (v.result === 'accept') await this.commit(entry, v.tx)
        })
      )
  }

  /** Runs `fn` after every earlier job of the same transaction (one writer per record). */
  private serial<T>(txid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(txid) ?? Promise.resolve()
    const next = prev.then(fn, fn)
    const tail = next.catch(() => undefined)
    this.chains.set(txid, tail)
    void tail.then(() => {
      if (this.chains.get(txid) === tail) this.chains.delete(txid)
    })
    return next
  }

  /** Keeps `p` in the set that {@link stop} waits for; failures are logged. */
  track(p: Promise<unknown>): void {
    const t = p.catch((err: unknown) => this.log.error({ err: String(err) }, 'transaction job failed'))
    this.pending.add(t)
    void t.finally(() => this.pending.delete(t))
  }
}
