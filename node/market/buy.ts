/**
 * The buyer side of the market (issue 5): a BUY bid committing to the work, then the trade with
 * the matched seller, again with another seller when a trade fails, and with a low-trust seller
 * the result bought again from others and compared (REP-17 … REP-19).
 */
import { createHash, randomBytes } from 'node:crypto'
import { keyToHex } from '../../cafs/keys.js'
import { importStream } from '../../cafs/stream.js'
import { MISBEHAVIOUR_CODES } from '../../cafs/transfer/index.js'
import type { ChunkStore, Manifest } from '../../cafs/types.js'
import { errorBuilder, errorGuard, isBitwrkError } from '../../protocol/errors.js'
import type { Money } from '../../protocol/money/index.js'
import { judge, MAX_OPINIONS } from '../../protocol/reputation/index.js'
import type { Transaction } from '../../protocol/transaction/index.js'
import type { Logger } from '../logger.js'
import type { ReputationService } from '../reputation/service.js'
import type { TransferProgressEvent } from '../trade/buyer.js'
import type { TradeService } from '../trade/service.js'
import type { Market } from './market.js'

/** Lifetime of a buy's BUY bid by default, ms: the original's 60 s (as a worker offer's SELL bid, sell.ts). */
const BUY_BID_LIFETIME_MS = 60_000

/**
 * Bids a buy places again without counting an attempt, when the network lost one (MARKET-16) or
 * its match never established (MARKET-17); the buy's deadline bounds them as well.
 */
const FREE_REBIDS = 8

/** Codes of a buy through the market (`NODETRADE_*`). */
export const NodeTradeCode = {
  /**
   * Every attempt of a buy failed (details: `attempts` count, `lastCode`, and `failures`: every
   * attempt's {@link BuyAttempt}, issue 12.5).
   */
  BUY_FAILED: 'NODETRADE_BUY_FAILED',
  /** The BUY bid expired or was cancelled without an established transaction. */
  NO_MATCH: 'NODETRADE_NO_MATCH',
  /**
   * No seller was found: every BUY bid expired unmatched, or the buy's deadline passed before a
   * transaction was established (API-7, API-21; details: attempts, timeoutMs).
   */
  NO_SELLER: 'NODETRADE_NO_SELLER',
  /** The buy's deadline passed after a seller was found, before the result was in (API-21). */
  TIMEOUT: 'NODETRADE_TIMEOUT'
} as const

/** Union of the buy codes. */
export type NodeTradeErrorCode = (typeof NodeTradeCode)[keyof typeof NodeTradeCode]

/** The details of the buy codes whose details are read (issue 13); others carry any. */
export type NodeTradeDetails = {
  /** Attempts made, the last one's code and every attempt (issue 12.5). */
  [NodeTradeCode.BUY_FAILED]: { attempts: number; lastCode: string; failures: readonly BuyAttempt[] }
  /** Why the bid closed (`bid:closed`'s reason: `expired`, `cancelled`, `lost`, `not-established`). */
  [NodeTradeCode.NO_MATCH]: { reason?: string | undefined }
}

/** Builds a buy error. */
export const nodeTradeError = errorBuilder<NodeTradeErrorCode, NodeTradeDetails>()

/** True when `err` is the buy error `code`; narrows its details ({@link NodeTradeDetails}). */
export const isNodeTradeError = errorGuard<NodeTradeErrorCode, NodeTradeDetails>()

/** Options of {@link buyWork}. */
export interface BuyWorkOptions {
  readonly market: Market
  readonly trade: TradeService
  /** Where the result is imported. */
  readonly store: ChunkStore
  readonly article: string
  readonly price: Money
  /** The work, its chunks in `store`. */
  readonly work: Manifest
  /** Attempts (a new BUY bid each) before giving up; default 3. */
  readonly attempts?: number
  /** Lifetime of each BUY bid, ms (default 60 s). */
  readonly bidLifetimeMs?: number
  readonly signal?: AbortSignal
  readonly logger?: Logger
  /** Progress: `bid`, `established`, `trading`, `retry`, `done`. */
  readonly onProgress?: (phase: string, details: Record<string, unknown>) => void
  /** Checks the result before accepting (the trade's `resultCheck`). */
  readonly resultCheck?: (result: Uint8Array) => boolean | Promise<boolean>
  /**
   * The node's reputation: a seller that sends a chunk that does not hash right is counted
   * (`wrongChunks`, REP-22), and replication asks it for trust.
   */
  readonly reputation?: ReputationService
  /**
   * Adaptive replication (REP-17 … REP-19), with `reputation`: the article's results are
   * byte-comparable, so a low-trust seller's result is bought again from another seller
   * before either is accepted, the hashes compared, and a disagreement settled by a third opinion.
   */
  readonly deterministic?: boolean
  /** Byte progress of the work push and the result transfer of the current attempt. */
  readonly onTransfer?: (event: TransferProgressEvent) => void
  /**
   * Deadline of the whole buy, ms (API-21): when it passes the open BUY bid is cancelled and the
   * buy fails with `NODETRADE_NO_SELLER` (no transaction was established) or `NODETRADE_TIMEOUT`.
   */
  readonly timeoutMs?: number
}

/** Why one attempt of a buy failed, and with whom (API-7 `attempts`). */
export interface BuyAttempt {
  /** 1, 2, … */
  readonly attempt: number
  /** The failure's code (`NODETRADE_NO_MATCH`: no transaction was established). */
  readonly code: string
  /** The seller's address, or null when no transaction was established. */
  readonly seller: string | null
  /** The seller's peer id, or null. */
  readonly sellerPeerId: string | null
  /** The attempt's transaction, or null. */
  readonly txId: string | null
}

/** Outcome of {@link buyWork}. */
export interface BuyWorkResult {
  readonly result: Manifest
  readonly tx: Transaction
  readonly attempts: number
}

/** Decides, with the transaction, whether to accept a result (signs accept- or reject-result). */
type TxResultCheck = (result: Uint8Array, tx: Transaction) => Promise<boolean>

/**
 * Buys `work`: places a BUY bid committing to the work hash and a fresh secret (TX-15), waits
 * for its transaction to be established, runs the buyer side of the trade and stores the
 * result. A failed trade or an unmatched bid is retried with a new bid (another seller). With
 * `reputation` and `deterministic`, a low-trust seller's result is compared with other
 * sellers' (REP-17 … REP-19): the result returned is one the quorum agreed on, and sellers that
 * disagreed with it get a signed reject-result (a global dispute) and a local `rejectedResults`.
 */
export async function buyWork(o: BuyWorkOptions): Promise<BuyWorkResult> {
  if (o.timeoutMs === undefined) return buyWorkUntil(o)
  const deadline = AbortSignal.timeout(o.timeoutMs)
  let matched = false
  try {
    return await buyWorkUntil({
      ...o,
      signal: o.signal === undefined ? deadline : AbortSignal.any([o.signal, deadline]),
      onProgress: (phase, details) => {
        if (phase === 'established') matched = true
        o.onProgress?.(phase, details)
      }
    })
  } catch (err) {
    if (!deadline.aborted || o.signal?.aborted === true) throw err
    const s = Math.round(o.timeoutMs / 1000)
    throw matched
      ? nodeTradeError(NodeTradeCode.TIMEOUT, `the buy did not finish within ${s} s`, {
          timeoutMs: o.timeoutMs
        })
      : nodeTradeError(NodeTradeCode.NO_SELLER, `no seller found within ${s} s`, { timeoutMs: o.timeoutMs })
  }
}

/** {@link buyWork} until `o.signal` aborts. */
async function buyWorkUntil(o: BuyWorkOptions): Promise<BuyWorkResult> {
  const rep = o.reputation
  const plain: TxResultCheck = async (result) => (o.resultCheck === undefined ? true : o.resultCheck(result))
  if (rep === undefined || o.deterministic !== true) return buyOnce(o, plain, new Set())
  const opinions = new Map<string, string>()
  const accepted = new Map<string, BuyWorkResult>()
  const judgedAgainst = new Set<string>()
  const opinion = (depth: number): TxResultCheck => {
    return async (result, tx) => {
      if (!(await plain(result, tx))) return false
      const seller = tx.terms.seller
      opinions.set(seller, createHash('sha256').update(result).digest('hex'))
      if (depth === 0 && !rep.shouldReplicate(seller, true)) return true
      let j = judge(opinions)
      const more = opinions.size < 2 || (j.verdict === 'undecided' && j.next === 'another-opinion')
      if (more && depth + 1 < MAX_OPINIONS) {
        // REP-17 / REP-19: one more seller; its own check sees every opinion so far
        o.onProgress?.('replicate', { seller, opinions: opinions.size })
        try {
          const r = await buyOnce(o, opinion(depth + 1), judgedAgainst)
          accepted.set(r.tx.terms.seller, r)
        } catch (err) {
          if (o.signal?.aborted === true) throw err
          // no second opinion to be had: the first result stands unjudged
          o.logger?.warn({ code: isBitwrkError(err) ? err.code : 'UNKNOWN' }, 'buy: replica failed')
        }
        j = judge(opinions)
      }
      if (j.verdict !== 'decided' || !j.penalised.includes(seller)) return true
      // REP-19: the quorum contradicts this seller: reject its result, count it locally
      judgedAgainst.add(tx.id)
      o.onProgress?.('contradicted', { seller, txid: tx.id })
      await rep.onContradicted(seller)
      return false
    }
  }
  try {
    return await buyOnce(o, opinion(0), judgedAgainst)
  } catch (err) {
    // The first seller lost the vote: the result is the winner's, bought in a replica.
    const winner = [...accepted.values()][0]
    if (winner === undefined || o.signal?.aborted === true) throw err
    return winner
  }
}

/** {@link buyWork} without replication: attempts until a trade succeeds; a judged rejection ends it. */
async function buyOnce(
  o: BuyWorkOptions,
  check: TxResultCheck,
  judgedAgainst: ReadonlySet<string>
): Promise<BuyWorkResult> {
  const attempts = o.attempts ?? 3
  const lifetimeMs = o.bidLifetimeMs ?? BUY_BID_LIFETIME_MS
  let unmatched = 0
  let rebids = 0
  const failures: BuyAttempt[] = []
  const failed = (attempt: number, err: unknown, tx?: Transaction): string => {
    const code = isBitwrkError(err) ? err.code : 'UNKNOWN'
    failures.push({
      attempt,
      code,
      seller: tx?.terms.seller ?? null,
      sellerPeerId: tx?.terms.sellerPeerId ?? null,
      txId: tx?.id ?? null
    })
    return code
  }
  for (let attempt = 1; attempt <= attempts; attempt++) {
    o.signal?.throwIfAborted()
    const buyerSecret = randomBytes(32).toString('hex')
    const workHash = keyToHex(o.work.fileKey)
    const established = waitEstablished(o.market, o.signal)
    let bid: Awaited<ReturnType<Market['placeBid']>>
    try {
      bid = await o.market.placeBid({
        article: o.article,
        side: 'BUY',
        price: o.price,
        lifetimeMs,
        work: { workHash, buyerSecret }
      })
    } catch (err) {
      established.cancel()
      throw err
    }
    o.onProgress?.('bid', { attempt, bidId: bid.id })
    let tx: Transaction
    try {
      tx = await established.wait(bid.id)
    } catch (err) {
      if (o.signal?.aborted === true) {
        // The buyer gave up (client gone, deadline): its bid must not match a seller it would
        // then leave waiting. A bid matched or closed meanwhile cannot be cancelled: ignored.
        await o.market.cancelBid(bid.id).catch(() => {})
        throw err
      }
      // MARKET-17: a bid the network lost, or whose match never established, is bid again at
      // no attempt's cost (a failed match costs nothing), up to FREE_REBIDS times
      const reason = isNodeTradeError(err, NodeTradeCode.NO_MATCH) ? err.details.reason : undefined
      if ((reason === 'lost' || reason === 'not-established') && rebids < FREE_REBIDS) {
        rebids++
        attempt--
        o.onProgress?.('rebid', { attempt: attempt + 1, reason })
        continue
      }
      if (isBitwrkError(err, NodeTradeCode.NO_MATCH)) unmatched++
      o.onProgress?.('retry', { attempt, code: failed(attempt, err) })
      continue
    }
    o.onProgress?.('established', {
      attempt,
      txid: tx.id,
      seller: tx.terms.sellerPeerId,
      sellerAddress: tx.terms.seller
    })
    try {
      const t = tx
      const r = await o.trade.runBuyer(tx, o.work, buyerSecret, {
        ...(o.signal !== undefined ? { signal: o.signal } : {}),
        ...(o.onTransfer !== undefined ? { onTransfer: o.onTransfer } : {}),
        resultCheck: (res: Uint8Array) => check(res, t)
      })
      const result = await importStream([r.result], o.store)
      o.onProgress?.('done', { attempt, txid: tx.id })
      return { result, tx: r.tx, attempts: attempt }
    } catch (err) {
      if (o.signal?.aborted === true || judgedAgainst.has(tx.id)) throw err
      const code = failed(attempt, err, tx)
      // REP-22: a result chunk that does not hash right is the seller's provable misbehaviour
      const cause = isBitwrkError(err) ? err.details.cause : undefined
      if (cause !== undefined && MISBEHAVIOUR_CODES.has(cause))
        o.reputation?.onWrongChunk(tx.terms.sellerPeerId, cause)
      o.logger?.warn({ txid: tx.id, code, attempt }, 'buy: trade failed, buying again')
      o.onProgress?.('retry', { attempt, code })
    }
  }
  if (unmatched === attempts)
    throw nodeTradeError(
      NodeTradeCode.NO_SELLER,
      `no seller found: ${attempts} BUY bids of ${Math.round(lifetimeMs / 1000)} s expired unmatched`,
      { attempts }
    )
  // every attempt's reason, not only the last (issue 12.5)
  const why = failures.map(
    (f) => `${f.attempt}: ${f.code} (${f.seller === null ? 'no seller' : `seller ${f.seller}`})`
  )
  throw nodeTradeError(NodeTradeCode.BUY_FAILED, `buy failed after ${attempts} attempts: ${why.join(', ')}`, {
    attempts,
    lastCode: failures.at(-1)?.code ?? 'NONE',
    failures
  })
}

/**
 * Listens (from before the bid is placed, so no event is missed) for the establishment of the
 * transaction of an own BUY bid; the returned function waits for it by bid id.
 */
function waitEstablished(
  market: Market,
  signal?: AbortSignal
): { wait: (bidId: string) => Promise<Transaction>; cancel: () => void } {
  const seen = new Map<string, Transaction>()
  const closed = new Map<string, string>()
  let wake: (() => void) | undefined
  const onEst = (e: CustomEvent<{ tx: Transaction; own: string | null }>): void => {
    if (e.detail.own !== 'buyer') return
    seen.set(e.detail.tx.terms.buyBidId, e.detail.tx)
    wake?.()
  }
  const onClosed = (e: CustomEvent<{ bidId: string; reason: string }>): void => {
    if (e.detail.reason !== 'matched') closed.set(e.detail.bidId, e.detail.reason)
    wake?.()
  }
  market.addEventListener('tx:established', onEst)
  market.addEventListener('bid:closed', onClosed)
  const cleanup = (): void => {
    market.removeEventListener('tx:established', onEst)
    market.removeEventListener('bid:closed', onClosed)
  }
  const wait = (bidId: string): Promise<Transaction> =>
    new Promise<Transaction>((resolve, reject) => {
      const check = (): void => {
        const tx = seen.get(bidId)
        if (tx !== undefined) {
          finish()
          resolve(tx)
        } else if (closed.has(bidId)) {
          finish()
          reject(
            nodeTradeError(NodeTradeCode.NO_MATCH, 'bid closed without an established transaction', {
              reason: closed.get(bidId)
            })
          )
        } else if (signal?.aborted === true) {
          finish()
          reject(signal.reason)
        }
      }
      const finish = (): void => {
        wake = undefined
        signal?.removeEventListener('abort', check)
        cleanup()
      }
      wake = check
      signal?.addEventListener('abort', check, { once: true })
      check()
    })
  return { wait, cancel: cleanup }
}
