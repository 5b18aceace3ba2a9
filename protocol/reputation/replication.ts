/**
 * Adaptive replication (spec REP-17 … REP-19; BOINC's answer for deterministic work,
 * DESIGN.md §4): buy the same work from a second seller when the first is not trusted, compare
 * result hashes, and settle a mismatch by a third opinion.
 */
import { ReputationCode, reputationError } from './errors.js'
import { type Assessment, checkThresholds, DEFAULT_THRESHOLDS, type Thresholds } from './score.js'

/**
 * Most sellers asked for one piece of work (REP-19): the first, one replica, one third
 * opinion. Beyond that a disagreement proves nothing cheaply (the article may not be
 * deterministic after all), so the buyer stops.
 */
export const MAX_OPINIONS = 3

/** Fewest sellers that must agree on a hash for it to win (REP-19; BOINC's minimum quorum 2). */
export const QUORUM = 2

/**
 * Whether to buy the same work from a second seller (REP-17): only for a deterministic article
 * (otherwise results cannot be compared) and only when the seller's score is below
 * `thresholds.lowTrust`. A blocked seller is not traded with at all (REP-6), so this is false
 * for it. `seller` is its score or its assessment.
 */
export function shouldReplicate(
  seller: number | Pick<Assessment, 'score' | 'blocked'>,
  deterministic: boolean,
  thresholds: Thresholds = DEFAULT_THRESHOLDS
): boolean {
  checkThresholds(thresholds)
  const score = typeof seller === 'number' ? seller : seller.score
  const blocked = typeof seller === 'number' ? score <= thresholds.blocked : seller.blocked
  if (!Number.isFinite(score)) throw reputationError(ReputationCode.BAD_ARGUMENT, 'score not finite')
  return deterministic && !blocked && score < thresholds.lowTrust
}

const HASH = /^[0-9a-f]{64}$/

/** Result of {@link judge}. */
export type Judgement =
  /** Every seller returned the same hash: accept all, penalise nobody. */
  | { readonly verdict: 'agree'; readonly hash: string }
  /** A quorum agrees on `hash`: accept theirs; `penalised` sellers disagreed with it. */
  | { readonly verdict: 'decided'; readonly hash: string; readonly penalised: readonly string[] }
  /**
   * No hash has a quorum: `next` says whether to ask one more seller (`another-opinion`) or to
   * stop after {@link MAX_OPINIONS} without penalising anyone (`give-up`).
   */
  | { readonly verdict: 'undecided'; readonly next: 'another-opinion' | 'give-up' }

/**
 * Judges the result hashes of one piece of work, by seller address (REP-18, REP-19). All equal:
 * `agree`. Otherwise a hash wins when at least {@link QUORUM} sellers returned it and no other
 * hash has as many; the sellers that returned anything else are penalised (the buyer rejects
 * their results, signed, and counts a local `rejectedResults`). Without a winner the verdict is
 * `undecided`: ask another seller while fewer than {@link MAX_OPINIONS} answered, else give up
 * and penalise nobody. Throws REP_BAD_ARGUMENT for no results or a hash that is not 64
 * lower-case hex digits (a caller bug).
 */
export function judge(resultHashes: ReadonlyMap<string, string>): Judgement {
  if (resultHashes.size === 0) throw reputationError(ReputationCode.BAD_ARGUMENT, 'no results to judge')
  const votes = new Map<string, number>()
  for (const h of resultHashes.values()) {
    if (!HASH.test(h)) throw reputationError(ReputationCode.BAD_ARGUMENT, 'result hash must be 64 hex digits')
    votes.set(h, (votes.get(h) ?? 0) + 1)
  }
  if (votes.size === 1) return { verdict: 'agree', hash: [...votes.keys()][0] as string }
  const ranked = [...votes.entries()].sort((x, y) => y[1] - x[1])
  const [first, second] = ranked as [[string, number], [string, number]]
  if (first[1] >= QUORUM && first[1] > second[1]) {
    const penalised = [...resultHashes.entries()]
      .filter(([, h]) => h !== first[0])
      .map(([seller]) => seller)
      .sort()
    return { verdict: 'decided', hash: first[0], penalised }
  }
  return { verdict: 'undecided', next: resultHashes.size < MAX_OPINIONS ? 'another-opinion' : 'give-up' }
}
