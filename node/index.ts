/** Public surface of the node layer: libp2p host, gossip adapter, metrics, logging, persistence. */

export * from './api/index.js'
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
