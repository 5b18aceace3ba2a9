import { MAX_VARINT_BYTES, parseVarintPrefix, xferReadError } from './codec.js'
import { joinParts } from './framing.js'
import { type DecodeContext, decodeMessage, decodeRecords, type Message, MsgType } from './messages.js'

/**
 * Decoding a frame body that arrived as several pieces ({@link FrameReader.readParts}) without
 * joining them: a CHUNKS message of 256 KiB spans several transport pieces, and joining it only
 * to copy each chunk out again would copy every byte twice. Here each chunk is copied once,
 * straight from the pieces into an array of its own that the store may keep.
 */

/** A fresh array of `n` bytes, not zero-filled and not carved from Node's shared buffer pool. */
function ownedArray(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n)
  return new Uint8Array(b.buffer, b.byteOffset, n)
}

/** Sequential reads over the pieces of one message body. */
class PartsReader {
  private part = 0
  private at = 0
  remaining: number

  constructor(private readonly parts: readonly Uint8Array[]) {
    let n = 0
    for (const p of parts) n += p.length
    this.remaining = n
  }

  /** The byte `i` positions ahead (i < remaining), not consumed. */
  private peek(i: number): number {
    let part = this.part
    let at = this.at + i
    for (;;) {
      const p = this.parts[part] as Uint8Array
      if (at < p.length) return p[at] as number
      at -= p.length
      part++
    }
  }

  private skip(n: number): void {
    this.remaining -= n
    let left = n
    while (left > 0) {
      const p = this.parts[this.part] as Uint8Array
      const avail = p.length - this.at
      if (avail > left) {
        this.at += left
        return
      }
      left -= avail
      this.part++
      this.at = 0
    }
  }

  /** A varint (XFER-2: `CAFS_XFER_BAD_VARINT`; truncated: `CAFS_XFER_BAD_MESSAGE`). */
  varint(): number {
    const v = parseVarintPrefix((i) => this.peek(i), Math.min(this.remaining, MAX_VARINT_BYTES))
    if (v.need) throw xferReadError('truncated-varint')
    this.skip(v.length)
    return v.value
  }

  /** The next `n` bytes copied into an array of their own. */
  copy(n: number): Uint8Array {
    if (n > this.remaining) throw xferReadError('truncated')
    const out = ownedArray(n)
    let o = 0
    while (o < n) {
      const p = this.parts[this.part] as Uint8Array
      const take = Math.min(p.length - this.at, n - o)
      out.set(take === p.length ? p : p.subarray(this.at, this.at + take), o)
      o += take
      this.skip(take)
    }
    return out
  }
}

/**
 * Decodes one message body given as pieces. CHUNKS records come out `owned` (each chunk copied
 * once into its own array); every other message is joined and decoded by `decodeMessage`.
 * Throws exactly what `decodeMessage` throws for the joined body.
 */
export function decodeFrameParts(parts: readonly Uint8Array[], ctx: DecodeContext): Message {
  const first = parts[0]
  if (first === undefined || first.length === 0 || first[0] !== MsgType.CHUNKS)
    return decodeMessage(joinParts(parts), ctx)
  const r = new PartsReader(parts.length === 1 ? [first.subarray(1)] : [first.subarray(1), ...parts.slice(1)])
  return { type: 'chunks', records: decodeRecords(r, (n) => r.copy(n), ctx.limits, true) }
}
