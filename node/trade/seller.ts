/**
 * The seller side of `/bitwrk/trade/1.0.0` (TRADE-7 … TRADE-11; notes §5.5): take the work,
 * check its hash and the work-secret commitment, publish the secret (→ WORKING) or reject the
 * work, run the worker, send the result encrypted under a fresh key, take the buyer's receipt,
 * publish hash, receipt and the key sealed to the buyer (→ UNVERIFIED).
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { BULK_UNREAD_BYTES } from '../../cafs/adapters/libp2p/index.js'
import { keyToHex } from '../../cafs/keys.js'
import { exportStream, importStream, unpinManifest } from '../../cafs/stream.js'
import { receiveFile, sendFile, XferCode } from '../../cafs/transfer/index.js'
import type { Manifest } from '../../cafs/types.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { publicKeyFromPeerId } from '../../protocol/identity/index.js'
import {
  sealResultKey,
  signTxMessage,
  type Transaction,
  verifyReceipt,
  workSecretHash
} from '../../protocol/transaction/index.js'
import type { TransferProgressEvent } from './buyer.js'
import { deadlineSignal, publishOrThrow, untilTransmitting, waitForTx } from './channel.js'
import { type TradeContext, toTradeError } from './context.js'
import { encryptResult } from './crypto.js'
import { TradeCode, tradeError } from './errors.js'
import type { TradeStream } from './stream.js'
import {
  encodeTradeError,
  encodeTradeFrame,
  expectType,
  type FrameIoOptions,
  readTradeFrame,
  receiptOfPayload,
  TRADE_FRAME_UNREAD,
  TradeMsg,
  writeTradeFrame
} from './wire.js'

/** The phases a seller's session may find before TRANSMITTING: both parties established. */
const ESTABLISHED: ReadonlySet<string> = new Set(['BUYER_ESTABLISHED', 'SELLER_ESTABLISHED'])

/** Does the work of one job; injected (the worker manager owns real workers). */
export interface TradeWorker {
  /** Computes the result of `work`; must stop when `signal` fires. A throw rejects the work. */
  work(work: Uint8Array, options: { signal: AbortSignal }): Promise<Uint8Array>
  /** Progress of the work arriving and of the encrypted result leaving (must not throw). */
  onTransfer?(event: TransferProgressEvent): void
}

/** One sell: an established transaction waiting for (or trading with) its buyer. */
export interface SellJob {
  /** The transaction as registered. */
  readonly tx: Transaction
  /** The worker reserved for it. */
  readonly worker: TradeWorker
  /** Fires when the sell is given up (caller, service stop). */
  readonly signal: AbortSignal
  /** A buyer session is running now. */
  sessionRunning: boolean
  /** The secret was published: no further session may start. */
  committed: boolean
  /** The failure that ended the seller's part, if any. */
  error: Error | null
  /** The running buyer session, awaited before the sale's result is reported (its error included). */
  session?: Promise<void>
}

/** Local failures of the received work that mean the buyer sent the wrong work (TRADE-8). */
const BAD_WORK = new Set<string>([
  XferCode.MANIFEST_MISMATCH,
  XferCode.FILE_KEY_MISMATCH,
  XferCode.HASH_MISMATCH,
  XferCode.MANIFEST_TOO_LARGE
])

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of it) parts.push(p)
  return new Uint8Array(Buffer.concat(parts))
}

/** Publishes reject-work (→ WORK_DISPUTED); a refusal (e.g. the phase moved on) is logged only. */
async function rejectWork(ctx: TradeContext, job: SellJob, why: string): Promise<void> {
  try {
    await publishOrThrow(ctx.channel, signTxMessage(ctx.signer, job.tx.id, { kind: 'reject-work' }))
  } catch (err) {
    ctx.log.warn(
      { txid: job.tx.id, code: isBitwrkError(err) ? err.code : 'UNKNOWN' },
      'trade: reject-work refused'
    )
  }
  ctx.log.info({ txid: job.tx.id, why }, 'trade: work rejected')
}

/** Tells the buyer a code (best effort, at most 1 s); the stream stays open. */
async function tellError(ts: TradeStream, code: string): Promise<void> {
  try {
    await writeTradeFrame(ts, encodeTradeError(code), { timeoutMs: 1000 }, (why) => new Error(why))
  } catch {
    // the stream is gone: nothing to tell
  }
}

/**
 * Tells the buyer a code (best effort, short) and tears the stream down. The ERROR frame is
 * flushed and the write side closed (at most 1 s) before the reset: libp2p's abort throws away
 * whatever the muxer has not sent yet, so an abort right after the write could swallow the
 * answer (TRADE-13).
 */
export async function failStream(ts: TradeStream, code: string): Promise<void> {
  await tellError(ts, code)
  await ts.bytes.close({ signal: AbortSignal.timeout(ERROR_FLUSH_MS) })
  ts.bytes.abort()
}

/** How long {@link failStream} waits for the ERROR frame to leave before resetting, ms. */
const ERROR_FLUSH_MS = 1000

/**
 * Runs one buyer session of `job` on `ts` after a valid HELLO (TRADE-7 … TRADE-11). Transport
 * failures before the secret was published leave the job open for another session; everything
 * after that ends the seller's part (the transaction then retires by the rules).
 */
export async function runSellerSession(ctx: TradeContext, job: SellJob, ts: TradeStream): Promise<void> {
  const { channel, clock, store, limits } = ctx
  const txid = job.tx.id
  const gone = (why: string): Error => tradeError(TradeCode.BUYER_GONE, why, { txid })
  let workManifest: Manifest | undefined
  let resultManifest: Manifest | undefined
  try {
    let tx = await waitForTx(
      channel,
      clock,
      txid,
      untilTransmitting(ESTABLISHED, 'transaction is not in TRANSMITTING'),
      { signal: job.signal, what: 'TRANSMITTING' }
    )
    const workHash = tx.workHash as string
    let dl = deadlineSignal(clock, tx.deadlineMs, job.signal)
    let io: FrameIoOptions = { timeoutMs: limits.messageTimeoutMs, signal: dl.signal }
    let secret: string
    try {
      // TRADE-19: the work push is a bulk step; before READY only HELLO was allowed
      ts.setMaxUnread(BULK_UNREAD_BYTES)
      await writeTradeFrame(ts, encodeTradeFrame(TradeMsg.READY), io, gone)
      // TRADE-8: the work, verified chunk by chunk and as a whole against the work hash.
      try {
        const got = await receiveFile(ts.bytes, store, {
          signal: dl.signal,
          expectedFileKey: hexToBytes(workHash),
          keepPinned: true,
          onProgress: (p) =>
            job.worker.onTransfer?.({
              direction: 'work',
              bytesDone: p.bytesReceived,
              bytesTotal: p.bytesWanted
            }),
          limits: { messageTimeoutMs: limits.messageTimeoutMs, maxFileSize: limits.maxWorkBytes }
        })
        workManifest = got.manifest
        ctx.files?.grant(txid, tx.terms.buyerPeerId, workManifest)
      } catch (err) {
        if (isBitwrkError(err) && BAD_WORK.has(err.code)) {
          job.committed = true
          await rejectWork(ctx, job, err.code)
          throw tradeError(TradeCode.WORK_REJECTED, 'work does not match the work hash', { cause: err.code })
        }
        throw err
      }
      // TRADE-9: the secret must open the commitment (TX-15) before anything is published.
      ts.setMaxUnread(TRADE_FRAME_UNREAD)
      secret = bytesToHex(expectType(await readTradeFrame(ts, io, gone), TradeMsg.SECRET))
      if (workSecretHash(workHash, secret) !== tx.workSecretHash) {
        job.committed = true
        await rejectWork(ctx, job, 'bad secret')
        await failStream(ts, TradeCode.WORK_REJECTED)
        throw tradeError(TradeCode.WORK_REJECTED, 'buyer secret does not open the commitment')
      }
      job.committed = true
      tx = await publishOrThrow(
        channel,
        signTxMessage(ctx.signer, txid, { kind: 'publish-secret', buyerSecret: secret })
      )
      await writeTradeFrame(ts, encodeTradeFrame(TradeMsg.ACCEPTED), io, gone)
    } finally {
      dl.dispose()
    }

    // WORKING: the worker gets the phase deadline as its signal.
    dl = deadlineSignal(clock, tx.deadlineMs, job.signal)
    io = { timeoutMs: limits.messageTimeoutMs, signal: dl.signal }
    try {
      const work = await collect(exportStream(workManifest, store, { signal: dl.signal }))
      let output: Uint8Array
      try {
        output = await job.worker.work(work, { signal: dl.signal })
        if (output.length > limits.maxResultBytes)
          throw tradeError(TradeCode.TOO_LARGE, 'result exceeds maxResultBytes', { bytes: output.length })
      } catch (err) {
        if (dl.signal.aborted) throw dl.signal.reason
        // TRADE-18: the buyer learns that the worker failed, not that its work was bad. The
        // reason goes out before reject-work and the stream is closed, not reset, so a buyer
        // that sees WORK_DISPUTED first still reads it.
        await tellError(ts, TradeCode.WORKER_FAILED)
        await rejectWork(ctx, job, 'worker failed')
        await ts.bytes.close()
        throw tradeError(TradeCode.WORKER_FAILED, 'worker failed', {
          cause: isBitwrkError(err) ? err.code : String(err)
        })
      }
      // TRADE-10: encrypted under a fresh single-use key, pushed as a CAFS file.
      const key = ctx.randomKey()
      resultManifest = await importStream([encryptResult(key, output)], store, {
        pin: true,
        signal: dl.signal
      })
      ctx.files?.grant(txid, tx.terms.buyerPeerId, resultManifest)
      // the buyer's WANT and ACK of the result push (a wishlist may be long)
      ts.setMaxUnread(BULK_UNREAD_BYTES)
      await sendFile(ts.bytes, resultManifest, store, {
        signal: dl.signal,
        onProgress: (p) =>
          job.worker.onTransfer?.({ direction: 'result', bytesDone: p.bytesSent, bytesTotal: p.bytesWanted }),
        limits: { messageTimeoutMs: limits.messageTimeoutMs }
      })
      await writeTradeFrame(ts, encodeTradeFrame(TradeMsg.RESULT, resultManifest.fileKey), io, gone)
      ts.setMaxUnread(TRADE_FRAME_UNREAD)
      const receipt = receiptOfPayload(expectType(await readTradeFrame(ts, io, gone), TradeMsg.RECEIPT))
      const encResultHash = keyToHex(resultManifest.fileKey)
      if (!verifyReceipt(tx, encResultHash, receipt)) {
        await failStream(ts, TradeCode.PROTOCOL)
        throw tradeError(TradeCode.PROTOCOL, 'receipt is not the buyer signature')
      }
      // TRADE-11: hash and receipt become public, the key sealed to the buyer's key, which the
      // buy bid's peer id names (invariant 2, TX-23) (→ UNVERIFIED).
      const sealed = sealResultKey(publicKeyFromPeerId(tx.terms.buyerPeerId), txid, key, ctx.randomKey)
      await publishOrThrow(
        channel,
        signTxMessage(ctx.signer, txid, {
          kind: 'transmit-finished',
          encResultHash,
          encResultHashSig: receipt,
          sealedResultKey: bytesToHex(sealed)
        })
      )
      await writeTradeFrame(ts, encodeTradeFrame(TradeMsg.DONE), io, gone)
      await ts.bytes.close()
    } finally {
      dl.dispose()
    }
    ctx.log.debug({ txid }, 'trade: sold')
  } catch (err) {
    const e = toTradeError(err, TradeCode.BUYER_GONE)
    if (job.committed) job.error ??= e
    throw e
  } finally {
    if (workManifest !== undefined) await unpinManifest(workManifest, store).catch(() => {})
    if (resultManifest !== undefined) await unpinManifest(resultManifest, store).catch(() => {})
  }
}
