import { isBitwrkError } from '../../protocol/errors.js'
import { keysEqual, keyToHex, sha256 } from '../keys.js'
import type { AbortOptions, ChunkStore, Manifest } from '../types.js'
import { withDeadline } from './deadline.js'
import { XferCode, xferError } from './errors.js'
import { messageDeadline } from './framing.js'
import { RECORD_OVERHEAD, resolveLimits, type TransferLimits } from './limits.js'
import { type ChunkRecord, encodeChunksFrame, encodeDone, encodeOffer, type Message } from './messages.js'
import { readAhead } from './readahead.js'
import { Session } from './session.js'
import type { ByteStream } from './stream.js'
import { indicesOfRanges } from './wishlist.js'

/** Options of {@link sendFile}. */
export interface SendOptions extends AbortOptions {
  /** Overrides of the default limits and the per-message timeout. */
  limits?: Partial<TransferLimits>
  /** Store reads kept in flight ahead of the writer (default 16). */
  readAhead?: number
  /**
   * Re-hash each chunk before serving it (default true, DESIGN.md invariant 8). Turn off only
   * for a store that already re-hashes on `get` (LevelChunkStore with `verifyOnGet`).
   */
  verifyServed?: boolean
  /** Called once the wishlist is known and after each CHUNKS message written. */
  onProgress?: (progress: SendProgress) => void
}

/** How far a {@link sendFile} is: what the receiver wished for and what was written of it. */
export interface SendProgress {
  readonly chunksWanted: number
  readonly bytesWanted: number
  readonly chunksSent: number
  readonly bytesSent: number
}

/** Outcome of a successful {@link sendFile}. */
export interface SendResult {
  /** Chunks the receiver asked for, and their bytes: what actually travelled. */
  readonly chunksSent: number
  readonly chunkBytesSent: number
  /** CHUNKS messages written. */
  readonly messagesSent: number
  /** Every byte written to the stream (OFFER, CHUNKS, DONE, framing). */
  readonly wireBytesWritten: number
}

/** Store reads the sender keeps in flight by default. */
const DEFAULT_READ_AHEAD = 16

/**
 * Sender side of a push transfer (XFER-7 … XFER-13): offers `manifest`, reads the wishlist,
 * streams exactly the wanted chunks (several per CHUNKS message, store reads running ahead of
 * the writes, each write waiting for the transport to drain), sends DONE and waits for ACK.
 * Every chunk is re-hashed before it is served (DESIGN.md invariant 8).
 *
 * On failure it sends ERROR when the stream still works and tears the stream down; an ERROR
 * from the receiver becomes `CAFS_XFER_PEER_ERROR`. The stream stays open on success.
 */
export async function sendFile(
  stream: ByteStream,
  manifest: Manifest,
  store: ChunkStore,
  options: SendOptions = {}
): Promise<SendResult> {
  const limits = resolveLimits(options.limits)
  const { signal } = options
  const session = new Session(stream, limits, signal)
  try {
    const offer = encodeOffer(manifest)
    if (offer.length > limits.maxManifestBytes || manifest.chunks.length > limits.maxChunks)
      throw xferError(XferCode.MANIFEST_TOO_LARGE, 'manifest exceeds the limits', { bytes: offer.length })
    await session.send(offer)
    session.chunkCount = manifest.chunks.length
    const want = await session.expect()
    if (want.type !== 'want') throw xferError(XferCode.UNEXPECTED_MESSAGE, `expected WANT, got ${want.type}`)
    const indices = indicesOfRanges(want.ranges)
    let bytesWanted = 0
    for (const i of indices) bytesWanted += manifest.chunks[i]?.size ?? 0

    // The receiver stays silent until the end; anything it says earlier (an ERROR) must stop us.
    let early: { msg?: Message; err?: unknown } | undefined
    const reply = session.recv({ timeoutMs: null })
    reply.then(
      (msg) => {
        early = { msg }
      },
      (err: unknown) => {
        early = { err }
      }
    )
    const checkEarly = (): void => {
      if (early === undefined) return
      if (early.err !== undefined) throw early.err
      if (early.msg === undefined) throw xferError(XferCode.CLOSED, 'receiver closed before DONE')
      throw xferError(XferCode.UNEXPECTED_MESSAGE, 'receiver spoke before DONE')
    }

    let chunksSent = 0
    let chunkBytesSent = 0
    let messagesSent = 0
    let batch: ChunkRecord[] = []
    let batchBytes = 1
    const report = (): void =>
      options.onProgress?.({
        chunksWanted: indices.length,
        bytesWanted,
        chunksSent,
        bytesSent: chunkBytesSent
      })
    report()
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return
      checkEarly()
      try {
        await session.sendFramed(encodeChunksFrame(batch))
      } catch (err) {
        // A broken pipe may mean the receiver sent ERROR and hung up: its reason is better.
        if (isBitwrkError(err, XferCode.CLOSED)) {
          await withDeadline(reply, messageDeadline(Math.min(limits.messageTimeoutMs, 1000))).catch(() => {})
          checkEarly()
        }
        throw err
      }
      messagesSent++
      batch = []
      batchBytes = 1
      report()
    }

    const read = (i: number): Promise<ChunkRecord> =>
      servedChunk(store, manifest, i, options.verifyServed ?? true, { signal })
    for await (const rec of readAhead(indices, read, options.readAhead ?? DEFAULT_READ_AHEAD)) {
      const size = RECORD_OVERHEAD + rec.bytes.length
      if (batchBytes + size > limits.maxMessageLength) await flush()
      batch.push(rec)
      batchBytes += size
      chunksSent++
      chunkBytesSent += rec.bytes.length
      if (batchBytes >= limits.targetMessageBytes) await flush()
    }
    await flush()
    checkEarly()
    await session.send(encodeDone())

    const ack = await withDeadline(reply, messageDeadline(limits.messageTimeoutMs, signal))
    if (ack === undefined) throw xferError(XferCode.CLOSED, 'stream ended before ACK')
    if (ack.type !== 'ack') throw xferError(XferCode.UNEXPECTED_MESSAGE, `expected ACK, got ${ack.type}`)
    if (!keysEqual(ack.fileKey, manifest.fileKey))
      throw xferError(XferCode.FILE_KEY_MISMATCH, 'ACK names another file key')
    return { chunksSent, chunkBytesSent, messagesSent, wireBytesWritten: session.bytesWritten }
  } catch (err) {
    throw await session.fail(err)
  }
}

/**
 * Reads chunk `index` for serving and re-hashes it: a missing or corrupt local copy is
 * `CAFS_XFER_MISSING_CHUNK` (never served).
 */
async function servedChunk(
  store: ChunkStore,
  manifest: Manifest,
  index: number,
  verify: boolean,
  options: AbortOptions
): Promise<ChunkRecord> {
  const ref = manifest.chunks[index]!
  let bytes: Uint8Array | undefined
  try {
    bytes = await store.get(ref.key, options)
  } catch (err) {
    if (isBitwrkError(err)) throw err
    throw xferError(XferCode.MISSING_CHUNK, 'store read failed', { index, cause: String(err) })
  }
  if (bytes === undefined || bytes.length !== ref.size || (verify && !keysEqual(sha256(bytes), ref.key)))
    throw xferError(XferCode.MISSING_CHUNK, 'chunk missing or corrupt in the local store', {
      index,
      key: keyToHex(ref.key)
    })
  return { index, bytes }
}
