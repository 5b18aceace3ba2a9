/**
 * CAFS transfer: verified differential transfer of content-addressed files over any duplex
 * byte stream (push: offer → wishlist → chunks → ack), a pull protocol to fetch chunks by key,
 * and a multi-source fetcher. Transport-agnostic: see {@link ByteStream}. Wire format and rules:
 * protocol/spec/cafs-transfer.md.
 */
export { encodeVarint, MAX_VARINT_BYTES, MAX_VARINT_VALUE } from './codec.js'
export { type DeadlineOptions, withDeadline } from './deadline.js'
export {
  type ErrorCode,
  isXferError,
  MISBEHAVIOUR_CODES,
  XferCode,
  type XferDetails,
  type XferErrorCode
} from './errors.js'
export {
  type BadProviderEvent,
  DEFAULT_BATCH_BYTES,
  DEFAULT_BATCH_CHUNKS,
  DEFAULT_REQUESTS_PER_PROVIDER,
  type FetchOptions,
  type FetchResult,
  fetchFile,
  MIN_BATCH_BYTES,
  type Provider,
  type ProviderErrorEvent
} from './fetch.js'
export {
  encodeFrame,
  FrameReader,
  joinParts,
  type ReadFrameOptions,
  writeFrame,
  writeFramed
} from './framing.js'
export {
  DEFAULT_LIMITS,
  manifestBytesFor,
  maxRequestBytes,
  resolveLimits,
  type TransferLimits
} from './limits.js'
export {
  type ChunkRecord,
  type DecodeContext,
  decodeMessage,
  encodeAck,
  encodeChunks,
  encodeChunksFrame,
  encodeDone,
  encodeError,
  encodeGet,
  encodeMissing,
  encodeOffer,
  encodeWant,
  type Message,
  MsgType
} from './messages.js'
export { decodeFrameParts } from './parts.js'
export { type ReceiveOptions, type ReceiveResult, receiveFile, type XferProgress } from './receive.js'
export { type SendOptions, type SendProgress, type SendResult, sendFile } from './send.js'
export {
  INVALID_REQUEST_WINDOW_MS,
  InvalidRequestBudget,
  type InvalidRequestBudgetOptions,
  type ServeOptions,
  type ServeResult,
  serveChunks
} from './serve.js'
export {
  type ChunkSource,
  type FetchedChunk,
  type StreamOpener,
  storeChunkSource,
  streamChunkSource
} from './source.js'
export { type ByteStream, duplexByteStream } from './stream.js'
export { type IndexRange, indicesOfRanges, rangesFromIndices } from './wishlist.js'
