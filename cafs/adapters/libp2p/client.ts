import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import { keysEqual } from '../../keys.js'
import {
  type ByteStream,
  type ChunkSource,
  decodeFrameParts,
  decodeMessage,
  encodeGet,
  type FetchedChunk,
  FrameReader,
  joinParts,
  MsgType,
  type TransferLimits,
  writeFrame,
  XferCode
} from '../../transfer/index.js'
import type { AbortOptions, Key, Manifest } from '../../types.js'
import { withTimeout } from './dht.js'
import { ChunkCode, chunkError, xferError } from './errors.js'
import { libp2pByteStream } from './stream.js'
import { CHUNK_PROTOCOL, decodeHaveReply, encodeHave, encodeManifestGet } from './wire.js'

/** The part of libp2p the fetching side uses. */
export type ClientLibp2p = Pick<Libp2p, 'dialProtocol'>

/** One open chunk-protocol stream with its frame reader. */
interface Conn {
  readonly stream: Stream
  readonly bs: ByteStream
  readonly reader: FrameReader
}

/** Opens a chunk-protocol stream to `peer` within `timeoutMs` (`CHUNK_DIAL_FAILED` otherwise). */
export async function openChunkStream(
  libp2p: ClientLibp2p,
  peer: PeerId,
  timeoutMs: number,
  options: AbortOptions = {}
): Promise<Conn> {
  options.signal?.throwIfAborted()
  let stream: Stream
  try {
    stream = await libp2p.dialProtocol(peer, CHUNK_PROTOCOL, {
      signal: withTimeout(timeoutMs, options.signal)
    })
  } catch (err) {
    throw chunkError(ChunkCode.DIAL_FAILED, 'cannot open a chunk stream', { cause: String(err) })
  }
  const bs = libp2pByteStream(stream)
  return { stream, bs, reader: new FrameReader(bs.source) }
}

/**
 * A {@link ChunkSource} for one remote peer that keeps its streams open between requests
 * (CHUNK-10): a GET stream carries any number of requests in turn, so a fetch pays the stream
 * negotiation round trip once, not per batch. A stream goes back to the pool only after a
 * clean DONE; any failure or early stop aborts it. Answers are checked for order and
 * completeness here; chunk contents are verified by the fetcher.
 */
export class PeerChunkSource implements ChunkSource {
  private readonly idle: Conn[] = []
  private closed = false

  constructor(
    private readonly libp2p: ClientLibp2p,
    readonly peer: PeerId,
    private readonly limits: TransferLimits
  ) {}

  /** Streams the answers for `keys` in request order (XFER-16). */
  async *fetch(keys: readonly Key[], options: AbortOptions = {}): AsyncGenerator<FetchedChunk> {
    if (this.closed) throw chunkError(ChunkCode.STOPPED, 'source closed')
    if (keys.length > this.limits.maxKeysPerRequest)
      throw xferError(XferCode.REQUEST_TOO_LARGE, 'too many keys for one request')
    const c =
      this.idle.pop() ??
      (await openChunkStream(this.libp2p, this.peer, this.limits.messageTimeoutMs, options))
    const timeoutMs = this.limits.messageTimeoutMs
    let clean = false
    try {
      await writeFrame(c.bs, encodeGet(keys), { signal: options.signal, timeoutMs })
      let next = 0
      for (;;) {
        const body = await c.reader.readParts({
          maxLength: this.limits.maxMessageLength,
          timeoutMs,
          signal: options.signal
        })
        if (body === undefined) throw xferError(XferCode.CLOSED, 'stream ended before DONE')
        // CHUNKS records come out as arrays of their own, copied once from the stream
        const msg = decodeFrameParts(body, { limits: this.limits })
        if (msg.type === 'done') {
          if (next !== keys.length)
            throw xferError(XferCode.INCOMPLETE, 'DONE before every position was answered', {
              answered: next
            })
          clean = true
          return
        }
        if (msg.type === 'error') throw peerError(joinParts(body), this.limits)
        if (msg.type === 'chunks')
          for (const rec of msg.records) {
            if (rec.index !== next || next >= keys.length) throw unsolicited(rec.index, next)
            next++
            yield { index: rec.index, bytes: rec.bytes, owned: rec.owned }
          }
        else if (msg.type === 'missing')
          for (const index of msg.indices) {
            if (index !== next || next >= keys.length) throw unsolicited(index, next)
            next++
            yield { index, missing: true }
          }
        else throw xferError(XferCode.UNEXPECTED_MESSAGE, `unexpected ${msg.type}`)
      }
    } finally {
      if (clean && !this.closed && c.stream.status === 'open') this.idle.push(c)
      else c.bs.abort()
    }
  }

  /** Half-closes the pooled streams (the provider then ends them). Idempotent. */
  async close(): Promise<void> {
    this.closed = true
    await Promise.all(this.idle.splice(0).map((c) => c.bs.close({ signal: AbortSignal.timeout(1000) })))
  }
}

function unsolicited(index: number, expected: number): Error {
  return xferError(XferCode.UNSOLICITED_CHUNK, 'answer out of order', { index, expected })
}

/** Runs one query on a fresh stream: writes `request`, reads one answer of at most `maxLength`. */
async function query<T>(
  libp2p: ClientLibp2p,
  peer: PeerId,
  limits: TransferLimits,
  request: Uint8Array,
  maxLength: number,
  decode: (body: Uint8Array) => T,
  options: AbortOptions
): Promise<T> {
  const c = await openChunkStream(libp2p, peer, limits.messageTimeoutMs, options)
  const timeoutMs = limits.messageTimeoutMs
  try {
    await writeFrame(c.bs, request, { signal: options.signal, timeoutMs })
    const body = await c.reader.read({ maxLength, timeoutMs, signal: options.signal })
    if (body === undefined) throw xferError(XferCode.CLOSED, 'stream ended before the answer')
    const out = decode(body)
    await c.bs.close(options)
    return out
  } catch (err) {
    c.bs.abort()
    throw err
  }
}

/** Asks `peer` which of `keys` it holds (HAVE, CHUNK-5); one boolean per key. */
export function queryHave(
  libp2p: ClientLibp2p,
  peer: PeerId,
  keys: readonly Key[],
  limits: TransferLimits,
  options: AbortOptions = {}
): Promise<boolean[]> {
  if (keys.length === 0) return Promise.resolve([])
  if (keys.length > limits.maxKeysPerRequest)
    throw xferError(XferCode.REQUEST_TOO_LARGE, 'too many keys for one request')
  return query(
    libp2p,
    peer,
    limits,
    encodeHave(keys),
    limits.maxMessageLength,
    (body) => {
      if (body[0] === MsgType.ERROR) throw peerError(body, limits)
      return decodeHaveReply(body, keys.length)
    },
    options
  )
}

/**
 * Asks `peer` for the manifest of `fileKey` (MANIFEST_GET, CHUNK-6). `undefined` when the
 * peer does not hold it; `CAFS_XFER_MANIFEST_MISMATCH` when it answers with another file's
 * manifest (provable misbehaviour); other `CAFS_XFER_*` codes for protocol violations.
 */
export function queryManifest(
  libp2p: ClientLibp2p,
  peer: PeerId,
  fileKey: Key,
  limits: TransferLimits,
  options: AbortOptions = {}
): Promise<Manifest | undefined> {
  return query(
    libp2p,
    peer,
    limits,
    encodeManifestGet(fileKey),
    limits.maxManifestBytes,
    (body) => {
      const msg = decodeMessage(body, { limits })
      if (msg.type === 'missing' && msg.indices.length === 1 && msg.indices[0] === 0) return undefined
      if (msg.type === 'error') throw peerError(body, limits)
      if (msg.type !== 'offer')
        throw xferError(XferCode.UNEXPECTED_MESSAGE, `expected OFFER, got ${msg.type}`)
      if (!keysEqual(msg.manifest.fileKey, fileKey))
        throw xferError(XferCode.MANIFEST_MISMATCH, 'manifest names another file')
      // Own copies as plain Uint8Arrays: the decoded keys may be Buffer views of the frame.
      const m = msg.manifest
      return {
        fileKey: Uint8Array.from(m.fileKey),
        size: m.size,
        chunks: m.chunks.map((c) => ({ key: Uint8Array.from(c.key), size: c.size }))
      }
    },
    options
  )
}

/** The error an ERROR answer stands for (`CAFS_XFER_PEER_ERROR`, or the decode failure). */
function peerError(body: Uint8Array, limits: TransferLimits): Error {
  const msg = decodeMessage(body, { limits })
  return xferError(XferCode.PEER_ERROR, 'provider reported an error', {
    remoteCode: msg.type === 'error' ? msg.code : undefined
  })
}
