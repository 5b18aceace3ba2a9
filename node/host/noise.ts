import type { ConnectionEncrypter, MessageStream } from '@libp2p/interface'
import { type NoiseComponents, type NoiseExtensions, noise } from '@libp2p/noise'
import { Uint8ArrayList } from 'uint8arraylist'

/** What a transport connection (`AbstractMessageStream`) returns from `sendData`. */
interface SendResult {
  sentBytes: number
  canSendMore: boolean
}

/** The transport connection's write method (`AbstractMessageStream.sendData`, @libp2p/utils 7). */
interface SendDataInternals {
  sendData?: (data: Uint8ArrayList) => SendResult
}

/**
 * Largest batch {@link coalesceWrites} copies into one buffer: a few Noise frames. Bulk
 * transfers queue more at once; their chunks are large and go out as they are.
 */
export const MAX_COALESCED_BYTES = 64 * 1024

/**
 * Makes `conn` hand each batch of bytes to its transport as one buffer. Noise queues every
 * frame as two buffers (the 2-byte length, then the ciphertext), and the TCP transport writes
 * each buffer of a batch with its own `socket.write`: two system calls, two TCP segments (no
 * Nagle) and two reads at the peer per frame. Joined, a frame costs one of each (issue 14:
 * the gossip bench spent a fifth of its CPU in `writeBuffer`). The bytes on the wire are the
 * same. Batches above {@link MAX_COALESCED_BYTES} are not copied; a transport without
 * `sendData` is left as it is.
 */
export function coalesceWrites(conn: MessageStream): void {
  const internals = conn as unknown as SendDataInternals
  const send = internals.sendData
  if (typeof send !== 'function') return
  internals.sendData = (data: Uint8ArrayList): SendResult => {
    if (data.byteLength > MAX_COALESCED_BYTES) return send.call(conn, data)
    let chunks = 0
    for (const _ of data) if (++chunks > 1) break
    return send.call(conn, chunks > 1 ? new Uint8ArrayList(data.subarray()) : data)
  }
}

// thrown for every short read, so made once: a RangeError built per throw captures a stack trace
const SHORT_LENGTH = new RangeError('Could not decode int16BE')

/**
 * The 2-byte big-endian length of the Noise frame at the start of `data`, or a RangeError
 * when fewer than 2 bytes are buffered, as `@libp2p/noise`'s `uint16BEDecode`. Its decoder
 * asks for the next length after every frame it takes and treats the RangeError as "wait for
 * more", so nearly every chunk read ends in one; this one throws a shared error instead of
 * building one with a stack trace (issue 14: 5% of the gossip bench's CPU).
 */
export function frameLength(data: Uint8Array | Uint8ArrayList): number {
  if (data.byteLength < 2) throw SHORT_LENGTH
  return data instanceof Uint8Array
    ? ((data[0] as number) << 8) | (data[1] as number)
    : (data.get(0) << 8) | data.get(1)
}

/** The decrypting stream Noise returns (`@libp2p/noise` 17): its frame decoder. */
interface DecoderInternals {
  decoder?: { lengthDecoder?: (data: Uint8ArrayList) => number }
}

/**
 * Makes the Noise stream `conn` read frame lengths with {@link frameLength}; a stream without
 * the expected decoder is left as it is. The frames read are the same.
 */
export function cheapShortReads(conn: unknown): void {
  const decoder = (conn as DecoderInternals).decoder
  if (decoder !== undefined && typeof decoder.lengthDecoder === 'function')
    decoder.lengthDecoder = frameLength
}

/**
 * The node's connection encrypter: libp2p's Noise (its default crypto: WebAssembly
 * ChaCha20-Poly1305 below 1200 bytes, Node's above; Node's alone was slower for the small
 * frames of gossip, issue 14), with the writes of each connection it secures joined
 * ({@link coalesceWrites}) and its frame lengths read without an error per read
 * ({@link cheapShortReads}).
 */
export function coalescedNoise(): (components: NoiseComponents) => ConnectionEncrypter<NoiseExtensions> {
  const create = noise()
  return (components) => {
    const encrypter = create(components)
    const outbound = encrypter.secureOutbound.bind(encrypter)
    const inbound = encrypter.secureInbound.bind(encrypter)
    encrypter.secureOutbound = async (conn, options) => {
      coalesceWrites(conn)
      const secured = await outbound(conn, options)
      cheapShortReads(secured.connection)
      return secured
    }
    encrypter.secureInbound = async (conn, options) => {
      coalesceWrites(conn)
      const secured = await inbound(conn, options)
      cheapShortReads(secured.connection)
      return secured
    }
    return encrypter
  }
}
