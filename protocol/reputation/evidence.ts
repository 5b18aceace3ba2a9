/**
 * Reputation events (spec REP-5, REP-7, REP-8): derived from a retired transaction's signed
 * evidence (global), from a verified equivocation proof (global), or from the node's own
 * observations (local), and grouped into counter increments for the store.
 */
import { type Party, partyAddress, type Transaction } from '../transaction/index.js'
import { ReputationCode, reputationError } from './errors.js'
import { EVENT_SCOPE, type ReputationCounter } from './score.js'

/** Whom an event is about: a participant (P2PKH address) or a libp2p peer (peer id). */
export type ReputationSubject =
  | { readonly kind: 'address'; readonly id: string }
  | { readonly kind: 'peer'; readonly id: string }

/** One event: a counter of a subject goes up by one. */
export interface ReputationEvent {
  /** Whom it is about. */
  readonly subject: ReputationSubject
  /** The counter it increments (its kind, REP-2). */
  readonly counter: ReputationCounter
  /** `global`: any node derives it from signed evidence; `local`: only the observer counts it (REP-5). */
  readonly scope: 'global' | 'local'
  /**
   * What it is derived from: `tx:<txid>`, `equivocation:<proof id>` or `local:<reason>`. A node
   * counts the events of one source once (REP-8).
   */
  readonly source: string
  /** The equivocation proof id, for `equivocations` events (the store keeps it as evidence). */
  readonly evidenceId?: string
}

/**
 * Which counters each party's record gets when a transaction retires in each phase (REP-7).
 * The party whose signed move was due and who let the deadline pass is charged; a signed
 * rejection charges both parties. `FINISHED` depends on the evidence (see {@link transactionEvents}).
 */
export const RETIREMENT_EVENTS: Readonly<
  Record<Exclude<Transaction['phase'], 'FINISHED'>, Readonly<Record<Party, readonly ReputationCounter[]>>>
> = Object.freeze({
  // No signed message at all: nothing anyone can check (a view disagreement, invariant 5).
  ESTABLISHING: { buyer: [], seller: [] },
  BUYER_ESTABLISHED: { buyer: [], seller: ['noShows'] },
  SELLER_ESTABLISHED: { buyer: ['noShows'], seller: [] },
  // Both established; the buyer's transfer is not signed, and a seller that got no work has a
  // signed way out (reject-work), but a seller that did is not proven late: charge nobody
  // globally (the buyer's node may count the stall locally, REP-8).
  TRANSMITTING: { buyer: [], seller: [] },
  // The seller signed publish-secret (it holds the work) and then neither delivered nor rejected.
  WORKING: { buyer: [], seller: ['latePhases'] },
  // Delivered with the buyer's signed receipt; the buyer never accepted nor rejected.
  UNVERIFIED: { buyer: ['latePhases'], seller: ['finished'] },
  WORK_DISPUTED: { buyer: ['rejectedWork'], seller: ['rejectedWork'] },
  RESULT_DISPUTED: { buyer: ['rejectedResults'], seller: ['rejectedResults'] }
})

/**
 * The global events of a retired transaction (REP-7): a pure function of its phase at
 * retirement and the kinds of its accepted signed messages, so every node that accepted the
 * same messages derives the same events. FINISHED after a delivery (a transmit-finished in the
 * evidence) credits both parties; an acceptance without delivery (the buyer paid for nothing,
 * as the original allows) credits nobody, so it cannot farm trust; nor does a self-trade (buyer
 * and seller one address). Throws REP_NOT_RETIRED for
 * an active transaction (a caller bug).
 */
export function transactionEvents(tx: Transaction): ReputationEvent[] {
  if (tx.state !== 'retired' || tx.outcome === null)
    throw reputationError(ReputationCode.NOT_RETIRED, 'transaction not retired')
  // A self-trade (TX-10 allows one) shows nothing about how a participant treats others.
  if (tx.terms.buyer === tx.terms.seller) return []
  const phase = tx.outcome.phase
  const delivered = tx.outcome.evidence.some((e) => e.kind === 'transmit-finished')
  const rule =
    phase === 'FINISHED'
      ? delivered
        ? { buyer: ['finished'] as const, seller: ['finished'] as const }
        : { buyer: [], seller: [] }
      : RETIREMENT_EVENTS[phase]
  const events: ReputationEvent[] = []
  for (const party of ['buyer', 'seller'] as const)
    for (const counter of rule[party])
      events.push(
        Object.freeze({
          subject: Object.freeze({ kind: 'address' as const, id: partyAddress(tx, party) }),
          counter,
          scope: 'global' as const,
          source: `tx:${tx.id}`
        })
      )
  return events
}

/** The global event of a verified equivocation proof (REP-10): the participant's `equivocations`. */
export function equivocationEvent(participant: string, proofId: string): ReputationEvent {
  return Object.freeze({
    subject: Object.freeze({ kind: 'address' as const, id: participant }),
    counter: 'equivocations' as const,
    scope: 'global' as const,
    source: `equivocation:${proofId}`,
    evidenceId: proofId
  })
}

/** Counters a node may count from its own observation (REP-8: `local` or `both` in {@link EVENT_SCOPE}). */
export type LocalCounter = 'latePhases' | 'rejectedResults' | 'wrongChunks' | 'invalidGossip'

/**
 * An event the node observed itself (REP-8): a wrong chunk served to it, an invalid gossip
 * message sent to it, a stall it can prove to itself, a result a third opinion contradicted.
 * Never built from another node's report. `reason` is a short tag (e.g. `wrong-chunk`).
 * Throws REP_BAD_ARGUMENT for a counter that is global only.
 */
export function localEvent(
  subject: ReputationSubject,
  counter: LocalCounter,
  reason: string
): ReputationEvent {
  if (EVENT_SCOPE[counter] === 'global')
    throw reputationError(ReputationCode.BAD_ARGUMENT, `${counter} is not a local observation`)
  return Object.freeze({
    subject: Object.freeze({ ...subject }),
    counter,
    scope: 'local' as const,
    source: `local:${reason}`
  })
}

/** Increments for one subject, in the shape of the store's `ReputationDelta` (REP-8). */
export interface SubjectDelta {
  /** Whom. */
  readonly subject: ReputationSubject
  /** Amount per counter. */
  readonly add: Readonly<Partial<Record<ReputationCounter, number>>>
  /** Equivocation proof ids to remember. */
  readonly evidenceIds: readonly string[]
}

/**
 * Groups events by subject, in order of first appearance, for one store update per subject
 * (REP-8). A global event is counted once per source, subject and counter, so feeding the same
 * transaction or proof twice changes nothing; local events all count (two wrong chunks are two).
 */
export function groupEvents(events: readonly ReputationEvent[]): SubjectDelta[] {
  const bySubject = new Map<
    string,
    { subject: ReputationSubject; add: Partial<Record<ReputationCounter, number>>; evidenceIds: string[] }
  >()
  const seen = new Set<string>()
  for (const e of events) {
    const key = `${e.subject.kind}:${e.subject.id}`
    if (e.scope === 'global') {
      const once = `${e.source}|${key}|${e.counter}`
      if (seen.has(once)) continue
      seen.add(once)
    }
    let d = bySubject.get(key)
    if (d === undefined) {
      d = { subject: e.subject, add: {}, evidenceIds: [] }
      bySubject.set(key, d)
    }
    d.add[e.counter] = (d.add[e.counter] ?? 0) + 1
    if (e.evidenceId !== undefined && !d.evidenceIds.includes(e.evidenceId)) d.evidenceIds.push(e.evidenceId)
  }
  return [...bySubject.values()]
}
