import { type GossipsubOpts, StrictNoSign } from '@libp2p/gossipsub'
import type { Registry } from 'prom-client'
import { messageId } from './adapter.js'
import { gossipsubMetricsRegister, TopicKindLabels } from './libp2p-metrics.js'
import { peerScoreParams, SCORE_THRESHOLDS, type ScoreOptions } from './score.js'

/** Options of {@link gossipsubOptions}. */
export interface GossipConfig extends ScoreOptions {
  /** GossipSub heartbeat, ms; default 1000 (GossipSub default). Tests shorten it. */
  heartbeatIntervalMs?: number
  /** GOSSIP-4: longest RPC frame read from a peer, bytes; default 1 MiB. */
  maxRpcBytes?: number
  /**
   * Registry for GossipSub's own `gossipsub_*` metrics (topic labels reduced to the topic
   * kind). Omit to run GossipSub without metrics. One GossipSub per registry.
   */
  metricsRegistry?: Registry
}

/**
 * GOSSIP-10: largest RPC frame accepted from a peer. An RPC may batch many messages (IWANT
 * answers), so this is well above one message's limit (GOSSIP-4) but far below GossipSub's
 * default of 4 MiB.
 */
export const DEFAULT_MAX_RPC_BYTES = 1 << 20

/**
 * GossipSub settings for bitwrk (GOSSIP-2, GOSSIP-9, GOSSIP-10): `StrictNoSign` (the bid or
 * transaction document carries its own signature, so libp2p's per-message signature, which
 * profiled as the most expensive part of a delivery, is not made or checked), the message id
 * is SHA-256 of the bytes, publishing to zero peers is allowed (the adapter's publish waits for
 * peers itself), peer exchange is off, and the score parameters of `score.ts` apply.
 */
export function gossipsubOptions(cfg: GossipConfig = {}): Partial<GossipsubOpts> {
  return {
    globalSignaturePolicy: StrictNoSign,
    msgIdFn: (msg) => messageId(msg.data),
    msgIdToStrFn: (id) => Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex'),
    allowPublishToZeroTopicPeers: true,
    emitSelf: false,
    doPX: false,
    fallbackToFloodsub: false,
    heartbeatInterval: cfg.heartbeatIntervalMs ?? 1000,
    maxInboundDataLength: cfg.maxRpcBytes ?? DEFAULT_MAX_RPC_BYTES,
    scoreParams: peerScoreParams(cfg),
    scoreThresholds: SCORE_THRESHOLDS,
    ...(cfg.metricsRegistry !== undefined
      ? {
          metricsRegister: gossipsubMetricsRegister(cfg.metricsRegistry),
          metricsTopicStrToLabel: new TopicKindLabels()
        }
      : {})
  }
}
