import type { Duplex } from 'node:stream'
import type { AbortOptions } from '../types.js'

/**
 * The one transport abstraction of CAFS transfer: a reliable, ordered, bidirectional byte
 * stream. A `node:net` socket, any Node `Duplex`, a libp2p stream or an in-memory pipe fits in
 * a few lines (see {@link duplexByteStream}). The protocol code never sees the transport.
 */
export interface ByteStream {
  /** Incoming bytes, in order; ends when the peer half-closes; throws when the stream fails. */
  readonly source: AsyncIterable<Uint8Array>
  /**
   * Queues bytes for sending; resolves once the transport accepted them (back-pressure: the
   * promise waits while the transport's buffer is full). Rejects when the stream fails or the
   * signal fires.
   */
  write(bytes: Uint8Array, options?: AbortOptions): Promise<void>
  /** Half-closes the sending side after flushing; reading may continue. Idempotent. */
  close(options?: AbortOptions): Promise<void>
  /** Tears both directions down at once (after a protocol error). Idempotent. */
  abort(err?: Error): void
}

/** Error used when a write cannot complete because the stream went away. */
function closedError(): Error {
  return Object.assign(new Error('stream closed'), { code: 'ERR_STREAM_CLOSED' })
}

/**
 * Adapts a Node `Duplex` (e.g. a `node:net` Socket) to a {@link ByteStream}. Writes honour
 * `write()`'s return value and wait for `'drain'`, so a slow reader slows the writer down
 * (TCP flow control end to end) instead of filling memory.
 */
export function duplexByteStream(duplex: Duplex): ByteStream {
  // An 'error' without a listener would crash the process; failures surface through the
  // source iterator and through rejected writes instead.
  duplex.on('error', () => {})
  const source: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => duplex[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>
  }

  const write = (bytes: Uint8Array, options?: AbortOptions): Promise<void> => {
    if (duplex.destroyed || duplex.writableEnded) return Promise.reject(closedError())
    options?.signal?.throwIfAborted()
    if (duplex.write(bytes)) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        duplex.off('drain', onDrain)
        duplex.off('close', onClose)
        duplex.off('error', onError)
        options?.signal?.removeEventListener('abort', onAbort)
      }
      const onDrain = (): void => {
        cleanup()
        resolve()
      }
      // 'drain' never fires on a destroyed stream: 'close' and 'error' end the wait instead.
      const onClose = (): void => {
        cleanup()
        reject(closedError())
      }
      const onError = (err: Error): void => {
        cleanup()
        reject(err)
      }
      const onAbort = (): void => {
        cleanup()
        reject(options?.signal?.reason)
      }
      duplex.on('drain', onDrain)
      duplex.on('close', onClose)
      duplex.on('error', onError)
      options?.signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  const close = (options?: AbortOptions): Promise<void> => {
    if (duplex.destroyed || duplex.writableFinished) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const done = (): void => {
        duplex.off('finish', done)
        duplex.off('close', done)
        options?.signal?.removeEventListener('abort', done)
        resolve()
      }
      duplex.on('finish', done)
      duplex.on('close', done)
      options?.signal?.addEventListener('abort', done, { once: true })
      if (!duplex.writableEnded) duplex.end()
    })
  }

  const abort = (err?: Error): void => {
    // A destroyed socket with an error would emit 'error' to nobody; destroy without it.
    void err
    duplex.destroy()
  }

  return { source, write, close, abort }
}
