/**
 * protocol/reputation: scores from verifiable evidence, equivocation proofs and adaptive
 * replication (spec: protocol/spec/reputation.md). Pure: time is an argument.
 */

export {
  type BidReuseContext,
  CONFLICT_SLOTS,
  canonicalProof,
  decodeEquivocation,
  EQUIVOCATION_CASES,
  EQUIVOCATION_KIND,
  type EquivocationCase,
  type EquivocationDecodeResult,
  type EquivocationOptions,
  type EquivocationProof,
  type EquivocationValidation,
  type EquivocationVerdict,
  encodeEquivocation,
  equivocationId,
  MAX_EQUIVOCATION_BYTES,
  MAX_EQUIVOCATION_HEADER_BYTES,
  messagesConflict,
  type SignedDocument,
  validateEquivocation,
  verifyEquivocation
} from './equivocation.js'
export {
  type EquivocationRefusalCode,
  ReputationCode,
  type ReputationErrorCode
} from './errors.js'
export {
  equivocationEvent,
  groupEvents,
  type LocalCounter,
  localEvent,
  RETIREMENT_EVENTS,
  type ReputationEvent,
  type ReputationSubject,
  type SubjectDelta,
  transactionEvents
} from './evidence.js'
export { type Judgement, judge, MAX_OPINIONS, QUORUM, shouldReplicate } from './replication.js'
export {
  type Assessment,
  assess,
  checkThresholds,
  DEFAULT_THRESHOLDS,
  decayFactor,
  EVENT_SCOPE,
  EVENT_WEIGHTS,
  evidenceWeights,
  GOSSIP_APP_SCORE,
  gossipAppScore,
  HALF_LIFE_MS,
  POSITIVE_CAP,
  REPUTATION_COUNTERS,
  type ReputationCounter,
  type ReputationCounters,
  type ReputationInput,
  SCORE_PRIOR,
  scoreOf,
  type Thresholds
} from './score.js'
