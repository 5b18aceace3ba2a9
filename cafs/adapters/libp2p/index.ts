/**
 * The libp2p adapter of CAFS (DESIGN.md §1: the only place in `cafs/` that imports libp2p):
 * a libp2p stream as a CAFS {@link ByteStream}, the chunk-exchange protocol
 * `/bitwrk/chunk/1.0.0`, DHT provider records for file keys, and a multi-source network fetch.
 * Wire format and rules: protocol/spec/chunk-exchange.md.
 */
export { type ChunkAccessPolicy, type ForbiddenEvent, readableView } from './access.js'

export {
  capReason,
  InboundStreamCaps,
  type StreamCapScope,
  type StreamCaps,
  type StreamGuardReason,
  type StreamRefusedHandler
} from './caps.js'
export { type ClientLibp2p, openChunkStream, PeerChunkSource, queryHave, queryManifest } from './client.js'
export {
  DHT_DEFAULTS,
  type DhtLibp2p,
  type DhtOptions,
  type FindProvidersOptions,
  findFileProviders,
  provideFile
} from './dht.js'
export { ChunkCode, type ChunkErrorCode } from './errors.js'
export { ChunkExchange, type ExchangeLibp2p } from './exchange.js'
export {
  type BadPeerEvent,
  DEFAULT_MAX_PROVIDERS,
  type FetchLibp2p,
  fetchFileFromNetwork,
  type NetworkFetchOptions,
  type NetworkFetchResult,
  type PeerErrorEvent,
  SWARM_BATCH_BYTES,
  SWARM_LOOKUP_PROVIDERS
} from './fetch.js'
export {
  CHUNK_SERVER_DEFAULTS,
  ChunkServer,
  type ChunkServerOptions,
  type InvalidRequestEvent,
  type ManifestLookup,
  type ServerLibp2p
} from './server.js'
export {
  BULK_UNREAD_BYTES,
  type ByteStreamOptions,
  type LimitedByteStream,
  libp2pByteStream,
  MAX_STREAM_WINDOW_BYTES
} from './stream.js'
export {
  CHUNK_PROTOCOL,
  decodeHave,
  decodeHaveReply,
  decodeManifestGet,
  encodeHave,
  encodeHaveReply,
  encodeManifestGet,
  QueryType
} from './wire.js'
