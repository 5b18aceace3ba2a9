/** Public surface of the deterministic epoch matching engine (protocol/spec/matching.md). */
export { checkMatchableBid, OrderBook } from './book.js'
export { chainDigest, encodeEpochRecord, GENESIS_DIGEST, MATCH_DIGEST_DOMAIN } from './digest.js'
export {
  checkEpochParams,
  epochClosesAtMs,
  epochEndMs,
  epochOf,
  expiryEpochOf,
  isLate,
  lastClosedEpoch
} from './epoch.js'
export { matchableOf } from './matchable.js'
export { Matcher } from './matcher.js'
export {
  type AddResult,
  type BookSnapshot,
  DEFAULT_EPOCH_PARAMS,
  type EpochParams,
  type EpochResult,
  type Match,
  type MatchableBid,
  type MatchableCancel,
  MatchCode,
  type MatchErrorCode,
  type MatchIgnoreCode,
  type Side
} from './types.js'
