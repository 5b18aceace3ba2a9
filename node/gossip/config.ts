import { type GossipsubOpts, StrictNoSign } from '@libp2p/gossipsub'
import type { Registry } from 'prom-client'
import { messageIdToStr, routerMessageId } from './adapter.js'
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
  /** GOSSIP-15 mesh degrees; default {@link DEFAULT_MESH}. The gossip bench compares others. */
  mesh?: MeshDegrees
}

/** GossipSub's mesh degrees (GOSSIP-15); GossipSub requires `Dout < Dlo` and `Dout <= D / 2`. */
export interface MeshDegrees {
  /** Target mesh peers per topic. */
  D: number
  /** Fewer mesh peers than this and the heartbeat grafts more. */
  Dlo: number
  /** More mesh peers than this and the heartbeat prunes down to `D`. */
  Dhi: number
  /** Mesh peers kept by score when pruning. */
  Dscore: number
  /** Outbound mesh peers kept when pruning. */
  Dout: number
  /** Non-mesh peers sent IHAVE gossip per heartbeat (at least). */
  Dlazy: number
}

/** GOSSIP-15 mesh degrees: GossipSub v1.1's defaults, kept after measuring smaller meshes. */
export const DEFAULT_MESH: MeshDegrees = { D: 6, Dlo: 4, Dhi: 12, Dscore: 4, Dout: 2, Dlazy: 6 }

/**
 * GOSSIP-10: largest RPC frame accepted from a peer. An RPC may batch many messages (IWANT
 * answers), so this is well above one message's limit (GOSSIP-4) but far below GossipSub's
 * default of 4 MiB.
 */
export const DEFAULT_MAX_RPC_BYTES = 1 << 20

/**
 * GossipSub settings for bitwrk (GOSSIP-2, GOSSIP-9, GOSSIP-10, GOSSIP-15): the mesh degrees,
 * `StrictNoSign` (the bid or transaction document carries its own signature, so libp2p's
 * per-message signature, which profiled as the most expensive part of a delivery, is not made
 * or checked), the message id is SHA-256 of the bytes (hashed once per message the validator
 * sees: the adapter reuses GossipSub's id), publishing to zero peers is allowed (the adapter's
 * publish waits for peers itself), peer exchange is off, and the score parameters of `score.ts`
 * apply.
 */
export function gossipsubOptions(cfg: GossipConfig = {}): Partial<GossipsubOpts> {
  return {
    ...(cfg.mesh ?? DEFAULT_MESH),
    globalSignaturePolicy: StrictNoSign,
    msgIdFn: (msg) => routerMessageId(msg.data),
    msgIdToStrFn: messageIdToStr,
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
