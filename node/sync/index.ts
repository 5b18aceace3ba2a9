/** Public surface of bid sync (protocol/spec/sync.md): late joiners pull the live book. */
export {
  MemorySyncBook,
  type SyncAddResult,
  type SyncBook,
  type SyncEntry,
  type SyncSnapshots,
  type SyncValidationOptions,
  validateSyncedBid
} from './book.js'
export {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  MsgType,
  type SnapshotHeader,
  type SyncMessage,
  type SyncRequest,
  type SyncResponse
} from './codec.js'
export { bucketDigest, bucketOf, chooseBits } from './digest.js'
export {
  isSyncError,
  SYNC_MISBEHAVIOUR_CODES,
  SyncCode,
  type SyncDetails,
  type SyncErrorCode
} from './errors.js'
export {
  DEFAULT_SYNC_LIMITS,
  resolveSyncLimits,
  SYNC_MAX_INBOUND_STREAMS,
  SYNC_MAX_OUTBOUND_STREAMS,
  SYNC_MAX_PEER_STREAMS,
  SYNC_MAX_TOTAL_STREAMS,
  SYNC_PARALLEL_ARTICLES,
  SYNC_PROTOCOL,
  type SyncLimits
} from './limits.js'
export { MemorySyncSnapshots } from './memory-snapshots.js'
export { createSyncMetrics, type SyncMetrics } from './metrics.js'
export {
  type SyncLibp2p,
  type SyncPeerReport,
  type SyncResult,
  SyncService,
  type SyncServiceOptions
} from './service.js'
export { chooseSnapshot } from './snapshot.js'
