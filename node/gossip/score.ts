import type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from '@libp2p/gossipsub/score'

/**
 * GOSSIP-9: score thresholds. Defaults of GossipSub v1.1 for gossip/publish/graylist, which
 * the bid-topic weights below are sized against:
 * - below `gossipThreshold` (-10) we neither gossip IHAVE to the peer nor accept its gossip;
 * - below `publishThreshold` (-50) we do not flood-publish our own messages to it;
 * - below `graylistThreshold` (-80) every RPC from it is dropped unread.
 * PX is not used (`doPX` is off), so `acceptPXThreshold` is set out of reach.
 */
export const SCORE_THRESHOLDS: PeerScoreThresholds = {
  gossipThreshold: -10,
  publishThreshold: -50,
  graylistThreshold: -80,
  acceptPXThreshold: 1000,
  opportunisticGraftThreshold: 5
}

/** GOSSIP-9: the decay interval of all score counters, ms (GossipSub default). */
export const SCORE_DECAY_INTERVAL_MS = 1000

/** GOSSIP-9: half-life of the invalid-message counter: 10 minutes, in decay intervals. */
const INVALID_HALF_LIFE_INTERVALS = 600

/**
 * GOSSIP-9: score parameters of one bid or transaction topic.
 * - P4 invalid messages: weight -10 per invalid² with a 10 min half-life. One reject puts the
 *   sender at -10 (gossip stops only strictly below), four rejects put even a peer holding the
 *   full positive credit (+10, the topic score cap) at -150, below the graylist (-80).
 * - P3/P3b mesh-delivery penalties are OFF (weight 0): bids arrive a few per minute per
 *   article, so an honest mesh peer has nothing to deliver most of the time and must not be
 *   punished for a quiet topic (DESIGN.md §4).
 * - P1 time in mesh: +0.01 per second, capped at 10 min (+6); P2 first deliveries: +0.5 each,
 *   cap 20, decaying 1 %/s. Both are small positive credit for honest relays; the global
 *   `topicScoreCap` (10) bounds what a peer can bank before misbehaving.
 */
export const TOPIC_SCORE_PARAMS: TopicScoreParams = {
  topicWeight: 1,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1000,
  timeInMeshCap: 600,
  firstMessageDeliveriesWeight: 0.5,
  firstMessageDeliveriesDecay: 0.99,
  firstMessageDeliveriesCap: 20,
  meshMessageDeliveriesWeight: 0,
  meshMessageDeliveriesDecay: 0.5,
  meshMessageDeliveriesCap: 1,
  meshMessageDeliveriesThreshold: 1,
  meshMessageDeliveriesWindow: 10,
  meshMessageDeliveriesActivation: 5000,
  meshFailurePenaltyWeight: 0,
  meshFailurePenaltyDecay: 0.5,
  invalidMessageDeliveriesWeight: -10,
  invalidMessageDeliveriesDecay: 0.5 ** (1 / INVALID_HALF_LIFE_INTERVALS)
}

/** Options of {@link peerScoreParams}. */
export interface ScoreOptions {
  /** P5 application score of a peer (hook for reputation); default 0 for everyone. */
  appSpecificScore?: (peerId: string) => number
  /**
   * IP addresses exempt from the IP-colocation penalty (P6). A loopback testnet runs every
   * node on 127.0.0.1, which would otherwise push all peers negative beyond 10 of them.
   */
  ipColocationWhitelist?: Iterable<string>
}

/**
 * GOSSIP-9: the global peer-score parameters. `topics` starts empty: the gossip adapter adds
 * {@link TOPIC_SCORE_PARAMS} for each bitwrk topic it subscribes to, because GossipSub only
 * lowers a score for a Reject on topics listed here (DESIGN.md §4).
 */
export function peerScoreParams(opts: ScoreOptions = {}): Partial<PeerScoreParams> {
  return {
    topics: {},
    topicScoreCap: 10,
    appSpecificScore: opts.appSpecificScore ?? (() => 0),
    appSpecificWeight: 1,
    IPColocationFactorWeight: -5,
    IPColocationFactorThreshold: 10,
    IPColocationFactorWhitelist: new Set(opts.ipColocationWhitelist ?? []),
    // GossipSub defaults: broken IWANT promises and early re-grafts cost (count²)·-10
    behaviourPenaltyWeight: -10,
    behaviourPenaltyThreshold: 0,
    behaviourPenaltyDecay: 0.2,
    decayInterval: SCORE_DECAY_INTERVAL_MS,
    decayToZero: 0.01,
    // a peer that disconnects keeps its (bad) score for an hour (GossipSub default)
    retainScore: 3600 * 1000
  }
}
