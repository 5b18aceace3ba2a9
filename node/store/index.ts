/**
 * Persistence of a node in one data directory (layout: node/store/README.md): a LevelDB (or
 * in-memory) controller with one-byte buckets and a schema version, and the repositories of
 * own bids, transactions, peers, reputation and subscriptions, plus the key file.
 */
export {
  type BidPruneResult,
  BidRepository,
  type BidSide,
  MAX_STORED_BID_BYTES,
  type StoredBid,
  USED_MARK_RETENTION_MS,
  type UsedMark
} from './bids.js'
export { BUCKET_TABLE, type BucketEntry, duplicateBuckets } from './buckets.js'
export { CHECKSUM_BYTES } from './codec.js'
export {
  CHUNKS_DIR_NAME,
  type DataDir,
  type DataDirOptions,
  DB_DIR_NAME,
  type OpenReport,
  openDataDir,
  openStore,
  type Repositories,
  type StoreOptions
} from './data-dir.js'
export {
  Bucket,
  type BucketName,
  checkSchema,
  createMemoryBacking,
  createMemoryController,
  type KvController,
  type KvOp,
  type KvRange,
  type MemoryBacking,
  openLevelController,
  SCHEMA_VERSION,
  type WriteOptions
} from './db.js'
export { type Listing, StoreCode, type StoreErrorCode, type StoreFault } from './errors.js'
export { DEFAULT_MAX_FILES, decodeFile, FileRepository, fileKeyOf } from './files.js'
export {
  createKeyFile,
  DATA_DIR_MODE,
  ensureDataDir,
  KEY_FILE_MODE,
  KEY_FILE_NAME,
  loadKeyFile,
  loadOrCreateIdentity
} from './identity.js'
export { migrateSchema, type SchemaMigration } from './migrate.js'
export { DEFAULT_MAX_PEERS, MAX_PEER_ADDRS, PeerRepository, type StoredPeer } from './peers.js'
export {
  checkDataDir,
  holdPrivateUmask,
  type OwnerOptions,
  type PermissionReport,
  PRIVATE_UMASK,
  repairDataDir
} from './permissions.js'
export {
  COUNTER_NAMES,
  type CounterName,
  type Counters,
  MAX_EVIDENCE_IDS,
  type ReputationDelta,
  type ReputationRecord,
  ReputationRepository,
  type Subject,
  ZERO_COUNTERS
} from './reputation.js'
export { MAX_SETTING_BYTES, SettingsRepository, type Subscription } from './settings.js'
export {
  MAX_TX_MESSAGES,
  type RecoveryReport,
  type StoredTxMessage,
  TransactionRepository,
  type TxHeader
} from './transactions.js'
