/**
 * Equivocation detection on the node side (REP-26): finds, among the signed messages already
 * accepted for a transaction, one by the same party that conflicts with a newly received
 * message (REP-14), and builds the proof. The proof is verified with the pure rules before it
 * is used, so a forged new message (a signature by somebody else) never yields a proof.
 */
import type { Network } from '../../protocol/identity/index.js'
import {
  CONFLICT_SLOTS,
  type EquivocationProof,
  encodeEquivocation,
  messagesConflict,
  verifyEquivocation
} from '../../protocol/reputation/index.js'
import {
  type ParsedTxDocument,
  parseTxDocument,
  partyAddress,
  TRANSITIONS,
  type Transaction,
  type TxMessage
} from '../../protocol/transaction/index.js'

/** A verified proof found by {@link conflictProof}. */
export interface FoundProof {
  /** The participant that signed both documents. */
  readonly participant: string
  /** Proof id (REP-11). */
  readonly id: string
  /** Wire form (REP-12). */
  readonly bytes: Uint8Array
  /** The proof. */
  readonly proof: EquivocationProof
}

/**
 * The verified `conflicting-messages` proof (REP-14) of `message` (already parsed as `doc`)
 * against the accepted evidence of `tx`, or undefined when there is none. Kinds without a
 * slot are never inspected (no signature is recovered for them).
 */
export function conflictProof(
  tx: Transaction,
  message: TxMessage,
  doc: ParsedTxDocument,
  network?: Network
): FoundProof | undefined {
  if (doc.txid !== tx.id || CONFLICT_SLOTS[doc.content.kind] === null) return undefined
  const party = TRANSITIONS[doc.content.kind].party
  for (const ev of tx.evidence) {
    if (ev.party !== party || ev.message.document === message.document) continue
    const earlier = parseTxDocument(ev.message.document)
    if (!earlier.ok || !messagesConflict(earlier.doc.content, doc.content)) continue
    const proof: EquivocationProof = {
      case: 'conflicting-messages',
      participant: partyAddress(tx, party),
      a: ev.message,
      b: message
    }
    const bytes = encodeEquivocation(proof)
    const v = verifyEquivocation(bytes, network !== undefined ? { network } : {})
    if (v.ok) return { participant: v.participant, id: v.id, bytes, proof }
  }
  return undefined
}
