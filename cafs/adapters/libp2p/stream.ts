import type { Stream } from '@libp2p/interface'
import type { ByteStream } from '../../transfer/index.js'
import type { AbortOptions } from '../../types.js'

/**
 * Bytes received but not yet read by the protocol code before the libp2p stream is paused.
 * Pausing stops Yamux window updates, so the remote stops after at most one window (≤ 16 MiB,
 * Yamux MAX_STREAM_WINDOW); 4 MiB keeps several maximal CHUNKS messages (1 MiB) in flight.
 */
const HIGH_WATER_BYTES = 4 << 20

/**
 * While paused, libp2p resets a stream whose read buffer passes `maxReadBufferLength`
 * (default 4 MiB). A paused Yamux stream can still receive one full window (16 MiB max), so
 * the limit is raised above that: memory per stream stays bounded by window + high water.
 */
const PAUSED_READ_BUFFER_BYTES = 17 << 20

/**
 * Adapts a libp2p 3 {@link Stream} to the CAFS transfer {@link ByteStream}. Reads are driven by
 * the stream's `message` events with real back-pressure (the stream is paused while more than
 * {@link HIGH_WATER_BYTES} wait unread); writes use `send` and wait on `onDrain` when the
 * muxer's buffer is full. A reset or aborted stream makes the source throw, so a cut transfer
 * is never mistaken for a clean end.
 */
export function libp2pByteStream(stream: Stream): ByteStream {
  const queue: Uint8Array[] = []
  let queued = 0
  let ended = stream.readableEnded
  let failure: Error | undefined
  let wake: (() => void) | undefined
  const notify = (): void => {
    const w = wake
    wake = undefined
    w?.()
  }
  stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, PAUSED_READ_BUFFER_BYTES)
  stream.addEventListener('message', (evt) => {
    const d = evt.data
    if (d instanceof Uint8Array) {
      queue.push(d)
      queued += d.byteLength
    } else
      for (const b of d) {
        queue.push(b)
        queued += b.byteLength
      }
    if (queued > HIGH_WATER_BYTES && stream.readStatus === 'readable') stream.pause()
    notify()
  })
  stream.addEventListener('end', () => {
    ended = true
    notify()
  })
  stream.addEventListener('close', (evt) => {
    if (evt.error !== undefined) failure ??= evt.error
    notify()
  })

  const next = async (): Promise<IteratorResult<Uint8Array>> => {
    for (;;) {
      const b = queue.shift()
      if (b !== undefined) {
        queued -= b.byteLength
        if (queued <= HIGH_WATER_BYTES / 2 && stream.readStatus === 'paused') stream.resume()
        return { done: false, value: b }
      }
      if (failure !== undefined) throw failure
      // 'end' also fires on abort and reset, just before the 'close' event with the error.
      if (ended && (stream.status === 'aborted' || stream.status === 'reset'))
        throw failure ?? new Error(`stream ${stream.status}`)
      if (ended) return { done: true, value: undefined }
      await new Promise<void>((resolve) => {
        wake = resolve
      })
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

  return { source, write, close, abort }
}
