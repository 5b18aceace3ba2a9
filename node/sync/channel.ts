import type { Stream } from '@libp2p/interface'
import { type LimitedByteStream, libp2pByteStream } from '../../cafs/adapters/libp2p/index.js'
import { FrameReader, writeFrame, XferCode } from '../../cafs/transfer/index.js'
import { BitwrkError, isBitwrkError } from '../../protocol/errors.js'
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type SyncRequest,
  type SyncResponse
} from './codec.js'
import { isSyncError, SyncCode, type SyncErrorCode } from './errors.js'
import type { SyncLimits } from './limits.js'

/**
 * A sync stream as framed messages (SYNC-2): `varint(length) || body` framing shared with CAFS
 * transfer (one frame reader in the code base), each read bounded by the limit of the message
 * expected and by the per-message timeout, the bytes buffered unread by `maxUnreadBytes`
 * (SYNC-14: a responder holds one request); transport failures become `SYNC_*` codes.
 */
export class SyncChannel {
  private readonly reader: FrameReader
  private readonly io: LimitedByteStream
  /** Bytes written so far, framing included. */
  bytesWritten = 0

  constructor(
    stream: Stream,
    private readonly limits: SyncLimits,
    private readonly signal: AbortSignal,
    options: { maxUnreadBytes?: number; onOverrun?: () => void } = {}
  ) {
    this.io = libp2pByteStream(stream, options)
    this.reader = new FrameReader(this.io.source)
  }

  /** Bytes read so far, framing included. */
  get bytesRead(): number {
    return this.reader.bytesRead
  }

  /** Next request, or undefined when the requester closed its side (responder). */
  async readRequest(): Promise<SyncRequest | undefined> {
    const body = await this.read(this.limits.maxRequestBytes)
    return body === undefined ? undefined : decodeRequest(body, this.limits)
  }

  /** Next response (requester); a closed stream here is `SYNC_CLOSED`. */
  async readResponse(): Promise<SyncResponse> {
    const body = await this.read(this.limits.maxResponseBytes)
    if (body === undefined) throw new BitwrkError(SyncCode.CLOSED, 'stream ended before a response')
    return decodeResponse(body, this.limits)
  }

  /** Sends a request. */
  sendRequest(msg: SyncRequest): Promise<void> {
    return this.write(encodeRequest(msg))
  }

  /** Sends a response. */
  sendResponse(msg: SyncResponse): Promise<void> {
    return this.write(encodeResponse(msg))
  }

  /** Half-closes our side (the peer sees the end of the stream). */
  async close(): Promise<void> {
    await this.io
      .close({ signal: AbortSignal.timeout(this.limits.messageTimeoutMs) })
      .catch(() => this.abort())
  }

  /** Tears the stream down. */
  abort(err?: Error): void {
    this.io.abort(err)
  }

  private async read(maxLength: number): Promise<Uint8Array | undefined> {
    try {
      return await this.reader.read({
        maxLength,
        timeoutMs: this.limits.messageTimeoutMs,
        signal: this.signal
      })
    } catch (err) {
      throw toSyncError(err)
    }
  }

  private async write(body: Uint8Array): Promise<void> {
    try {
      this.bytesWritten += await writeFrame(this.io, body, {
        timeoutMs: this.limits.messageTimeoutMs,
        signal: this.signal
      })
    } catch (err) {
      throw toSyncError(err)
    }
  }
}

/** Transfer framing codes → sync codes. */
const FRAMING_CODES: Record<string, SyncErrorCode> = {
  [XferCode.FRAME_TOO_LARGE]: SyncCode.OVERSIZED,
  [XferCode.BAD_VARINT]: SyncCode.OVERSIZED,
  [XferCode.TRUNCATED]: SyncCode.CLOSED,
  [XferCode.CLOSED]: SyncCode.CLOSED,
  [XferCode.TIMEOUT]: SyncCode.TIMEOUT,
  [XferCode.ABORTED]: SyncCode.ABORTED,
  [XferCode.OVERRUN]: SyncCode.OVERRUN
}

/** Any failure as a sync `BitwrkError` (unknown failures: `SYNC_CLOSED`). */
export function toSyncError(err: unknown): BitwrkError {
  if (isSyncError(err)) return err
  if (isBitwrkError(err)) {
    const code = FRAMING_CODES[err.code] ?? SyncCode.CLOSED
    return new BitwrkError(code, err.message, { ...err.details, cause: err.code })
  }
  return new BitwrkError(SyncCode.CLOSED, 'stream failed', { cause: String(err) })
}
