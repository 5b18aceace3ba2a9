/** Public surface of the node layer: libp2p host, gossip adapter, metrics, logging, persistence. */

export {
  CHUNK_PROTOCOL,
  ChunkCode,
  ChunkExchange,
  type ChunkServerOptions,
  type NetworkFetchOptions
} from '../cafs/adapters/libp2p/index.js'
export * from './api/index.js'
export { BootstrapDialer, type BootstrapTiming, DEFAULT_BOOTSTRAP_TIMING } from './bootstrap.js'
export * as demo from './demo/index.js'
export { DEFAULT_MAX_GRANTED_KEYS, TxFileAccess } from './file-access.js'
export * from './gossip/index.js'
export {
  type BitwrkHost,
  createHost,
  DHT_PROTOCOL,
  HostCodes,
  type HostOptions,
  type HostServices,
  isLoopback
} from './host.js'
export { createLogger, type LogContext, type Logger, type LoggerOptions, silentLogger } from './logger.js'
export {
  BidBook,
  type BidBookOptions,
  type BidClosedEvent,
  type BookAddResult,
  BookCodes,
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
  MarketCodes,
  type MarketEvents,
  type MarketMetrics,
  type MarketOptions,
  MarketTxChannel,
  MarketTxCodes,
  type MatchEvent,
  NodeTradeCode,
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
  NodeCodes
} from './node.js'
export * from './reputation/index.js'
export * from './store/index.js'
export * from './sync/index.js'
export {
  type BuyOptions,
  type BuyResult,
  type BuyStats,
  DEFAULT_TRADE_LIMITS,
  decryptResult,
  encryptResult,
  MemoryTxChannel,
  MemoryTxNetwork,
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
