/**
 * Public surface of the node layer (`bitwrk-node`): the node, the daemon, the local API and the
 * parts they are built from (libp2p host, gossip adapter, market, trade, sync, metrics, logging,
 * persistence), their codecs and error codes. Test doubles and testnet helpers are not part of
 * it: they live in `bitwrk-node/testing` (node/testing.ts).
 */

export {
  CHUNK_PROTOCOL,
  ChunkCode,
  ChunkExchange,
  type ChunkServerOptions,
  type NetworkFetchOptions
} from '../cafs/adapters/libp2p/index.js'
export * from './api/index.js'
export * as blender from './blender/index.js'
export * from './content/index.js'
export {
  DAEMON_FILE_NAME,
  DAEMON_VERSION,
  type Daemon,
  type DaemonInfo,
  type DaemonOptions,
  DEFAULT_ARTICLES,
  DEFAULT_LISTEN,
  peersView,
  startDaemon,
  statusView
} from './daemon/index.js'
export * as demo from './demo/index.js'
export * from './gossip/index.js'
export {
  type AddressScope,
  announceable,
  dialable,
  isCircuit,
  localScopes,
  relayPeerOf,
  scopeOf
} from './host/addresses.js'
export { BootstrapDialer, type BootstrapTiming, DEFAULT_BOOTSTRAP_TIMING } from './host/bootstrap.js'
export {
  type BitwrkHost,
  createHost,
  DHT_PEER_TAG_INTERVAL_MS,
  DHT_PROTOCOL,
  HostCode,
  type HostOptions,
  type HostServices,
  isLoopback
} from './host/host.js'
export {
  type ConnectionKind,
  connectionKind,
  type NetworkStatus,
  NO_RELAY_GRACE_MS
} from './host/network.js'
export { type Reachability, reachabilityOf } from './host/reachability.js'
export {
  RELAY_CIRCUITS_PER_PEER,
  RELAY_DATA_LIMIT_BYTES,
  RELAY_DURATION_LIMIT_MS,
  RELAY_MAX_RESERVATIONS,
  RELAY_RESERVATION_TTL_MS
} from './host/relay.js'
export { createLogger, type LogContext, type Logger, type LoggerOptions, silentLogger } from './logger.js'
export {
  BidBook,
  type BidBookOptions,
  type BidClosedEvent,
  type BookAddResult,
  BookCode,
  type BookEpoch,
  type BookMatch,
  type BookSyncOptions,
  type BuyerWork,
  type BuyWorkOptions,
  type BuyWorkResult,
  bookSyncAdapters,
  buyWork,
  createMarketMetrics,
  DEFAULT_BOOK_LIMITS,
  DEFAULT_HISTORY_EPOCHS,
  type EpochEvent,
  type LiveBid,
  Market,
  MarketCode,
  type MarketEvents,
  type MarketMetrics,
  type MarketOptions,
  MarketTxChannel,
  MarketTxCode,
  type MatchEvent,
  NodeTradeCode,
  OWN_BIDS_PER_EPOCH,
  type OwnBid,
  type PlaceBidRequest,
  type RefusedEvent,
  TransactionFollower,
  type TxEntry,
  type TxEvent,
  type TxPhaseEvent,
  type WorkFunction,
  wireSeller
} from './market/index.js'
export { codeLabel, createMetrics, type NodeMetrics, type TopicKindLabel } from './metrics.js'
export {
  type BitwrkNode,
  type BitwrkNodeOptions,
  createBitwrkNode,
  NodeCode,
  type NodeContent,
  type NodeContentOptions
} from './node.js'
export * from './reputation/index.js'
// the store and sync layers minus their test doubles (those are in node/testing.ts)
export {
  type BidPruneResult,
  BidRepository,
  type BidSide,
  BUCKET_TABLE,
  Bucket,
  type BucketEntry,
  type BucketName,
  CHECKSUM_BYTES,
  CHUNKS_DIR_NAME,
  COUNTER_NAMES,
  type CounterName,
  type Counters,
  checkDataDir,
  checkSchema,
  createKeyFile,
  DATA_DIR_MODE,
  type DataDir,
  type DataDirOptions,
  DB_DIR_NAME,
  DEFAULT_MAX_FILES,
  DEFAULT_MAX_PEERS,
  decodeFile,
  duplicateBuckets,
  ensureDataDir,
  FileRepository,
  fileKeyOf,
  holdPrivateUmask,
  KEY_FILE_MODE,
  KEY_FILE_NAME,
  type KvController,
  type KvOp,
  type KvRange,
  type Listing,
  loadKeyFile,
  loadOrCreateIdentity,
  MAX_EVIDENCE_IDS,
  MAX_PEER_ADDRS,
  MAX_SETTING_BYTES,
  MAX_STORED_BID_BYTES,
  MAX_TX_MESSAGES,
  type MemoryBacking,
  migrateSchema,
  type OpenReport,
  type OwnerOptions,
  openDataDir,
  openLevelController,
  openStore,
  PeerRepository,
  type PermissionReport,
  PRIVATE_UMASK,
  type RecoveryReport,
  type Repositories,
  type ReputationDelta,
  type ReputationRecord,
  ReputationRepository,
  repairDataDir,
  SCHEMA_VERSION,
  type SchemaMigration,
  SettingsRepository,
  StoreCode,
  type StoredBid,
  type StoredPeer,
  type StoredTxMessage,
  type StoreErrorCode,
  type StoreFault,
  type StoreOptions,
  type Subject,
  type Subscription,
  TransactionRepository,
  type TxHeader,
  USED_MARK_RETENTION_MS,
  type UsedMark,
  type WriteOptions,
  ZERO_COUNTERS
} from './store/index.js'
export {
  bucketDigest,
  bucketOf,
  chooseBits,
  chooseSnapshot,
  createSyncMetrics,
  DEFAULT_SYNC_LIMITS,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  isSyncError,
  MsgType,
  resolveSyncLimits,
  type SnapshotHeader,
  SYNC_MAX_INBOUND_STREAMS,
  SYNC_MAX_OUTBOUND_STREAMS,
  SYNC_MAX_PEER_STREAMS,
  SYNC_MAX_TOTAL_STREAMS,
  SYNC_MISBEHAVIOUR_CODES,
  SYNC_PARALLEL_ARTICLES,
  SYNC_PROTOCOL,
  type SyncAddResult,
  type SyncBook,
  SyncCode,
  type SyncEntry,
  type SyncErrorCode,
  type SyncLibp2p,
  type SyncLimits,
  type SyncMessage,
  type SyncMetrics,
  type SyncPeerReport,
  type SyncRequest,
  type SyncResponse,
  type SyncResult,
  SyncService,
  type SyncServiceOptions,
  type SyncSnapshots,
  type SyncValidationOptions,
  validateSyncedBid
} from './sync/index.js'
export {
  type BuyOptions,
  type BuyResult,
  type BuyStats,
  DEFAULT_TRADE_LIMITS,
  decryptResult,
  encryptResult,
  type SellResult,
  TRADE_PROTOCOL,
  type TradeClock,
  TradeCode,
  type TradeErrorCode,
  type TradeLimits,
  TradeService,
  type TradeServiceInit,
  type TradeWorker,
  type TxChannel
} from './trade/index.js'
