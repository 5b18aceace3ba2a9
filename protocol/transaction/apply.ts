/**
 * The phase machine (spec TX-8 … TX-17): applies one signed message to a transaction, purely.
 */
import {
  bytesEqual,
  hash160,
  recoverMessagePublicKey,
  tryDecodeAddress,
  verifyMessage
} from '../identity/index.js'
import { type MessageContent, parseTxDocument, receiptDocument } from './document.js'
import { TxCode, type TxRefusalCode } from './errors.js'
import type { TxMessage } from './message.js'
import { deadlineAfter, nextPhase, type Party, type Phase, TRANSITIONS } from './phases.js'
import { type Evidence, partyAddress, type Transaction, workSecretHash } from './record.js'

/** Result of {@link applyMessage}: the new transaction, or why the message was refused. */
export type ApplyResult =
  | { readonly ok: true; readonly tx: Transaction }
  | { readonly ok: false; readonly code: TxRefusalCode }

function refuse(code: TxRefusalCode): ApplyResult {
  return { ok: false, code }
}

/** verifyMessage that treats any exception on hostile input as a failed verification. */
function verifies(address: string, signature: string, document: string): boolean {
  try {
    return verifyMessage(address, signature, document)
  } catch {
    return false
  }
}

/**
 * Who signed `document` (TX-8, TX-10): the parties whose address hashes the public key
 * recovered from the signature. One recovery serves both the signature check and telling a
 * message of the other party (TX_WRONG_PARTY) from a forgery (TX_BAD_SIGNATURE).
 */
function signers(tx: Transaction, signature: string, document: string): Set<Party> {
  const found = new Set<Party>()
  let pub: Uint8Array | undefined
  try {
    pub = recoverMessagePublicKey(signature, document)
  } catch {
    pub = undefined
  }
  if (pub === undefined) return found
  const h = hash160(pub)
  for (const party of ['buyer', 'seller'] as const) {
    const a = tryDecodeAddress(partyAddress(tx, party))
    if (a.ok && bytesEqual(a.hash160, h)) found.add(party)
  }
  return found
}

/** Fields a message of this content sets on the record (TX-14 … TX-16). */
function recordedFields(content: MessageContent): Partial<Transaction> {
  switch (content.kind) {
    case 'establish-buyer':
      return { workHash: content.workHash, workSecretHash: content.workSecretHash }
    case 'establish-seller':
      return { sellerAddrs: Object.freeze([...content.addrs]) }
    case 'publish-secret':
      return { buyerSecret: content.buyerSecret }
    case 'transmit-finished':
      return {
        receipt: Object.freeze({ encResultHash: content.encResultHash, signature: content.encResultHashSig }),
        sealedResultKey: content.sealedResultKey
      }
    default:
      return {}
  }
}

/**
 * Checks the arguments against what the transaction already holds (TX-14, TX-15): the
 * establishing seller names the sell bid's peer, the published secret opens the commitment.
 */
function semanticCheck(tx: Transaction, content: MessageContent): TxRefusalCode | undefined {
  if (content.kind === 'establish-seller' && content.peerId !== tx.terms.sellerPeerId)
    return TxCode.BAD_ARGUMENT
  if (content.kind === 'publish-secret') {
    // Every phase that accepts publish-secret comes after establish-buyer, so both are set.
    if (tx.workHash === null || tx.workSecretHash === null) return TxCode.WRONG_PHASE
    if (workSecretHash(tx.workHash, content.buyerSecret) !== tx.workSecretHash) return TxCode.BAD_SECRET
  }
  return undefined
}

/**
 * Applies a signed message received at `nowMs` to `tx` (TX-8 … TX-17). Returns the new record
 * (revision + 1, phase and deadline moved, arguments recorded, message appended to the
 * evidence) or a refusal code; `tx` itself is never changed. Checks, in order, stopping at the
 * first failure: document (TX_TOO_LARGE, TX_MALFORMED, TX_BAD_KIND, TX_BAD_ARGUMENT), txid
 * (TX_WRONG_TXID), state (TX_RETIRED), phase (TX_WRONG_PHASE), deadline (TX_EXPIRED), peer id
 * and secret (TX_BAD_ARGUMENT, TX_BAD_SECRET), signer (TX_WRONG_PARTY when the other party
 * signed, TX_BAD_SIGNATURE when neither did), receipt (TX_BAD_RECEIPT): cheap checks first,
 * signatures last.
 */
export function applyMessage(tx: Transaction, message: TxMessage, nowMs: number): ApplyResult {
  if (!Number.isSafeInteger(nowMs)) throw new TypeError('nowMs must be a safe integer')
  const parsed = parseTxDocument(message.document)
  if (!parsed.ok) return parsed
  const { txid, content } = parsed.doc
  if (txid !== tx.id) return refuse(TxCode.WRONG_TXID)
  if (tx.state !== 'active') return refuse(TxCode.RETIRED)
  const to: Phase | undefined = nextPhase(tx.phase, content.kind)
  if (to === undefined) return refuse(TxCode.WRONG_PHASE)
  if (nowMs >= tx.deadlineMs) return refuse(TxCode.EXPIRED)
  const semantic = semanticCheck(tx, content)
  if (semantic !== undefined) return refuse(semantic)
  const party = TRANSITIONS[content.kind].party
  const signedBy = signers(tx, message.signature, message.document)
  if (!signedBy.has(party)) return refuse(signedBy.size > 0 ? TxCode.WRONG_PARTY : TxCode.BAD_SIGNATURE)
  if (
    content.kind === 'transmit-finished' &&
    !verifies(tx.terms.buyer, content.encResultHashSig, receiptDocument(tx.id, content.encResultHash))
  )
    return refuse(TxCode.BAD_RECEIPT)

  const evidence: Evidence = Object.freeze({
    message: Object.freeze({
      document: message.document,
      signature: message.signature
    }),
    kind: content.kind,
    party,
    receivedMs: nowMs,
    from: tx.phase,
    to
  })
  const next: Transaction = Object.freeze({
    ...tx,
    ...recordedFields(content),
    revision: tx.revision + 1,
    phase: to,
    deadlineMs: deadlineAfter(to, tx.deadlineMs, nowMs),
    evidence: Object.freeze([...tx.evidence, evidence])
  })
  return { ok: true, tx: next }
}

/** True when `receipt` is the buyer's signature of the receipt document for `encResultHash` (TX-16). */
export function verifyReceipt(tx: Transaction, encResultHash: string, receipt: string): boolean {
  return verifies(tx.terms.buyer, receipt, receiptDocument(tx.id, encResultHash))
}
