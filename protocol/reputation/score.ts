/**
 * Reputation arithmetic (spec REP-1 … REP-6, REP-9): counters of events per subject, their
 * weights, exponential decay, the bounded score, the thresholds that act on it, and the
 * GossipSub application-specific score. Pure: time is an argument.
 */
import { ReputationCode, reputationError } from './errors.js'

/**
 * The counters kept per subject, in the order of the node's store (node/store/reputation.ts,
 * `COUNTER_NAMES`; a test holds the two lists equal). Each counter counts one event kind.
 */
export const REPUTATION_COUNTERS = [
  'finished',
  'noShows',
  'latePhases',
  'rejectedWork',
  'rejectedResults',
  'wrongChunks',
  'invalidGossip',
  'equivocations'
] as const

/** An event kind = the counter it increments. */
export type ReputationCounter = (typeof REPUTATION_COUNTERS)[number]

/** Counter values of one subject (non-negative safe integers). */
export type ReputationCounters = Readonly<Record<ReputationCounter, number>>

/** What a score is computed from: the stored record of a subject (structurally the store's record). */
export interface ReputationInput {
  /** Event counts. */
  readonly counters: ReputationCounters
  /** When a counter last changed, ms since the epoch; decay runs from here (REP-3). */
  readonly lastUpdatedMs: number
}

/**
 * Weight of one event of each kind, in units of one finished transaction (REP-2). Rationale:
 * - `finished` +1: the unit. A transaction retired with the seller paid after a delivery.
 * - `noShows` −2: a matched party never established; it cost the other the 60 s establish
 *   window. Views can disagree honestly (invariant 5), so it weighs least of the failures.
 * - `latePhases` −4: an established party let a phase in which its move was due time out,
 *   blocking the other for up to 2, 5 or 15 minutes (TX-13); only a crash excuses it.
 * - `rejectedWork`, `rejectedResults` −3: a signed rejection proves a dispute, not who is right,
 *   so both parties are charged (REP-7); a false rejection costs the rejecter as much as its
 *   victim, and a party often in disputes is suspicious on either side.
 * - `wrongChunks` −5: a chunk whose bytes do not hash to its key (invariant 8) is provable
 *   misbehaviour, but only the receiver saw it (local, REP-5).
 * - `invalidGossip` −2: a Rejected gossip message (invariant 3); GossipSub already penalises it
 *   per topic (P4), so the reputation weight is mild.
 * - `equivocations` 0: not weighed; a verified proof pins the score at −1 (REP-4).
 */
export const EVENT_WEIGHTS: Readonly<Record<ReputationCounter, number>> = Object.freeze({
  finished: 1,
  noShows: -2,
  latePhases: -4,
  rejectedWork: -3,
  rejectedResults: -3,
  wrongChunks: -5,
  invalidGossip: -2,
  equivocations: 0
})

/**
 * Where an event kind may come from (REP-5): `global` only from signed evidence any node can
 * check (a retired transaction's messages, an equivocation proof); `local` only from the
 * node's own observation, never from another node's claim; `both` for kinds a node may also
 * observe itself (a stall it can prove to itself, a result a third opinion contradicted).
 */
export const EVENT_SCOPE: Readonly<Record<ReputationCounter, 'global' | 'local' | 'both'>> = Object.freeze({
  finished: 'global',
  noShows: 'global',
  latePhases: 'both',
  rejectedWork: 'global',
  rejectedResults: 'both',
  wrongChunks: 'local',
  invalidGossip: 'local',
  equivocations: 'global'
})

/**
 * Half-life of every count (REP-3): 7 days. A node that was offline for a night keeps its
 * standing; a participant that misbehaved and then stopped trading is forgiven after a few
 * weeks (its score is back within 1/8 of neutral after 21 days).
 */
export const HALF_LIFE_MS = 7 * 24 * 60 * 60 * 1000

/**
 * Pseudo-count of the score denominator (REP-4): a newcomer is neutral (0) and needs this
 * many weight units of evidence before its score reaches ±0.5.
 */
export const SCORE_PRIOR = 4

/**
 * Most positive weight a subject can bank (REP-4), counted before decay: 20 finished
 * transactions. Like GossipSub's topic score cap, it bounds what farmed or old good behaviour
 * can offset, so misbehaviour always moves the score.
 */
export const POSITIVE_CAP = 20

/** Thresholds on the score (REP-6); each in [−1, 1] with blocked < establishMin <= lowTrust. */
export interface Thresholds {
  /** At or below: blocked (no transaction, gossip app score at its minimum). */
  readonly blocked: number
  /** Below: the node does not establish a transaction with the subject. */
  readonly establishMin: number
  /** Below: low trust; deterministic work from such a seller is replicated (REP-17). */
  readonly lowTrust: number
}

/**
 * Default thresholds (REP-6). With {@link SCORE_PRIOR} 4 and no positive evidence:
 * blocked at −0.75 = three late phases (12 units); no establishing below −0.5 = three
 * no-shows or two late phases; low trust below 0.5 = fewer than 4 finished transactions'
 * worth of net evidence, so newcomers are replicated (BOINC adaptive replication, DESIGN.md §4).
 */
export const DEFAULT_THRESHOLDS: Thresholds = Object.freeze({
  blocked: -0.75,
  establishMin: -0.5,
  lowTrust: 0.5
})

/** Throws REP_BAD_ARGUMENT unless −1 <= blocked < establishMin <= lowTrust <= 1; returns `t`. */
export function checkThresholds(t: Thresholds): Thresholds {
  const ok =
    [t.blocked, t.establishMin, t.lowTrust].every((v) => Number.isFinite(v) && v >= -1 && v <= 1) &&
    t.blocked < t.establishMin &&
    t.establishMin <= t.lowTrust
  if (!ok) throw reputationError(ReputationCode.BAD_ARGUMENT, 'thresholds out of order or range')
  return t
}

/**
 * Decay factor after `elapsedMs` (REP-3): 2^(−elapsed / half-life), exactly 1/2 after one
 * half-life; 1 for elapsed <= 0 (a clock behind the record must not make evidence grow).
 */
export function decayFactor(elapsedMs: number): number {
  if (!Number.isFinite(elapsedMs))
    throw reputationError(ReputationCode.BAD_ARGUMENT, 'elapsed time not finite')
  return elapsedMs <= 0 ? 1 : 2 ** (-elapsedMs / HALF_LIFE_MS)
}

function checkInput(r: ReputationInput, nowMs: number): void {
  if (!Number.isSafeInteger(nowMs) || !Number.isSafeInteger(r.lastUpdatedMs) || r.lastUpdatedMs < 0)
    throw reputationError(ReputationCode.BAD_ARGUMENT, 'times must be safe integers')
  for (const n of REPUTATION_COUNTERS) {
    const v = r.counters[n]
    if (!Number.isSafeInteger(v) || v < 0)
      throw reputationError(ReputationCode.BAD_ARGUMENT, `counter ${n} is not a non-negative integer`)
  }
}

/** Positive and negative evidence in weight units, before decay (REP-4). */
export function evidenceWeights(counters: ReputationCounters): { positive: number; negative: number } {
  let positive = 0
  let negative = 0
  for (const n of REPUTATION_COUNTERS) {
    const w = EVENT_WEIGHTS[n] * counters[n]
    if (w > 0) positive += w
    else negative -= w
  }
  return { positive: Math.min(positive, POSITIVE_CAP), negative }
}

/**
 * The score of a subject at `nowMs` (REP-4), in [−1, 1): −1 when it equivocated, else
 * f·(P − N) / (f·(P + N) + {@link SCORE_PRIOR}) with P the positive weight (capped at
 * {@link POSITIVE_CAP}), N the negative weight and f the {@link decayFactor} since
 * `lastUpdatedMs`. 0 is neutral (no evidence); time moves every score towards 0. Throws
 * REP_BAD_ARGUMENT for counters that are not non-negative safe integers or bad times.
 */
export function scoreOf(r: ReputationInput, nowMs: number): number {
  checkInput(r, nowMs)
  if (r.counters.equivocations > 0) return -1
  const { positive, negative } = evidenceWeights(r.counters)
  const f = decayFactor(nowMs - r.lastUpdatedMs)
  return (f * (positive - negative)) / (f * (positive + negative) + SCORE_PRIOR)
}

/** What the node does with a subject (REP-6). */
export interface Assessment {
  /** The score (REP-4). */
  readonly score: number
  /** A verified equivocation proof exists (REP-4: permanent, never decays). */
  readonly equivocated: boolean
  /** Equivocated, or score <= thresholds.blocked. */
  readonly blocked: boolean
  /** Not blocked and score >= thresholds.establishMin. */
  readonly canEstablish: boolean
  /** score < thresholds.lowTrust (replicate deterministic work, REP-17). */
  readonly lowTrust: boolean
}

/** Assesses a subject at `nowMs` against `thresholds` (REP-6). A subject with no record is `{counters: 0…}`. */
export function assess(
  r: ReputationInput,
  nowMs: number,
  thresholds: Thresholds = DEFAULT_THRESHOLDS
): Assessment {
  checkThresholds(thresholds)
  const score = scoreOf(r, nowMs)
  const equivocated = r.counters.equivocations > 0
  const blocked = equivocated || score <= thresholds.blocked
  return Object.freeze({
    score,
    equivocated,
    blocked,
    canEstablish: !blocked && score >= thresholds.establishMin,
    lowTrust: score < thresholds.lowTrust
  })
}

/**
 * Range of the GossipSub application-specific score (P5, with `appSpecificWeight` 1; REP-9),
 * sized against the node's thresholds (node/gossip/score.ts: gossip −10, publish −50,
 * graylist −80, topic score cap +10):
 * - `max` +5: trust earns less than the topic cap, so it never shields a peer from the
 *   invalid-message penalty (P4, −10 per invalid²);
 * - `min` −40: the most a not-blocked subject loses; from score −0.25 on (−10) we stop
 *   exchanging gossip with it, but it can still publish to us;
 * - `blocked` −100: below graylist even with the full topic credit (−100 + 10 < −80), so its
 *   RPCs are dropped unread.
 */
export const GOSSIP_APP_SCORE = Object.freeze({ max: 5, min: -40, blocked: -100 })

/**
 * The application-specific score of a peer (REP-9) from the assessments of its subjects (its
 * peer record and the participant record of the same key, invariant 2): the worst one counts.
 * Blocked → {@link GOSSIP_APP_SCORE}.blocked; else score·max for score >= 0 and
 * score·(−min) for score < 0. No assessment (an unknown peer) is 0.
 */
export function gossipAppScore(assessments: readonly Assessment[]): number {
  if (assessments.length === 0) return 0
  let worst = Number.POSITIVE_INFINITY
  for (const a of assessments) {
    const s = a.blocked
      ? GOSSIP_APP_SCORE.blocked
      : a.score >= 0
        ? a.score * GOSSIP_APP_SCORE.max
        : a.score * -GOSSIP_APP_SCORE.min
    worst = Math.min(worst, s)
  }
  return worst
}
