/** What the buyer and seller sides share: dependencies, limits, and the error mapping. */
import type { Libp2p } from '@libp2p/interface'
import { isXferError, XferCode } from '../../cafs/transfer/index.js'
import type { ChunkStore, Manifest } from '../../cafs/types.js'
import { type BitwrkError, isBitwrkError } from '../../protocol/errors.js'
import type { TxSigner } from '../../protocol/transaction/index.js'
import type { Logger } from '../logger.js'
import type { TxChannel } from './channel.js'
import type { TradeClock } from './clock.js'
import { isTradeError, TradeCode, type TradeErrorCode, tradeError } from './errors.js'
import type { BulkPaths } from './path.js'

/** Bounds of the trade (TRADE-12; DESIGN.md invariant 10). */
export interface TradeLimits {
  /** Per-message timeout of every trade frame and CAFS message, ms; always also bounded by the phase deadline. */
  readonly messageTimeoutMs: number
  /** How long the seller waits for HELLO on a new stream (and for the transaction to be registered), ms. */
  readonly helloTimeoutMs: number
  /** Largest work file accepted (seller) or sent (buyer), bytes. */
  readonly maxWorkBytes: number
  /** Largest result a worker may return / a buyer accepts, bytes. */
  readonly maxResultBytes: number
  /** Timeout of one dial of the seller, ms. */
  readonly dialTimeoutMs: number
  /** Dial attempts before TRADE_SELLER_UNREACHABLE. */
  readonly dialAttempts: number
  /** Concurrent inbound trade streams per connection (libp2p's cap at `handle()`). */
  readonly maxInboundStreams: number
  /** Concurrent inbound trade streams of one peer over all its connections (TRADE-19). */
  readonly maxPeerStreams: number
  /** Concurrent inbound trade streams over all peers (TRADE-19). */
  readonly maxStreams: number
  /**
   * Trade streams that broke the protocol a peer may open before its streams are refused
   * (TRADE-16; the chunk and sync protocols' budget, CHUNK-9).
   */
  readonly invalidRequestBudget: number
}

/** Default limits (TRADE-12). */
export const DEFAULT_TRADE_LIMITS: TradeLimits = {
  // As CAFS transfer's per-message timeout (XFER-3); the original allowed 900 s (notes §5.8).
  messageTimeoutMs: 30_000,
  // The original's connect timeout (notes §5.8).
  helloTimeoutMs: 10_000,
  // 64 MiB: four times the original's unchunked work limit of 16 MiB (notes §5.3); the worker
  // interface takes the work in memory.
  maxWorkBytes: 64 << 20,
  maxResultBytes: 64 << 20,
  // The original's connect timeout (notes §5.8).
  dialTimeoutMs: 10_000,
  dialAttempts: 3,
  // a buyer runs one session per transaction, a seller one job per worker: 16 concurrent
  // sessions of one buyer is a seller with 16 busy workers; libp2p's per-connection cap equals it
  maxInboundStreams: 16,
  maxPeerStreams: 16,
  // four buyers at their cap; a stream waiting for HELLO holds at most TRADE_FRAME_UNREAD bytes
  maxStreams: 64,
  // As the chunk exchange's (CHUNK-9): an honest buyer never breaks the protocol.
  invalidRequestBudget: 3
}

/**
 * The node's key as the trade uses it (`Identity` fits): it signs phase messages and
 * receipts, and as the buyer it opens the result key sealed to it (TX-23).
 */
export interface TradeSigner extends TxSigner {
  /** 32-byte private scalar; never logged, never sent. */
  readonly privateKey: Uint8Array
}

/** The dependencies of both sides. */
export interface TradeContext {
  readonly libp2p: Libp2p
  readonly signer: TradeSigner
  readonly channel: TxChannel
  readonly store: ChunkStore
  readonly clock: TradeClock
  readonly limits: TradeLimits
  readonly log: Logger
  /** 32 fresh random bytes: result keys and the sealing's ephemeral keys (TX-23). */
  readonly randomKey: () => Uint8Array
  /** Told of each file of a transaction this side holds, so the chunk server serves it to the counterparty only. */
  readonly files?: TxFileGrants
  /** The bulk-data policy for relayed sellers (TRADE-20); without it a relayed-only seller is unreachable. */
  readonly direct?: BulkPaths
  /** Told which path each trade stream the buyer opens takes (TRADE-20; the node counts them). */
  readonly onPath?: (path: 'direct' | 'relayed') => void
}

/**
 * Where the trade registers the files of a transaction (DESIGN.md invariant 7, CHUNK-14): the
 * node's chunk server serves a registered file's chunks to that transaction's counterparty and
 * to no one else.
 */
export interface TxFileGrants {
  /** `peer` (the counterparty, base58) may fetch the chunks of `manifest` while `txid` runs. */
  grant(txid: string, peer: string, manifest: Manifest): void
}

/** Remote codes that mean the seller refused our work (TRADE-9). */
const WORK_REFUSALS = new Set<string>([
  TradeCode.WORK_REJECTED,
  XferCode.MANIFEST_MISMATCH,
  XferCode.FILE_KEY_MISMATCH,
  XferCode.HASH_MISMATCH,
  XferCode.MANIFEST_TOO_LARGE,
  TradeCode.TOO_LARGE
])

/** Transport failures of a CAFS session: the peer went away or fell silent. */
const GONE = new Set<string>([XferCode.CLOSED, XferCode.TRUNCATED, XferCode.TIMEOUT])

/**
 * Maps any failure of a trade step to a trade error: trade errors stay, a peer's ERROR becomes
 * `TRADE_PEER_ERROR` (or `TRADE_WORK_REJECTED` for a refusal of the work, `TRADE_WORKER_FAILED`
 * when the seller's worker failed), CAFS transport
 * failures become `gone`, other CAFS failures `TRADE_PROTOCOL`.
 */
export function toTradeError(err: unknown, gone: TradeErrorCode): BitwrkError {
  if (isBitwrkError(err)) {
    if (isTradeError(err, TradeCode.PEER_ERROR) || isXferError(err, XferCode.PEER_ERROR)) {
      const code = err.details.remoteCode ?? 'UNKNOWN'
      if (WORK_REFUSALS.has(code))
        return tradeError(TradeCode.WORK_REJECTED, 'seller rejected the work', { remoteCode: code })
      if (code === TradeCode.WORKER_FAILED)
        return tradeError(TradeCode.WORKER_FAILED, "the seller's worker failed", { remoteCode: code })
      return tradeError(TradeCode.PEER_ERROR, 'peer reported an error', { remoteCode: code })
    }
    if (err.code.startsWith('TRADE_')) return err
    if (GONE.has(err.code)) return tradeError(gone, 'peer went away', { cause: err.code })
    if (err.code === XferCode.OVERRUN)
      return tradeError(TradeCode.OVERRUN, 'peer overran the step', err.details)
    if (err.code === XferCode.ABORTED) return tradeError(TradeCode.ABORTED, 'aborted', { cause: err.code })
    return tradeError(TradeCode.PROTOCOL, 'transfer failed', { cause: err.code })
  }
  return tradeError(gone, 'stream failed', { cause: String(err) })
}
