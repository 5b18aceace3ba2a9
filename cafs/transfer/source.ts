import type { AbortOptions, ChunkStore, Key } from '../types.js'
import { XferCode, xferError } from './errors.js'
import { resolveLimits, type TransferLimits } from './limits.js'
import { encodeGet } from './messages.js'
import { Session } from './session.js'
import type { ByteStream } from './stream.js'

/** One answer to a position of a {@link ChunkSource.fetch} request. */
export type FetchedChunk =
  /** `owned`: `bytes` is an array of its own, handed over (see `ChunkRecord.owned`). */
  | { readonly index: number; readonly bytes: Uint8Array; readonly owned?: boolean }
  | { readonly index: number; readonly missing: true }

/**
 * Something that can deliver chunks by key: a remote provider over a stream, a local store, a
 * test double. Answers come in request order, one per position. Nothing it yields is trusted:
 * the fetcher re-hashes every chunk.
 */
export interface ChunkSource {
  /** Streams the answers for `keys`; throws a transfer error when the source fails. */
  fetch(keys: readonly Key[], options?: AbortOptions): AsyncIterable<FetchedChunk>
}

/** Opens a fresh duplex stream to a provider (a TCP connect, a libp2p dialProtocol …). */
export type StreamOpener = (options: AbortOptions) => Promise<ByteStream>

/**
 * A {@link ChunkSource} speaking the pull protocol (XFER-15 … XFER-17) over streams from
 * `open`: one stream per request, GET, then CHUNKS/MISSING in position order and DONE. Each
 * message must arrive within the per-message timeout; a position out of order is
 * `CAFS_XFER_UNSOLICITED_CHUNK`.
 */
export function streamChunkSource(
  open: StreamOpener,
  opts: { limits?: Partial<TransferLimits> } = {}
): ChunkSource {
  const limits = resolveLimits(opts.limits)
  return {
    async *fetch(keys, options = {}) {
      if (keys.length > limits.maxKeysPerRequest)
        throw xferError(XferCode.REQUEST_TOO_LARGE, 'too many keys for one request')
      const stream = await open(options)
      const session = new Session(stream, limits, options.signal)
      let finished = false
      try {
        await session.send(encodeGet(keys))
        let next = 0
        for (;;) {
          const msg = await session.expect()
          if (msg.type === 'done') break
          if (msg.type === 'chunks') {
            for (const rec of msg.records) {
              if (rec.index !== next) throw unsolicited(rec.index, next)
              next++
              yield { index: rec.index, bytes: rec.bytes, owned: rec.owned }
            }
          } else if (msg.type === 'missing') {
            for (const index of msg.indices) {
              if (index !== next) throw unsolicited(index, next)
              next++
              yield { index, missing: true }
            }
          } else throw xferError(XferCode.UNEXPECTED_MESSAGE, `unexpected ${msg.type}`)
        }
        if (next !== keys.length)
          throw xferError(XferCode.INCOMPLETE, 'DONE before every position was answered', { answered: next })
        finished = true
        await stream.close(options)
      } catch (err) {
        finished = true
        throw await session.fail(err)
      } finally {
        // The consumer stopped early (it found a bad chunk, or gave up): drop the stream.
        if (!finished) stream.abort()
      }
    }
  }
}

function unsolicited(index: number, expected: number): Error {
  return xferError(XferCode.UNSOLICITED_CHUNK, 'answer out of order', { index, expected })
}

/** A {@link ChunkSource} backed by a local store (tests, and a node's own store as a source). */
export function storeChunkSource(store: ChunkStore): ChunkSource {
  return {
    async *fetch(keys, options = {}) {
      for (let index = 0; index < keys.length; index++) {
        const bytes = await store.get(keys[index]!, options)
        yield bytes === undefined ? { index, missing: true } : { index, bytes }
      }
    }
  }
}
