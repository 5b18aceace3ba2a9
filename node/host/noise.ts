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

/**
 * The node's connection encrypter: libp2p's Noise (its default crypto: WebAssembly
 * ChaCha20-Poly1305 below 1200 bytes, Node's above; Node's alone was slower for the small
 * frames of gossip, issue 14), with the writes of each connection it secures joined
 * ({@link coalesceWrites}).
 */
export function coalescedNoise(): (components: NoiseComponents) => ConnectionEncrypter<NoiseExtensions> {
  const create = noise()
  return (components) => {
    const encrypter = create(components)
    const outbound = encrypter.secureOutbound.bind(encrypter)
    const inbound = encrypter.secureInbound.bind(encrypter)
    encrypter.secureOutbound = (conn, options) => {
      coalesceWrites(conn)
      return outbound(conn, options)
    }
    encrypter.secureInbound = (conn, options) => {
      coalesceWrites(conn)
      return inbound(conn, options)
    }
    return encrypter
  }
}
