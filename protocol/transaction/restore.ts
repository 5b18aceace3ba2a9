/**
 * Validation for gossip and restoring from storage (spec TX-20, TX-22): thin layers over the
 * pure machine, so that the node adapters contain no transaction rules.
 */
import { BitwrkError } from '../errors.js'
import { applyMessage } from './apply.js'
import { TX_REFUSAL_SEVERITY, type TxRefusalCode } from './errors.js'
import type { TxMessage } from './message.js'
import { createTransaction, type Evidence, type MatchTerms, type Transaction } from './record.js'
import { retire } from './retire.js'

/** Validator result (HELPERS conventions, DESIGN.md invariant 3) plus the new record on accept. */
export type TxValidation =
  | { readonly result: 'accept'; readonly tx: Transaction }
  | { readonly result: 'ignore' | 'reject'; readonly code: TxRefusalCode }

/**
 * {@link applyMessage} as a gossip validator (TX-20): accept with the new record, or ignore /
 * reject by the refusal's severity in {@link TX_REFUSAL_SEVERITY}.
 */
export function validateTxMessage(tx: Transaction, message: TxMessage, nowMs: number): TxValidation {
  const r = applyMessage(tx, message, nowMs)
  if (r.ok) return { result: 'accept', tx: r.tx }
  return { result: TX_REFUSAL_SEVERITY[r.code], code: r.code }
}

/**
 * Rebuilds a transaction from what a node stores (TX-22): the match terms, the evidence in
 * order, and the retirement time if retired. Each message is re-applied at its recorded receive
 * time and must reproduce the recorded phases, so stored evidence cannot smuggle in a state
 * the machine would not reach. Throws a BitwrkError with the refusal code (or TX_NOT_DUE /
 * TX_BAD_MATCH) when the stored data is inconsistent.
 */
export function restoreTransaction(
  terms: MatchTerms,
  evidence: readonly Evidence[],
  retiredMs: number | null = null
): Transaction {
  let tx = createTransaction(terms)
  for (const [i, e] of evidence.entries()) {
    const r = applyMessage(tx, e.message, e.receivedMs)
    if (!r.ok) throw new BitwrkError(r.code, 'stored evidence does not replay', { index: i })
    if (r.tx.phase !== e.to || e.from !== tx.phase)
      throw new BitwrkError('TX_WRONG_PHASE', 'stored evidence names other phases', { index: i })
    tx = r.tx
  }
  if (retiredMs === null) return tx
  const r = retire(tx, retiredMs)
  if (!r.ok) throw new BitwrkError(r.code, 'stored retirement time is invalid')
  return r.tx
}
