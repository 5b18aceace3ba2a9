/**
 * Retirement (spec TX-18, TX-19): every phase has a deadline, and at the deadline the
 * transaction retires with a defined outcome stating who owes whom, with the signed evidence.
 */
import { TxCode } from './errors.js'
import type { Phase } from './phases.js'
import type { Outcome, OutcomeReason, OutcomeResult, Transaction } from './record.js'

/** The outcome of retiring in each phase (TX-19; the original's rules, notes §4.6, §4.9). */
export const TX_OUTCOMES: Readonly<
  Record<
    Phase,
    {
      readonly result: OutcomeResult
      readonly reason: OutcomeReason
      readonly disputedBy: 'buyer' | 'seller' | null
    }
  >
> = Object.freeze({
  ESTABLISHING: { result: 'buyer-refunded', reason: 'not-established', disputedBy: null },
  BUYER_ESTABLISHED: { result: 'buyer-refunded', reason: 'not-established', disputedBy: null },
  SELLER_ESTABLISHED: { result: 'buyer-refunded', reason: 'not-established', disputedBy: null },
  TRANSMITTING: { result: 'buyer-refunded', reason: 'not-delivered', disputedBy: null },
  WORKING: { result: 'buyer-refunded', reason: 'not-delivered', disputedBy: null },
  // Silence after delivery counts as acceptance: the seller holds the buyer's signed receipt.
  UNVERIFIED: { result: 'seller-paid', reason: 'unverified-timeout', disputedBy: null },
  FINISHED: { result: 'seller-paid', reason: 'accepted', disputedBy: null },
  WORK_DISPUTED: { result: 'disputed', reason: 'work-rejected', disputedBy: 'seller' },
  RESULT_DISPUTED: { result: 'disputed', reason: 'result-rejected', disputedBy: 'buyer' }
})

/**
 * The outcome `tx` has if it retires in its current phase (TX-19). A retired transaction
 * returns its recorded outcome.
 */
export function outcomeOf(tx: Transaction): Outcome {
  if (tx.outcome !== null) return tx.outcome
  const rule = TX_OUTCOMES[tx.phase]
  return Object.freeze({
    result: rule.result,
    reason: rule.reason,
    phase: tx.phase,
    debt:
      rule.result === 'seller-paid'
        ? Object.freeze({ debtor: tx.terms.buyer, creditor: tx.terms.seller, amount: tx.terms.price })
        : null,
    disputedBy: rule.disputedBy,
    evidence: tx.evidence
  })
}

/** True when `tx` is active and its deadline has come (nowMs >= deadlineMs, TX-18). */
export function isDue(tx: Transaction, nowMs: number): boolean {
  return tx.state === 'active' && nowMs >= tx.deadlineMs
}

/** Result of {@link retire}. */
export type RetireResult =
  | { readonly ok: true; readonly tx: Transaction }
  | { readonly ok: false; readonly code: 'TX_RETIRED' | 'TX_NOT_DUE' }

/**
 * Retires `tx` at `nowMs` (TX-18): from its deadline on, an active transaction becomes
 * 'retired' with revision + 1, `retiredMs` and its {@link outcomeOf}. Refuses with
 * TX_RETIRED when already retired and TX_NOT_DUE before the deadline; never changes `tx`.
 */
export function retire(tx: Transaction, nowMs: number): RetireResult {
  if (!Number.isSafeInteger(nowMs)) throw new TypeError('nowMs must be a safe integer')
  if (tx.state !== 'active') return { ok: false, code: TxCode.RETIRED }
  if (nowMs < tx.deadlineMs) return { ok: false, code: TxCode.NOT_DUE }
  return {
    ok: true,
    tx: Object.freeze({
      ...tx,
      state: 'retired',
      revision: tx.revision + 1,
      retiredMs: nowMs,
      outcome: outcomeOf(tx)
    })
  }
}
