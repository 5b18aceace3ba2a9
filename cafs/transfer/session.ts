import { isBitwrkError } from '../../protocol/errors.js'
import { type ErrorCode, XferCode, xferError } from './errors.js'
import { FrameReader, writeFrame, writeFramed } from './framing.js'
import type { TransferLimits } from './limits.js'
import { encodeError, type Message } from './messages.js'
import { decodeFrameParts } from './parts.js'
import type { ByteStream } from './stream.js'

/**
 * One side of one session over a {@link ByteStream}: typed receive with the per-message
 * timeout and the right length limit, framed send, and the failure path (send ERROR, tear
 * the stream down). Shared by sender, receiver, provider and fetcher.
 */
export class Session {
  readonly reader: FrameReader
  /** Chunk count of the manifest in play, once known (WANT decoding needs it). */
  chunkCount: number | undefined
  /** Bytes written to the stream (frames, prefixes included). */
  bytesWritten = 0

  constructor(
    readonly stream: ByteStream,
    readonly limits: TransferLimits,
    readonly signal: AbortSignal | undefined
  ) {
    this.reader = new FrameReader(stream.source)
  }

  /**
   * The next message, or `undefined` at a clean end of stream. An ERROR from the peer becomes
   * `CAFS_XFER_PEER_ERROR` with `details.remoteCode`.
   */
  async recv(opts: RecvOptions = {}): Promise<Message | undefined> {
    const body = await this.reader.readParts({
      maxLength: opts.maxLength ?? this.limits.maxMessageLength,
      timeoutMs: opts.timeoutMs === null ? undefined : (opts.timeoutMs ?? this.limits.messageTimeoutMs),
      signal: this.signal
    })
    if (body === undefined) return undefined
    const msg = decodeFrameParts(body, { limits: this.limits, chunkCount: this.chunkCount })
    if (msg.type === 'error')
      throw xferError(XferCode.PEER_ERROR, 'peer reported an error', { remoteCode: msg.code })
    return msg
  }

  /** Like {@link recv} but a clean end of stream is `CAFS_XFER_CLOSED`. */
  async expect(opts: RecvOptions = {}): Promise<Message> {
    const msg = await this.recv(opts)
    if (msg === undefined) throw xferError(XferCode.CLOSED, 'stream ended while a message was expected')
    return msg
  }

  /** Sends one message body as a frame, within the per-message timeout. */
  async send(body: Uint8Array): Promise<void> {
    this.bytesWritten += await writeFrame(this.stream, body, {
      signal: this.signal,
      timeoutMs: this.limits.messageTimeoutMs
    })
  }

  /** Sends a message that is already framed (`encodeChunksFrame`), within the per-message timeout. */
  async sendFramed(frame: Uint8Array): Promise<void> {
    this.bytesWritten += await writeFramed(this.stream, frame, {
      signal: this.signal,
      timeoutMs: this.limits.messageTimeoutMs
    })
  }

  /**
   * Failure path: tells the peer the code (best effort, bounded by a short deadline, skipped
   * when the stream is already gone) and tears the stream down. Returns the error to throw.
   */
  async fail(err: unknown): Promise<Error> {
    const e = err instanceof Error ? err : new Error(String(err))
    if (isBitwrkError(e) && shouldTellPeer(e.code) && /^[A-Z0-9_]{1,64}$/.test(e.code)) {
      try {
        // Short and independent of the caller's signal: the caller may have aborted already.
        await writeFrame(this.stream, encodeError(e.code), {
          timeoutMs: Math.min(ERROR_WRITE_TIMEOUT_MS, this.limits.messageTimeoutMs)
        })
      } catch {
        // The stream is gone; nothing to tell.
      }
    }
    this.stream.abort(e)
    return e
  }
}

/** Options of {@link Session.recv}; `timeoutMs: null` waits without a per-message timeout. */
export interface RecvOptions {
  maxLength?: number
  timeoutMs?: number | null
}

/** Longest wait for the ERROR frame on the failure path (the session is over anyway). */
const ERROR_WRITE_TIMEOUT_MS = 1000

/** Codes not worth sending back: the stream is dead or the peer itself reported the error. */
function shouldTellPeer(code: ErrorCode): boolean {
  return (
    code !== XferCode.CLOSED &&
    code !== XferCode.TRUNCATED &&
    code !== XferCode.PEER_ERROR &&
    code !== XferCode.ABORTED &&
    code !== XferCode.TIMEOUT
  )
}
