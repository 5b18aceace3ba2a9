/** Public surface of the node layer: libp2p host, gossip adapter, metrics, logging, persistence. */
export { BootstrapDialer, type BootstrapTiming, DEFAULT_BOOTSTRAP_TIMING } from './bootstrap.js'
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
export { codeLabel, createMetrics, type NodeMetrics, type TopicKindLabel } from './metrics.js'
export * from './store/index.js'
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
