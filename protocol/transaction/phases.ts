/**
 * The phases, message kinds and transition table of a transaction (spec TX-12, TX-13), as in
 * the original BitWrk (notes §4.2, §4.3, §4.5) with its RESULT_DISPUTED bug fixed.
 */

/** Phases of a transaction; the names are the original's. */
export const PHASES = [
  'ESTABLISHING',
  'BUYER_ESTABLISHED',
  'SELLER_ESTABLISHED',
  'TRANSMITTING',
  'WORKING',
  'UNVERIFIED',
  'FINISHED',
  'WORK_DISPUTED',
  'RESULT_DISPUTED'
] as const

/** A transaction phase. */
export type Phase = (typeof PHASES)[number]

/** Phases after which no message is accepted: the transaction retires at once (TX-13). */
export const TERMINAL_PHASES: ReadonlySet<Phase> = new Set<Phase>([
  'FINISHED',
  'WORK_DISPUTED',
  'RESULT_DISPUTED'
])

/** The two parties of a transaction. */
export type Party = 'buyer' | 'seller'

/** Message kinds, the value of the `msg` field of a transaction document (TX-4). */
export const MESSAGE_KINDS = [
  'establish-buyer',
  'establish-seller',
  'publish-secret',
  'reject-work',
  'transmit-finished',
  'reject-result',
  'accept-result'
] as const

/** A transaction message kind. */
export type MessageKind = (typeof MESSAGE_KINDS)[number]

/** One row of the transition table: who may send the kind, and pre-phase → post-phase. */
export interface TransitionRule {
  /** The only party that may sign this kind. */
  readonly party: Party
  /** Phase reached for each phase in which the kind is accepted. */
  readonly transitions: Readonly<Partial<Record<Phase, Phase>>>
}

/**
 * The transition table (TX-12). Rows 1..7 of the original's table (notes §4.3) with one change:
 * `reject-result` leads to RESULT_DISPUTED, as the original's documentation draws it, where
 * the original code sent it to WORK_DISPUTED and left RESULT_DISPUTED unreachable.
 */
export const TRANSITIONS: Readonly<Record<MessageKind, TransitionRule>> = Object.freeze({
  'establish-buyer': {
    party: 'buyer',
    transitions: { ESTABLISHING: 'BUYER_ESTABLISHED', SELLER_ESTABLISHED: 'TRANSMITTING' }
  },
  'establish-seller': {
    party: 'seller',
    transitions: { ESTABLISHING: 'SELLER_ESTABLISHED', BUYER_ESTABLISHED: 'TRANSMITTING' }
  },
  'publish-secret': {
    party: 'seller',
    transitions: { BUYER_ESTABLISHED: 'WORKING', TRANSMITTING: 'WORKING' }
  },
  'reject-work': {
    party: 'seller',
    transitions: {
      SELLER_ESTABLISHED: 'WORK_DISPUTED',
      TRANSMITTING: 'WORK_DISPUTED',
      WORKING: 'WORK_DISPUTED'
    }
  },
  'transmit-finished': {
    party: 'seller',
    transitions: { WORKING: 'UNVERIFIED' }
  },
  'reject-result': {
    party: 'buyer',
    transitions: { UNVERIFIED: 'RESULT_DISPUTED' }
  },
  'accept-result': {
    party: 'buyer',
    transitions: {
      ESTABLISHING: 'FINISHED',
      BUYER_ESTABLISHED: 'FINISHED',
      SELLER_ESTABLISHED: 'FINISHED',
      TRANSMITTING: 'FINISHED',
      WORKING: 'FINISHED',
      UNVERIFIED: 'FINISHED'
    }
  }
})

/** The phase reached when `kind` arrives in `phase`, or undefined when the pair is not in the table. */
export function nextPhase(phase: Phase, kind: MessageKind): Phase | undefined {
  return TRANSITIONS[kind].transitions[phase]
}

/** Time granted to establish, from the match time (original: `Matched + 60 s`, notes §4.5). */
export const ESTABLISH_TIMEOUT_MS = 60_000

/**
 * Extension of the deadline on arrival in a phase, added to the current deadline, not to now
 * (original, notes §4.5: TRANSMITTING +2 min, WORKING +5 min, UNVERIFIED +15 min; none for the
 * *_ESTABLISHED phases). Terminal phases set the deadline to the arrival time instead.
 */
export const PHASE_EXTENSION_MS: Readonly<Partial<Record<Phase, number>>> = Object.freeze({
  TRANSMITTING: 2 * 60_000,
  WORKING: 5 * 60_000,
  UNVERIFIED: 15 * 60_000
})

/** Longest possible life of a transaction: 60 s + 2 + 5 + 15 min = 23 min. */
export const MAX_TRANSACTION_LIFE_MS = ESTABLISH_TIMEOUT_MS + 22 * 60_000

/** The deadline after moving from a phase with deadline `deadlineMs` into `to` at `nowMs` (TX-13). */
export function deadlineAfter(to: Phase, deadlineMs: number, nowMs: number): number {
  if (TERMINAL_PHASES.has(to)) return nowMs
  return deadlineMs + (PHASE_EXTENSION_MS[to] ?? 0)
}
