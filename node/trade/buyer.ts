/**
 * The buyer side of `/bitwrk/trade/1.0.0` (TRADE-6 … TRADE-11; notes §5.4): dial the seller,
 * push the work differentially, hand over the secret, take the encrypted result, sign the
 * receipt, open the key sealed to this buyer in the transaction, decrypt, check, accept or reject.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { hexToBytes } from '@noble/hashes/utils.js'
import { keysEqual, keyToHex } from '../../cafs/keys.js'
import { exportStream, importStream, unpinManifest } from '../../cafs/stream.js'
import { receiveFile, sendFile, withDeadline } from '../../cafs/transfer/index.js'
import type { Manifest } from '../../cafs/types.js'
import { isBitwrkError } from '../../protocol/errors.js'
import {
  openResultKey,
  signReceipt,
  signTxMessage,
  type Transaction
} from '../../protocol/transaction/index.js'
import { deadlineSignal, publishOrThrow, untilTransmitting, waitForTx } from './channel.js'
import { type TradeContext, toTradeError } from './context.js'
import { decryptResult } from './crypto.js'
import { isTradeError, TradeCode, tradeError } from './errors.js'
import { openTradeStream } from './path.js'
import { libp2pTradeStream, type TradeStream } from './stream.js'
import {
  encodeTradeFrame,
  expectType,
  type FrameIoOptions,
  readTradeFrame,
  receiptPayload,
  TradeMsg,
  tradeDeadline,
  writeTradeFrame
} from './wire.js'

/** Options of a buy. */
export interface BuyOptions {
  /** Aborts the trade (TRADE_ABORTED); the transaction then retires by the rules. */
  readonly signal?: AbortSignal
  /**
   * Checks the decrypted result (e.g. decodes the PNG of a rendered tile): true accepts
   * (FINISHED), false or a throw rejects (RESULT_DISPUTED). It has until the UNVERIFIED
   * deadline (its signal fires then). Default: accept.
   */
  readonly resultCheck?: (result: Uint8Array, options: { signal?: AbortSignal }) => boolean | Promise<boolean>
  /**
   * Transfer progress: `work` while the work is pushed (bytes the seller lacked), `result`
   * while the encrypted result arrives (bytes the buyer lacked). Must not throw.
   */
  readonly onTransfer?: (event: TransferProgressEvent) => void
}

/** Progress of one direction of a trade's data transfer. */
export interface TransferProgressEvent {
  readonly direction: 'work' | 'result'
  /** Bytes of the chunks that travelled so far. */
  readonly bytesDone: number
  /** Bytes of the chunks that travel in all (the receiver's wishlist). */
  readonly bytesTotal: number
}

/** Figures of one buy. */
export interface BuyStats {
  /** Chunks and bytes of the work that actually travelled (the seller lacked them). */
  readonly workChunksSent: number
  readonly workBytesSent: number
  /** Chunks and size of the whole work file. */
  readonly workChunks: number
  readonly workBytes: number
  /** Bytes of the encrypted result that travelled. */
  readonly resultBytesReceived: number
}

/** Result of a successful buy. */
export interface BuyResult {
  /** The decrypted, checked result. */
  readonly result: Uint8Array
  /** The transaction after acceptance (retired, outcome seller-paid / accepted, when the channel retired it). */
  readonly tx: Transaction
  /** What travelled. */
  readonly stats: BuyStats
}

const ESTABLISHING = new Set(['ESTABLISHING', 'BUYER_ESTABLISHED', 'SELLER_ESTABLISHED'])

/** Dial targets of the seller: its announced addresses with its peer id, else the peer id. */
function sellerTargets(tx: Transaction): Multiaddr[] | ReturnType<typeof peerIdFromString> {
  const peer = tx.terms.sellerPeerId
  const addrs = (tx.sellerAddrs ?? []).flatMap((a) => {
    try {
      const ma = multiaddr(a)
      // a relay address (`…/p2p/<relay>/p2p-circuit`, NET-15) names the relay, not the seller:
      // only an address that ends in `/p2p/<id>` is complete
      return [ma.getComponents().at(-1)?.name === 'p2p' ? ma : ma.encapsulate(`/p2p/${peer}`)]
    } catch {
      return []
    }
  })
  return addrs.length > 0 ? addrs : peerIdFromString(peer)
}

/** Pause before attempt `attempt` of {@link openSession}: 250 ms, then 500 ms (TRADE-2). */
function backOff(attempt: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(t)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const t = setTimeout(done, RETRY_BASE_MS * 2 ** (attempt - 1))
    signal.addEventListener('abort', done, { once: true })
  })
}

/**
 * First pause between session attempts, ms: long enough for the seller's market to register a
 * sale the buyer saw established first (a gossip hop), short against the 60 s TRANSMITTING phase.
 */
const RETRY_BASE_MS = 250

/**
 * Opens the session (TRADE-2, TRADE-7): dials the seller, sends HELLO and waits for READY. A dial
 * that fails and a stream cut before READY (the seller may reset streams at its caps, TRADE-19,
 * e.g. before its market registered the sale) count as one failed attempt each.
 */
async function openSession(
  ctx: TradeContext,
  tx: Transaction,
  workBytes: number,
  io: FrameIoOptions,
  signal: AbortSignal
): Promise<TradeStream> {
  let last: unknown
  for (let attempt = 0; attempt < ctx.limits.dialAttempts; attempt++) {
    if (attempt > 0) await backOff(attempt, signal)
    signal.throwIfAborted()
    let ts: TradeStream
    try {
      const stream = await openTradeStream(
        ctx,
        peerIdFromString(tx.terms.sellerPeerId),
        sellerTargets(tx),
        workBytes,
        tx.id,
        { dial: AbortSignal.any([signal, AbortSignal.timeout(ctx.limits.dialTimeoutMs)]), upgrade: signal }
      )
      ts = libp2pTradeStream(stream)
    } catch (err) {
      if (signal.aborted) throw signal.reason
      // TRADE-20: no path for the bulk data: every upgrade was tried, a redial repeats it
      if (isBitwrkError(err, TradeCode.SELLER_UNREACHABLE)) throw err
      last = err
      continue
    }
    const gone = (why: string): Error => tradeError(TradeCode.SELLER_UNREACHABLE, why, { txid: tx.id })
    try {
      await writeTradeFrame(ts, encodeTradeFrame(TradeMsg.HELLO, hexToBytes(tx.id)), io, gone)
      expectType(await readTradeFrame(ts, io, gone), TradeMsg.READY)
      return ts
    } catch (err) {
      ts.bytes.abort()
      if (!isBitwrkError(err, TradeCode.SELLER_UNREACHABLE)) throw err
      if (signal.aborted) throw signal.reason
      last = err
    }
  }
  throw tradeError(TradeCode.SELLER_UNREACHABLE, 'could not open a session with the seller', {
    txid: tx.id,
    cause: String(last)
  })
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const p of it) parts.push(p)
  return new Uint8Array(Buffer.concat(parts))
}

/** Publishes reject-result (→ RESULT_DISPUTED, retired at once); resolves with the phase after. */
async function rejectResult(
  ctx: TradeContext,
  txid: string,
  signal: AbortSignal
): Promise<string | undefined> {
  await publishOrThrow(ctx.channel, signTxMessage(ctx.signer, txid, { kind: 'reject-result' }), { signal })
  const retired = await ctx.channel.retireDue(txid).catch(() => undefined)
  return (retired ?? ctx.channel.current(txid))?.phase
}

/**
 * How long a buyer that finds its work disputed waits for the seller's reason: the seller's own
 * bound for writing it (1 s, best effort, TRADE-18).
 */
const SELLER_REASON_WAIT_MS = 1000

/**
 * The seller disputed the work while the buyer waited for WORKING (TRADE-18): the ERROR frame it
 * wrote before reject-work says why (`TRADE_WORKER_FAILED`, `TRADE_WORK_REJECTED`); without
 * one the signed dispute is the reason (`TRADE_WORK_REJECTED`). Other failures pass unchanged.
 */
async function disputeReason(
  ts: TradeStream,
  err: unknown,
  signal: AbortSignal,
  gone: (why: string) => Error
): Promise<never> {
  if (!isTradeError(err, TradeCode.UNEXPECTED_PHASE) || err.details.phase !== 'WORK_DISPUTED') throw err
  try {
    await readTradeFrame(ts, { timeoutMs: SELLER_REASON_WAIT_MS, signal }, gone)
  } catch (e) {
    if (isBitwrkError(e, TradeCode.PEER_ERROR)) throw toTradeError(e, TradeCode.SELLER_UNREACHABLE)
  }
  throw tradeError(TradeCode.WORK_REJECTED, 'seller rejected the work', { phase: err.details.phase })
}

/**
 * Runs the buyer's side of an established transaction (TRADE-6 … TRADE-11). `work` is the
 * work file (imported into the store) or its manifest (its chunks must be in the store); its
 * file key must be the transaction's work hash. `buyerSecret` (64 hex) is the secret behind
 * the published commitment: the seller checks it (a wrong one ends in WORK_DISPUTED).
 * Resolves with the checked result after publishing accept-result; rejects with a
 * TRADE_* error so the caller can buy again elsewhere.
 */
export async function runBuyer(
  ctx: TradeContext,
  tx0: Transaction,
  work: Manifest | Uint8Array,
  buyerSecret: string,
  options: BuyOptions & { readonly signal: AbortSignal }
): Promise<BuyResult> {
  const { channel, clock, store, limits } = ctx
  const { signal } = options
  const txid = tx0.id
  if (!/^[0-9a-f]{64}$/.test(buyerSecret))
    throw tradeError(TradeCode.BAD_ARGUMENT, 'buyer secret must be 64 hex')
  const imported = work instanceof Uint8Array
  if (imported && work.length > limits.maxWorkBytes)
    throw tradeError(TradeCode.TOO_LARGE, 'work exceeds maxWorkBytes', { bytes: work.length })
  const manifest = imported ? await importStream([work], store, { pin: true, signal }) : work
  let resultManifest: Manifest | undefined
  let ts: TradeStream | undefined
  const gone = (why: string): Error => tradeError(TradeCode.SELLER_UNREACHABLE, why, { txid })
  try {
    if (manifest.size > limits.maxWorkBytes)
      throw tradeError(TradeCode.TOO_LARGE, 'work exceeds maxWorkBytes', { bytes: manifest.size })
    // TRADE-6: both parties established.
    let tx = await waitForTx(
      channel,
      clock,
      txid,
      untilTransmitting(ESTABLISHING, 'transaction is not being established'),
      { signal, what: 'TRANSMITTING' }
    )
    if (tx.workHash !== keyToHex(manifest.fileKey))
      throw tradeError(TradeCode.BAD_ARGUMENT, 'work does not match the published work hash', { txid })
    ctx.files?.grant(txid, tx.terms.sellerPeerId, manifest)

    let dl = deadlineSignal(clock, tx.deadlineMs, signal)
    let io: FrameIoOptions = { timeoutMs: limits.messageTimeoutMs, signal: dl.signal }
    let workChunksSent: number
    let workBytesSent: number
    // TRADE-7: HELLO / READY
    let stream: TradeStream
    try {
      stream = await openSession(ctx, tx, manifest.size, io, dl.signal)
    } catch (err) {
      dl.dispose()
      throw err
    }
    ts = stream
    try {
      // TRADE-8: the work pushed differentially.
      const sent = await sendFile(stream.bytes, manifest, store, {
        signal: dl.signal,
        onProgress: (p) =>
          options.onTransfer?.({ direction: 'work', bytesDone: p.bytesSent, bytesTotal: p.bytesWanted }),
        limits: { messageTimeoutMs: limits.messageTimeoutMs }
      })
      workChunksSent = sent.chunksSent
      workBytesSent = sent.chunkBytesSent
      // TRADE-9: the secret after the work; the seller publishes it (→ WORKING) or rejects.
      await writeTradeFrame(stream, encodeTradeFrame(TradeMsg.SECRET, hexToBytes(buyerSecret)), io, gone)
      expectType(await readTradeFrame(stream, io, gone), TradeMsg.ACCEPTED)
    } finally {
      dl.dispose()
    }
    tx = await waitForTx(
      channel,
      clock,
      txid,
      (t) => {
        if (t.phase === 'WORKING') return true
        if (t.phase !== 'TRANSMITTING')
          throw tradeError(TradeCode.UNEXPECTED_PHASE, 'transaction left TRANSMITTING', { phase: t.phase })
        return false
      },
      { signal, what: 'WORKING' }
    ).catch((err: unknown) => disputeReason(stream, err, signal, gone))

    // TRADE-10: the encrypted result, then the receipt.
    dl = deadlineSignal(clock, tx.deadlineMs, signal)
    io = { timeoutMs: limits.messageTimeoutMs, signal: dl.signal }
    let encHash: string
    let resultBytesReceived: number
    try {
      const got = await receiveFile(stream.bytes, store, {
        signal: dl.signal,
        keepPinned: true,
        onProgress: (p) =>
          options.onTransfer?.({
            direction: 'result',
            bytesDone: p.bytesReceived,
            bytesTotal: p.bytesWanted
          }),
        // The first message comes when the worker is done: allow the whole WORKING phase.
        limits: {
          messageTimeoutMs: Math.max(1, tx.deadlineMs - clock.now()),
          maxFileSize: limits.maxResultBytes
        }
      })
      resultManifest = got.manifest
      ctx.files?.grant(txid, tx.terms.sellerPeerId, resultManifest)
      resultBytesReceived = got.bytesReceived
      const announced = expectType(await readTradeFrame(stream, io, gone), TradeMsg.RESULT)
      if (!keysEqual(announced, got.manifest.fileKey))
        throw tradeError(TradeCode.PROTOCOL, 'RESULT names another ciphertext')
      encHash = keyToHex(got.manifest.fileKey)
      const receipt = signReceipt(ctx.signer, txid, encHash)
      await writeTradeFrame(stream, encodeTradeFrame(TradeMsg.RECEIPT, receiptPayload(receipt)), io, gone)
      expectType(await readTradeFrame(stream, io, gone), TradeMsg.DONE)
    } finally {
      dl.dispose()
    }
    await stream.bytes.close()

    // TRADE-12: the sealed key is in the transaction once the seller published transmit-finished.
    tx = await waitForTx(
      channel,
      clock,
      txid,
      (t) => {
        if (t.phase === 'UNVERIFIED') return true
        if (t.phase !== 'WORKING')
          throw tradeError(TradeCode.UNEXPECTED_PHASE, 'transaction left WORKING', { phase: t.phase })
        return false
      },
      { signal, what: 'UNVERIFIED' }
    )
    if (tx.receipt?.encResultHash !== encHash || tx.sealedResultKey === null)
      throw tradeError(TradeCode.PROTOCOL, 'published receipt names another ciphertext')
    // TX-23: only this buyer's key opens the sealed key. One that does not open leaves a result
    // nobody can check: the seller's fault, rejected like a failed check (RESULT_DISPUTED).
    let key: Uint8Array
    try {
      key = openResultKey(ctx.signer.privateKey, txid, hexToBytes(tx.sealedResultKey))
    } catch (err) {
      if (!isBitwrkError(err) || !err.code.startsWith('TX_SEAL_')) throw err
      throw tradeError(TradeCode.BAD_SEALED_KEY, 'the sealed result key does not open', {
        txid,
        sealCode: err.code,
        phase: await rejectResult(ctx, txid, signal)
      })
    }
    const ciphertext = await collect(exportStream(resultManifest, store, { signal }))
    const result = decryptResult(key, ciphertext)
    // The check has the rest of UNVERIFIED; after that silence counts as acceptance (TX-19).
    const checkDl = deadlineSignal(clock, tx.deadlineMs, signal)
    let accepted: boolean
    try {
      const check = options.resultCheck
      // A check that throws (a decoder refusing the bytes) rejects the result.
      const run = async (): Promise<boolean> => {
        try {
          return check === undefined ? true : await check(result, { signal: checkDl.signal })
        } catch (err) {
          if (checkDl.signal.aborted) throw err
          return false
        }
      }
      accepted =
        check === undefined
          ? true
          : await withDeadline(
              run(),
              tradeDeadline(
                { timeoutMs: Math.max(1, tx.deadlineMs - clock.now()), signal: checkDl.signal },
                () => tradeError(TradeCode.TIMEOUT, 'result check outlived UNVERIFIED')
              )
            )
    } finally {
      checkDl.dispose()
    }
    const stats: BuyStats = {
      workChunksSent,
      workBytesSent,
      workChunks: manifest.chunks.length,
      workBytes: manifest.size,
      resultBytesReceived
    }
    if (!accepted)
      throw tradeError(TradeCode.RESULT_REJECTED, 'result check failed', {
        txid,
        phase: await rejectResult(ctx, txid, signal)
      })
    tx = await publishOrThrow(channel, signTxMessage(ctx.signer, txid, { kind: 'accept-result' }), { signal })
    tx = (await channel.retireDue(txid).catch(() => undefined)) ?? tx
    ctx.log.debug({ txid, workBytesSent, resultBytesReceived }, 'trade: bought')
    return { result, tx, stats }
  } catch (err) {
    ts?.bytes.abort()
    const e = toTradeError(err, TradeCode.SELLER_UNREACHABLE)
    // A dispute or an expired phase retires at once by the rules (TX-13, TX-18).
    await channel.retireDue(txid).catch(() => undefined)
    ctx.log.debug({ txid, code: e.code, message: e.message, details: e.details }, 'trade: buy failed')
    throw e
  } finally {
    if (resultManifest !== undefined) await unpinManifest(resultManifest, store).catch(() => {})
    if (imported) await unpinManifest(manifest, store).catch(() => {})
  }
}
