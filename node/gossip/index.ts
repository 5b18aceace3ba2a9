/** Public surface of the gossip layer: topic names, the validation adapter, GossipSub settings. */
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_SEEN_CACHE,
  GossipAdapter,
  type GossipAdapterEvents,
  type GossipAdapterOptions,
  type GossipMessage,
  messageId,
  messageIdHex,
  type PublishOptions,
  type PublishOutcome
} from './adapter.js'
export { DEFAULT_BAN_MS, MAX_BANNED_PEERS, PeerBans } from './ban.js'
export { type BidTopicValidatorOptions, bidTopicValidator, DEFAULT_MAX_CLOCK_SKEW_MS } from './bids.js'
export {
  DEFAULT_MAX_RPC_BYTES,
  DEFAULT_MESH,
  type GossipConfig,
  gossipsubOptions,
  type MeshDegrees
} from './config.js'
export { gossipsubMetricsRegister, TopicKindLabels, topicKindLabel } from './libp2p-metrics.js'
export { DEFAULT_QUEUE, type QueueOptions, ValidationQueue } from './queue.js'
export { DEFAULT_RATE_LIMIT, PeerRateLimiter, type RateLimitOptions, type RateVerdict } from './rate-limit.js'
export {
  peerScoreParams,
  SCORE_DECAY_INTERVAL_MS,
  SCORE_THRESHOLDS,
  type ScoreOptions,
  TOPIC_SCORE_PARAMS
} from './score.js'
export { SeenCache, type SeenVerdict } from './seen-cache.js'
export {
  BIDS_TOPIC_PREFIX,
  bidTopic,
  EVIDENCE_TOPIC,
  isValidArticle,
  MAX_ARTICLE_LENGTH,
  type ParsedTopic,
  parseTopic,
  TX_TOPIC_PREFIX,
  txTopic
} from './topics.js'
export {
  GossipCode,
  type GossipErrorCode,
  type MessageValidator,
  type TopicKind,
  type ValidationContext,
  type ValidationResult
} from './types.js'
