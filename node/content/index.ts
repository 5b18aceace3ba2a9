/**
 * The node's content (protocol/spec/chunk-exchange.md CHUNK-14, CHUNK-16 … CHUNK-20): who may
 * read a transaction's files, which files are public (provided on the DHT), and the gateway
 * that fetches files by key.
 */
export { DEFAULT_MAX_GRANTED_KEYS, TxFileAccess } from './file-access.js'
export {
  ContentCode,
  type ContentErrorCode,
  ContentGateway,
  type ContentGatewayOptions,
  contentError,
  type FetchView,
  GATEWAY_DEFAULTS,
  type GatewayFileIndex,
  type GatewayLimits
} from './gateway.js'
export {
  PROVIDE_DEFAULTS,
  PROVIDE_REASONS,
  type ProvidedEntry,
  ProvidedFiles,
  type ProvidedFilesOptions,
  type ProvideLimits,
  type ProvideReason
} from './provided.js'
