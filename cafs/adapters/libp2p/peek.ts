import { type ByteStream, MAX_VARINT_BYTES, withDeadline, XferCode } from '../../transfer/index.js'
import { xferError } from './errors.js'

/** What {@link peekType} saw: the first message's type byte, and the stream with it put back. */
export interface Peeked {
  /** Type byte of the first frame; `undefined` at a clean end, -1 for a prefix that is not a frame. */
  readonly type: number | undefined
  /** The same stream, replaying the bytes read so far before the rest. */
  readonly stream: ByteStream
}

/**
 * Reads just enough of a stream to see its first message's type byte (varint length prefix,
 * then the type), without consuming it: the returned stream replays every byte. Malformed
 * prefixes are not judged here (type -1): the protocol reader that gets the stream refuses
 * them with its own code. The first bytes must arrive within `timeoutMs`
 * (`CAFS_XFER_TIMEOUT`).
 */
export async function peekType(stream: ByteStream, timeoutMs: number, signal: AbortSignal): Promise<Peeked> {
  const it = stream.source[Symbol.asyncIterator]()
  const head: Uint8Array[] = []
  const replay: ByteStream = {
    source: {
      async *[Symbol.asyncIterator]() {
        yield* head
        for (;;) {
          const r = await it.next()
          if (r.done === true) return
          yield r.value
        }
      }
    },
    write: (b, o) => stream.write(b, o),
    close: (o) => stream.close(o),
    abort: (e) => stream.abort(e)
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const t = typeAt(head)
    if (t !== 'more') return { type: t, stream: replay }
    const r = await nextWithin(it, deadline - Date.now(), signal)
    if (r.done === true) return { type: head.length === 0 ? undefined : -1, stream: replay }
    if (r.value.byteLength > 0) head.push(r.value)
  }
}

/** The type byte after the varint prefix in `head`, 'more' if not there yet, -1 if malformed. */
function typeAt(head: readonly Uint8Array[]): number | 'more' {
  let i = 0
  let prefixEnd = -1
  let zeroLength = true
  for (const b of bytes(head)) {
    if (prefixEnd < 0) {
      if ((b & 0x7f) !== 0) zeroLength = false
      if ((b & 0x80) === 0) {
        prefixEnd = i
        if (zeroLength) return -1
      } else if (i + 1 >= MAX_VARINT_BYTES) return -1
    } else return b
    i++
  }
  return 'more'
}

function* bytes(head: readonly Uint8Array[]): Generator<number> {
  for (const h of head) for (const b of h) yield b
}

/** The next chunk of `it` within `ms` (`CAFS_XFER_TIMEOUT`); `CAFS_XFER_ABORTED` when `signal` fires. */
function nextWithin(
  it: AsyncIterator<Uint8Array>,
  ms: number,
  signal: AbortSignal
): Promise<IteratorResult<Uint8Array>> {
  const aborted = (): Error => xferError(XferCode.ABORTED, 'aborted')
  // an aborted peek starts no read
  if (signal.aborted) return Promise.reject(aborted())
  return withDeadline(it.next(), {
    timeoutMs: Math.max(0, ms),
    signal,
    onTimeout: () => xferError(XferCode.TIMEOUT, 'no request before the idle timeout', { timeoutMs: ms }),
    onAbort: aborted
  })
}
