/**
 * Trade frames (TRADE-3 … TRADE-5): the small control messages of `/bitwrk/trade/1.0.0` that
 * alternate with CAFS push sessions on one stream. Framing is XFER-1's (varint length, body),
 * and a body is at most 127 bytes, so the length is always one byte.
 */
import { type DeadlineOptions, withDeadline, XferCode } from '../../cafs/transfer/index.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { TradeCode, tradeError } from './errors.js'
import type { TradeStream } from './stream.js'

/** The protocol id (TRADE-1). */
export const TRADE_PROTOCOL = '/bitwrk/trade/1.0.0'

/** Largest trade frame body (TRADE-3): the one-byte varint limit. */
export const MAX_TRADE_FRAME = 127

/** Unread bytes a step that expects one trade frame allows (TRADE-19): its length byte and body. */
export const TRADE_FRAME_UNREAD = 1 + MAX_TRADE_FRAME

/** Trade message types (TRADE-4); ERROR shares XFER's type so either reader understands it. */
export const TradeMsg = {
  HELLO: 0x21,
  READY: 0x22,
  SECRET: 0x23,
  ACCEPTED: 0x24,
  RESULT: 0x25,
  RECEIPT: 0x26,
  DONE: 0x27,
  ERROR: 0x7f
} as const

/** A trade message type byte. */
export type TradeMsgType = (typeof TradeMsg)[keyof typeof TradeMsg]

/** Exact payload length of each type (ERROR: 1 … 64). */
const PAYLOAD: Record<number, number> = {
  [TradeMsg.HELLO]: 32,
  [TradeMsg.READY]: 0,
  [TradeMsg.SECRET]: 32,
  [TradeMsg.ACCEPTED]: 0,
  [TradeMsg.RESULT]: 32,
  [TradeMsg.RECEIPT]: 88,
  [TradeMsg.DONE]: 0
}

const ERROR_CODE = /^[A-Z0-9_]{1,64}$/
const SIG_TEXT = /^[A-Za-z0-9+/]{86}[AEIMQUYcgkosw048]=$/

/** A decoded trade frame. */
export interface TradeFrame {
  readonly type: TradeMsgType
  readonly payload: Uint8Array
}

/** Encodes a frame: one length byte, the type byte, the payload (TRADE-3). */
export function encodeTradeFrame(type: TradeMsgType, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const len = 1 + payload.length
  if (len > MAX_TRADE_FRAME) throw new RangeError('trade frame too large')
  const out = new Uint8Array(1 + len)
  out[0] = len
  out[1] = type
  out.set(payload, 2)
  return out
}

/** An ERROR frame with `code` (sanitised to the allowed alphabet). */
export function encodeTradeError(code: string): Uint8Array {
  const safe = ERROR_CODE.test(code) ? code : TradeCode.PROTOCOL
  return encodeTradeFrame(TradeMsg.ERROR, new TextEncoder().encode(safe))
}

/** The receipt signature as RECEIPT payload (88 ASCII bytes). */
export function receiptPayload(signature: string): Uint8Array {
  if (!SIG_TEXT.test(signature)) throw tradeError(TradeCode.BAD_ARGUMENT, 'not a 65-byte Base64 signature')
  return new TextEncoder().encode(signature)
}

/** Reads the receipt signature from a RECEIPT payload (TRADE_PROTOCOL when malformed). */
export function receiptOfPayload(payload: Uint8Array): string {
  const text = new TextDecoder('latin1').decode(payload)
  if (!SIG_TEXT.test(text)) throw tradeError(TradeCode.PROTOCOL, 'malformed receipt')
  return text
}

/**
 * Decodes a frame body (TRADE-4): known type, exact payload length, ERROR code alphabet. An
 * ERROR becomes `TRADE_PEER_ERROR` (thrown) with `details.remoteCode`.
 */
export function decodeTradeFrame(body: Uint8Array): TradeFrame {
  const type = body[0]
  if (type === undefined) throw tradeError(TradeCode.PROTOCOL, 'empty frame')
  const payload = body.subarray(1)
  if (type === TradeMsg.ERROR) {
    const code = new TextDecoder('latin1').decode(payload)
    if (!ERROR_CODE.test(code)) throw tradeError(TradeCode.PROTOCOL, 'malformed ERROR')
    throw tradeError(TradeCode.PEER_ERROR, 'peer reported an error', { remoteCode: code })
  }
  const want = PAYLOAD[type]
  if (want === undefined) throw tradeError(TradeCode.PROTOCOL, 'unknown trade message', { type })
  if (payload.length !== want) throw tradeError(TradeCode.PROTOCOL, 'bad payload length', { type })
  return { type: type as TradeMsgType, payload }
}

/** Options of one frame read or write. */
export interface FrameIoOptions {
  /** Per-message timeout, ms (already bounded by the phase deadline). */
  readonly timeoutMs: number
  /** Aborts the read (phase deadline, caller, service stop). */
  readonly signal?: AbortSignal
}

/** The deadline of one trade step: `onTimeout` after `opts.timeoutMs`, {@link abortReason} on abort. */
export function tradeDeadline(opts: FrameIoOptions, onTimeout: () => Error): DeadlineOptions {
  return {
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    onTimeout,
    onAbort: () => abortReason(opts.signal)
  }
}

/** The error an aborted signal stands for: its BitwrkError reason, else TRADE_ABORTED. */
export function abortReason(signal: AbortSignal | undefined): Error {
  const r: unknown = signal?.reason
  if (isBitwrkError(r)) return r
  return tradeError(TradeCode.ABORTED, 'aborted', { cause: String(r) })
}

/**
 * Reads one trade frame from the shared source: the length byte, then the body; bytes pulled
 * past the frame go back to the source for the next reader. `gone` builds the error for a
 * stream that ended, failed or fell silent (TRADE_SELLER_UNREACHABLE or TRADE_BUYER_GONE).
 */
export async function readTradeFrame(
  ts: TradeStream,
  opts: FrameIoOptions,
  gone: (why: string) => Error
): Promise<TradeFrame> {
  const read = async (): Promise<Uint8Array> => {
    let buf = new Uint8Array(0)
    for (;;) {
      const first = buf[0]
      if (first !== undefined) {
        if (first === 0 || first > MAX_TRADE_FRAME)
          throw tradeError(TradeCode.PROTOCOL, 'trade frame length out of range', { length: first })
        if (buf.length >= 1 + first) {
          ts.source.unshift(buf.subarray(1 + first))
          return buf.subarray(1, 1 + first)
        }
      }
      let more: Uint8Array | undefined
      try {
        more = await ts.source.next()
      } catch (err) {
        if (isBitwrkError(err, XferCode.OVERRUN))
          throw tradeError(TradeCode.OVERRUN, 'peer sent more than the step allows', err.details)
        throw gone(`stream failed: ${String(err)}`)
      }
      if (more === undefined) throw gone('stream ended')
      const next = new Uint8Array(buf.length + more.length)
      next.set(buf)
      next.set(more, buf.length)
      buf = next
    }
  }
  const body = await withDeadline(
    read(),
    tradeDeadline(opts, () => gone('no message within the per-message timeout'))
  )
  return decodeTradeFrame(body)
}

/** Writes one frame within the per-message timeout. */
export async function writeTradeFrame(
  ts: TradeStream,
  frame: Uint8Array,
  opts: FrameIoOptions,
  gone: (why: string) => Error
): Promise<void> {
  try {
    await withDeadline(
      ts.bytes.write(frame, { signal: opts.signal }),
      tradeDeadline(opts, () => gone('write did not drain within the per-message timeout'))
    )
  } catch (err) {
    if (isBitwrkError(err)) throw err
    throw gone(`write failed: ${String(err)}`)
  }
}

/** Expects a frame of `type`; anything else is TRADE_PROTOCOL. */
export function expectType(frame: TradeFrame, type: TradeMsgType): Uint8Array {
  if (frame.type !== type)
    throw tradeError(TradeCode.PROTOCOL, 'unexpected trade message', { got: frame.type, want: type })
  return frame.payload
}
