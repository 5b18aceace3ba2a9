import type { Stream } from '@libp2p/interface'
import { type ByteStream, XferCode } from '../../transfer/index.js'
import type { AbortOptions } from '../../types.js'
import { xferError } from './errors.js'

/**
 * Largest Yamux receive window of one stream (XFER-23, CHUNK-7). The host configures its muxer
 * with it (`node/host/host.ts`): Yamux grows a stream's window from 256 KiB (the spec's initial
 * window) up to this while the reader keeps up, so a paused stream receives at most this much
 * more. 1 MiB instead of Yamux's 16 MiB default: loopback throughput measured the same
 * (`docs/drills.md`, memory-flood), and every buffer bound below scales with it.
 */
export const MAX_STREAM_WINDOW_BYTES = 1 << 20

/**
 * Unread bytes a bulk step (a file pushed or served, a sync response) may hold (XFER-23): one
 * window that arrived while the stream was readable plus one sent before the sender saw it
 * paused. An honest sender never exceeds it, whatever its speed.
 */
export const BULK_UNREAD_BYTES = 2 * MAX_STREAM_WINDOW_BYTES

/** Options of {@link libp2pByteStream}. */
export interface ByteStreamOptions {
  /** Unread bytes the first step allows (default {@link BULK_UNREAD_BYTES}). */
  readonly maxUnreadBytes?: number
  /** Called once when the peer overran the cap (metrics). */
  readonly onOverrun?: () => void
}

/** A {@link ByteStream} over a libp2p stream whose unread bytes are capped per protocol step. */
export interface LimitedByteStream extends ByteStream {
  /**
   * Sets the cap for the next step (XFER-23). Bytes already unread beyond it are an overrun:
   * kept up to the cap, the rest dropped, and the read after them fails `CAFS_XFER_OVERRUN`.
   */
  setMaxUnread(bytes: number): void
  /** Bytes received and not yet read: ours and those libp2p holds while the stream is paused. */
  unread(): number
}

/**
 * Adapts a libp2p 3 {@link Stream} to the CAFS {@link ByteStream}, reading only what the
 * protocol asks for (XFER-23). libp2p's own `for await` keeps every message a stream receives
 * in an unbounded queue while Yamux reopens the window, so a peer could fill the node's memory
 * on a stream nobody reads. Here reads are pulled: the stream is paused whenever bytes are
 * queued (Yamux then stops window updates, so the sender stops within its window) and resumed
 * only when a read finds the queue empty. The unread bytes are capped (`maxUnreadBytes`, per
 * step with `setMaxUnread`): beyond the cap the excess is dropped and the next read past the
 * kept bytes fails `CAFS_XFER_OVERRUN`; libp2p itself resets a paused stream whose buffer
 * passes the cap (reported the same way). Writes use `send` and wait on `onDrain` when the
 * muxer's buffer is full. A reset or aborted stream makes the source throw, so a cut transfer
 * is never mistaken for a clean end.
 */
export function libp2pByteStream(stream: Stream, options: ByteStreamOptions = {}): LimitedByteStream {
  const queue: Uint8Array[] = []
  let queued = 0
  let limit = options.maxUnreadBytes ?? BULK_UNREAD_BYTES
  let overrun = false
  let ended = stream.readableEnded
  let failure: Error | undefined
  let wake: (() => void) | undefined
  const notify = (): void => {
    const w = wake
    wake = undefined
    w?.()
  }
  const pause = (): void => {
    if (stream.readStatus === 'readable') stream.pause()
  }
  const markOverrun = (): void => {
    if (overrun) return
    overrun = true
    pause()
    options.onOverrun?.()
  }
  const take = (b: Uint8Array): void => {
    if (overrun || b.byteLength === 0) return
    const room = limit - queued
    if (b.byteLength > room) {
      // keep what the step allows (a copy: a view would pin the whole frame), drop the rest
      if (room > 0) {
        queue.push(b.slice(0, room))
        queued += room
      }
      markOverrun()
      return
    }
    queue.push(b)
    queued += b.byteLength
  }
  // Paused before the listener is added: bytes that arrived during protocol negotiation stay
  // in libp2p's buffer (bounded by the cap below) until the first read.
  pause()
  stream.maxReadBufferLength = limit
  stream.addEventListener('message', (evt) => {
    const d = evt.data
    if (d instanceof Uint8Array) take(d)
    else for (const b of d) take(b)
    // pull: nothing more until a read finds the queue empty
    pause()
    notify()
  })
  stream.addEventListener('end', () => {
    ended = true
    notify()
  })
  stream.addEventListener('close', (evt) => {
    const err = evt.error
    if (err !== undefined)
      // libp2p resets a paused stream whose buffer passed `maxReadBufferLength`: our cap
      failure ??= err.name === 'StreamBufferError' ? overrunError(limit, err) : err
    notify()
  })

  const next = async (): Promise<IteratorResult<Uint8Array>> => {
    for (;;) {
      const b = queue.shift()
      if (b !== undefined) {
        queued -= b.byteLength
        return { done: false, value: b }
      }
      if (overrun) throw overrunError(limit)
      // bytes libp2p holds (also after 'end': protocol negotiation may put some back later)
      if (stream.readBufferLength > 0 && stream.readStatus === 'paused') {
        stream.resume()
        continue
      }
      if (failure !== undefined) throw failure
      // 'end' also fires on abort and reset, just before the 'close' event with the error.
      if (ended && (stream.status === 'aborted' || stream.status === 'reset'))
        throw failure ?? new Error(`stream ${stream.status}`)
      if (ended) return { done: true, value: undefined }
      const waiting = new Promise<void>((resolve) => {
        wake = resolve
      })
      // resuming may dispatch libp2p's buffer at once (then `wake` already fired)
      if (stream.readStatus === 'paused') stream.resume()
      await waiting
    }
  }
  const source: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({ next, return: async () => ({ done: true, value: undefined }) })
  }

  const write = async (bytes: Uint8Array, options?: AbortOptions): Promise<void> => {
    options?.signal?.throwIfAborted()
    if (!stream.send(bytes)) await stream.onDrain(options)
  }

  const close = async (options?: AbortOptions): Promise<void> => {
    if (stream.writeStatus !== 'writable') return
    try {
      await stream.close(options)
    } catch {
      // A close that fails leaves the stream aborted; nothing more to flush.
    }
  }

  const abort = (err?: Error): void => {
    stream.abort(err ?? new Error('aborted'))
  }

  const setMaxUnread = (bytes: number): void => {
    limit = bytes
    stream.maxReadBufferLength = bytes
    if (queued <= bytes) return
    // the peer sent ahead more than the next step allows
    let keep = bytes
    const kept: Uint8Array[] = []
    for (const b of queue) {
      if (keep <= 0) break
      const part = b.byteLength <= keep ? b : b.slice(0, keep)
      kept.push(part)
      keep -= part.byteLength
    }
    queue.splice(0, queue.length, ...kept)
    queued = bytes
    markOverrun()
  }

  return {
    source,
    write,
    close,
    abort,
    setMaxUnread,
    unread: () => queued + stream.readBufferLength
  }
}

/** The error of a peer that sent more than the step allows (XFER-23). */
function overrunError(limit: number, cause?: Error): Error {
  return xferError(XferCode.OVERRUN, 'peer sent more than the current step allows', {
    maxUnreadBytes: limit,
    ...(cause !== undefined ? { cause: cause.message } : {})
  })
}
