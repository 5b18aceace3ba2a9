/**
 * The trade service (DESIGN.md §3 "trade"): serves `/bitwrk/trade/1.0.0` for the transactions
 * this node sells in, and runs buys. Every signed step goes through the {@link TxChannel}
 * (which persists it), every wait ends at the phase deadline, and a failed trade leaves the
 * transaction to retire by the rules.
 */
import { setMaxListeners } from 'node:events'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { bytesToHex } from '@noble/hashes/utils.js'
import {
  capReason,
  InboundStreamCaps,
  type StreamGuardReason,
  type StreamRefusedHandler
} from '../../cafs/adapters/libp2p/index.js'
import { InvalidRequestBudget } from '../../cafs/transfer/index.js'
import type { ChunkStore, Manifest } from '../../cafs/types.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { TERMINAL_PHASES, type Transaction } from '../../protocol/transaction/index.js'
import { type Logger, silentLogger } from '../logger.js'
import { type BuyOptions, type BuyResult, runBuyer } from './buyer.js'
import { type TxChannel, waitForTx } from './channel.js'
import { systemClock, type TradeClock } from './clock.js'
import {
  DEFAULT_TRADE_LIMITS,
  type TradeContext,
  type TradeLimits,
  type TradeSigner,
  type TxFileGrants
} from './context.js'
import { randomResultKey } from './crypto.js'
import { TradeCode, type TradeErrorCode, tradeError } from './errors.js'
import type { BulkPaths } from './path.js'
import { failStream, runSellerSession, type SellJob, type TradeWorker } from './seller.js'
import { libp2pTradeStream } from './stream.js'
import { expectType, readTradeFrame, TRADE_FRAME_UNREAD, TRADE_PROTOCOL, TradeMsg } from './wire.js'

/** Dependencies of a {@link TradeService}. */
export interface TradeServiceInit {
  /** The node's libp2p (dials sellers, serves the protocol). */
  readonly libp2p: Libp2p
  /** The node's identity: signs phase messages and receipts (its address must be the party's), opens sealed keys. */
  readonly signer: TradeSigner
  /** Where phase messages are published and transactions observed. */
  readonly channel: TxChannel
  /** Work and result chunks. */
  readonly store: ChunkStore
  /** Clock of the phase deadlines; default the system clock. */
  readonly clock?: TradeClock
  /** Overrides of {@link DEFAULT_TRADE_LIMITS}. */
  readonly limits?: Partial<TradeLimits>
  /** Parent logger. */
  readonly logger?: Logger
  /** Source of 32 random bytes (result keys, the sealing's ephemeral keys); default the system CSPRNG. */
  readonly randomKey?: () => Uint8Array
  /**
   * Told of each file of a transaction (work, ciphertext) this side holds, so the node's chunk
   * server serves it to the counterparty only (CHUNK-14); without it nothing is granted.
   */
  readonly files?: TxFileGrants
  /** Called for every inbound stream refused at a cap or the budget, or cut for an overrun (metrics, bans). */
  readonly onStreamRefused?: StreamRefusedHandler
  /** The bulk-data policy for sellers reachable only through a relay (TRADE-20; the host's `direct`). */
  readonly direct?: BulkPaths
  /** Told which path each trade stream opened as the buyer takes (TRADE-20). */
  readonly onPath?: (path: 'direct' | 'relayed') => void
}

/** How a sell ended. */
export interface SellResult {
  /** The transaction at the end (retired, with its outcome, unless the service stopped first). */
  readonly tx: Transaction
  /** What went wrong on the seller's side after the work was taken, if anything. */
  readonly error: Error | null
}

const TERMINAL = new Set<string>(TERMINAL_PHASES)

/**
 * Session endings that prove the peer broke the trade protocol (TRADE-16): a malformed or
 * unexpected frame, an oversized one, bytes beyond what the step allows (TRADE-19). A stall
 * (`TRADE_BUYER_GONE`) or a dispute is not one.
 */
const INVALID_REQUEST_CODES = new Set<string>([TradeCode.PROTOCOL, TradeCode.TOO_LARGE, TradeCode.OVERRUN])

/** Buyer and seller sides of the trade over direct libp2p streams. */
export class TradeService {
  private readonly ctx: TradeContext
  private readonly jobs = new Map<string, SellJob>()
  private readonly busyWorkers = new Set<TradeWorker>()
  private readonly registered = new Set<() => void>()
  private readonly running = new Set<Promise<unknown>>()
  private stopper = new AbortController()
  private started = false
  private readonly budget: InvalidRequestBudget
  private readonly caps: InboundStreamCaps
  private readonly onStreamRefused: StreamRefusedHandler

  constructor(init: TradeServiceInit) {
    this.ctx = {
      libp2p: init.libp2p,
      signer: init.signer,
      channel: init.channel,
      store: init.store,
      clock: init.clock ?? systemClock,
      limits: { ...DEFAULT_TRADE_LIMITS, ...init.limits },
      log: (init.logger ?? silentLogger()).child({ module: 'trade' }),
      randomKey: init.randomKey ?? randomResultKey,
      ...(init.files !== undefined ? { files: init.files } : {}),
      ...(init.direct !== undefined ? { direct: init.direct } : {}),
      ...(init.onPath !== undefined ? { onPath: init.onPath } : {})
    }
    // TRADE-16: charges count for INVALID_REQUEST_WINDOW_MS on the trade's clock
    this.budget = new InvalidRequestBudget(this.ctx.limits.invalidRequestBudget, undefined, {
      now: () => this.ctx.clock.now()
    })
    this.caps = new InboundStreamCaps({
      perPeer: this.ctx.limits.maxPeerStreams,
      total: this.ctx.limits.maxStreams
    })
    this.onStreamRefused = init.onStreamRefused ?? (() => {})
  }

  /** True when `peer` is the buyer of a transaction this node sells in now (bounded by the jobs). */
  private isBuyer(peer: string): boolean {
    for (const job of this.jobs.values()) if (job.tx.terms.buyerPeerId === peer) return true
    return false
  }

  /** Inbound trade streams open now (of `peer` only, when given). */
  inboundStreams(peer?: string): number {
    return this.caps.count(peer)
  }

  /** True when `peer` used up its invalid-request budget (TRADE-16): its streams are refused. */
  isRefused(peer: string): boolean {
    return this.budget.count(peer) > this.budget.maxInvalid
  }

  /** Serves the protocol. */
  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    this.stopper = new AbortController()
    // every inbound stream (at most the protocol cap) and every buy waits on the stop signal
    // at a few places at once: not a leak
    setMaxListeners(4 * this.caps.caps.total + 64, this.stopper.signal)
    await this.ctx.libp2p.handle(
      TRADE_PROTOCOL,
      (stream, connection) => this.track(this.serve(stream, connection)),
      {
        maxInboundStreams: this.ctx.limits.maxInboundStreams,
        // TRADE-20: a buyer uses a relayed connection only when the relay's limits allow the
        // trade (its policy); the relay's own limits bound what can travel over it
        runOnLimitedConnection: true
      }
    )
  }

  /** Stops serving, aborts every running buy and sell and waits for them. Idempotent. */
  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.stopper.abort(tradeError(TradeCode.ABORTED, 'trade service stopped'))
    await this.ctx.libp2p.unhandle(TRADE_PROTOCOL).catch(() => {})
    await Promise.allSettled([...this.running])
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p)
    const done = (): void => {
      this.running.delete(p)
    }
    p.then(done, done)
    return p
  }

  private signal(extra?: AbortSignal): AbortSignal {
    if (!this.started) throw tradeError(TradeCode.ABORTED, 'trade service is not running')
    return extra === undefined ? this.stopper.signal : AbortSignal.any([this.stopper.signal, extra])
  }

  /**
   * Buys: runs the buyer side of the established transaction `tx` (see {@link runBuyer}).
   * Rejects with TRADE_TIMEOUT, TRADE_SELLER_UNREACHABLE, TRADE_WORK_REJECTED,
   * TRADE_RESULT_REJECTED, TRADE_PEER_ERROR, TRADE_PROTOCOL, TRADE_UNEXPECTED_PHASE or
   * TRADE_ABORTED; the caller may then buy again from another seller.
   */
  runBuyer(
    tx: Transaction,
    work: Manifest | Uint8Array,
    buyerSecret: string,
    options: BuyOptions = {}
  ): Promise<BuyResult> {
    let signal: AbortSignal
    try {
      signal = this.signal(options.signal)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.track(runBuyer(this.ctx, tx, work, buyerSecret, { ...options, signal }))
  }

  /**
   * Sells: `tx` was established with this node as the seller; wait for the buyer's stream and
   * trade with `worker` (reserved for this job until it ends: one job per worker). Resolves
   * when the transaction retired (by acceptance, dispute or deadline) with the final record.
   * Rejects at once with TRADE_WORKER_BUSY, TRADE_BUSY (already selling in `tx`) or
   * TRADE_BAD_ARGUMENT (this node is not the seller's peer).
   */
  onEstablished(
    tx: Transaction,
    worker: TradeWorker,
    options: { signal?: AbortSignal } = {}
  ): Promise<SellResult> {
    let signal: AbortSignal
    try {
      signal = this.signal(options.signal)
      if (tx.terms.sellerPeerId !== this.ctx.libp2p.peerId.toString())
        throw tradeError(TradeCode.BAD_ARGUMENT, 'this node is not the seller of the transaction', {
          txid: tx.id
        })
      if (this.jobs.has(tx.id))
        throw tradeError(TradeCode.BUSY, 'already selling in this transaction', { txid: tx.id })
      if (this.busyWorkers.has(worker)) throw tradeError(TradeCode.WORKER_BUSY, 'worker runs another job')
    } catch (err) {
      return Promise.reject(err)
    }
    const job: SellJob = { tx, worker, signal, sessionRunning: false, committed: false, error: null }
    this.jobs.set(tx.id, job)
    this.busyWorkers.add(worker)
    for (const wake of [...this.registered]) wake()
    return this.track(this.awaitEnd(job))
  }

  /** Waits until the transaction of `job` retired (the sessions run in `serve`). */
  private async awaitEnd(job: SellJob): Promise<SellResult> {
    const { channel, clock } = this.ctx
    try {
      let tx: Transaction
      try {
        tx = await waitForTx(
          channel,
          clock,
          job.tx.id,
          (t) => t.state === 'retired' || TERMINAL.has(t.phase),
          {
            signal: job.signal,
            what: 'the end of the transaction'
          }
        )
      } catch (err) {
        tx = channel.current(job.tx.id) ?? job.tx
        job.error ??= err instanceof Error ? err : new Error(String(err))
      }
      tx = (await channel.retireDue(tx.id).catch(() => undefined)) ?? tx
      // a session that published the end (e.g. reject-work) is still recording why
      await job.session?.catch(() => {})
      return { tx, error: job.error }
    } finally {
      this.jobs.delete(job.tx.id)
      this.busyWorkers.delete(job.worker)
    }
  }

  /**
   * The job of `txid` for a session with `peer`, or the code to refuse it with (TRADE-6). A
   * transaction this node does not sell in, or whose buyer is another peer, is refused at once;
   * only the transaction's own buyer may wait up to `helloTimeoutMs` for the market to register
   * the job (the buyer may see TRANSMITTING before the seller's market does).
   */
  private async jobFor(txid: string, peer: string, signal: AbortSignal): Promise<SellJob | TradeErrorCode> {
    const job = this.jobs.get(txid)
    const tx = job?.tx ?? this.ctx.channel.current(txid)
    if (
      tx === undefined ||
      tx.terms.sellerPeerId !== this.ctx.libp2p.peerId.toString() ||
      tx.state === 'retired'
    )
      return TradeCode.UNKNOWN_TX
    if (tx.terms.buyerPeerId !== peer) return TradeCode.WRONG_PEER
    return (
      job ?? (await this.registeredJob(txid, this.ctx.limits.helloTimeoutMs, signal)) ?? TradeCode.UNKNOWN_TX
    )
  }

  /** The job of `txid`, waiting up to `timeoutMs` for the market to register it. */
  private registeredJob(txid: string, timeoutMs: number, signal: AbortSignal): Promise<SellJob | undefined> {
    const now = this.jobs.get(txid)
    if (now !== undefined || signal.aborted) return Promise.resolve(now)
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.registered.delete(check)
        signal.removeEventListener('abort', done)
        resolve(this.jobs.get(txid))
      }
      const check = (): void => {
        if (this.jobs.has(txid)) done()
      }
      const timer = setTimeout(done, timeoutMs)
      this.registered.add(check)
      signal.addEventListener('abort', done, { once: true })
    })
  }

  /** Handles one inbound trade stream (TRADE-7, TRADE-19). */
  private async serve(stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const refuse = (reason: StreamGuardReason, err: Error): void => {
      this.onStreamRefused(reason, peer)
      stream.abort(err)
    }
    if (this.isRefused(peer))
      return refuse('budget', tradeError(TradeCode.PEER_REFUSED, 'peer over its invalid-request budget'))
    // TRADE-19: the buyer of a transaction this node sells in is never crowded out by strangers
    const slot = this.caps.take(peer, this.isBuyer(peer))
    if (typeof slot === 'string')
      return refuse(
        capReason(slot),
        tradeError(TradeCode.STREAM_LIMIT, 'too many trade streams', { scope: slot })
      )
    // TRADE-19: before READY an honest buyer sends HELLO and nothing else
    const ts = libp2pTradeStream(stream, {
      maxUnreadBytes: TRADE_FRAME_UNREAD,
      onOverrun: () => this.onStreamRefused('overrun', peer)
    })
    const { limits, log } = this.ctx
    const stop = this.stopper.signal
    try {
      const gone = (why: string): Error => tradeError(TradeCode.BUYER_GONE, why)
      const hello = expectType(
        await readTradeFrame(ts, { timeoutMs: limits.helloTimeoutMs, signal: stop }, gone),
        TradeMsg.HELLO
      )
      const job = await this.jobFor(bytesToHex(hello), peer, stop)
      if (typeof job === 'string') {
        // TRADE-16: charged before anything else is waited for or read
        this.budget.charge(peer)
        return await failStream(ts, job)
      }
      if (job.sessionRunning || job.committed) return await failStream(ts, TradeCode.BUSY)
      job.sessionRunning = true
      try {
        job.session = runSellerSession(this.ctx, job, ts)
        await job.session
      } finally {
        job.sessionRunning = false
      }
    } catch (err) {
      const code = isBitwrkError(err) ? err.code : TradeCode.PROTOCOL
      log.debug({ code }, 'trade: seller session ended')
      // TRADE-16: a stream that broke the protocol costs the peer one unit of its budget
      if (INVALID_REQUEST_CODES.has(code)) this.budget.charge(peer)
      // Tell the buyer why (TRADE-13) unless it is the one that went away.
      if (code !== TradeCode.BUYER_GONE) await failStream(ts, code)
      ts.bytes.abort()
    } finally {
      slot()
    }
  }
}
