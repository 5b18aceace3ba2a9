/**
 * The transaction record (spec TX-1 … TX-3): what a match establishes, the state the phase
 * machine moves, and the signed evidence it accumulates.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { isArticle } from '../article/index.js'
import type { Money } from '../money/index.js'
import { isHex64 } from './document.js'
import { TxCode, txError } from './errors.js'
import type { TxMessage } from './message.js'
import { ESTABLISH_TIMEOUT_MS, type MessageKind, type Party, type Phase } from './phases.js'

/** Domain tag hashed into every transaction id (TX-1). */
export const TXID_DOMAIN = 'bitwrk-txid-v1'

/** Bid ids accepted in a match (TX-1): printable, no separator bytes, at most 128 characters. */
const BID_ID = /^[0-9A-Za-z_.~-]{1,128}$/

/**
 * Transaction id of a match (TX-1): lower-case hex of
 * SHA-256(UTF-8("bitwrk-txid-v1") ‖ 0x00 ‖ UTF-8(buyBidId) ‖ 0x00 ‖ UTF-8(sellBidId)).
 * A bid is in at most one transaction (DESIGN.md invariant 5), so the pair names it; bid ids
 * contain no 0x00, so the encoding is unambiguous. Throws TX_BAD_MATCH for invalid bid ids.
 */
export function transactionId(buyBidId: string, sellBidId: string): string {
  if (!BID_ID.test(buyBidId) || !BID_ID.test(sellBidId)) throw txError(TxCode.BAD_MATCH, 'invalid bid id')
  const zero = new Uint8Array([0])
  return bytesToHex(
    sha256(concatBytes(utf8ToBytes(TXID_DOMAIN), zero, utf8ToBytes(buyBidId), zero, utf8ToBytes(sellBidId)))
  )
}

/**
 * The work-secret commitment (TX-15, notes §4.7): lower-case hex of
 * SHA-256(workHash ‖ buyerSecret) over the raw 32-byte values. Both arguments are 64 hex digits.
 */
export function workSecretHash(workHash: string, buyerSecret: string): string {
  if (!isHex64(workHash) || !isHex64(buyerSecret))
    throw txError(TxCode.BAD_ARGUMENT, 'expected 64 hex digits')
  return bytesToHex(sha256(concatBytes(hexToBytes(workHash), hexToBytes(buyerSecret))))
}

/** What matching hands to the phase machine: both bids and the agreed terms (TX-2). */
export interface MatchTerms {
  /** Id of the buy bid. */
  readonly buyBidId: string
  /** Id of the sell bid. */
  readonly sellBidId: string
  /** Buyer's P2PKH address (the buy bid's signer). */
  readonly buyer: string
  /** Seller's P2PKH address (the sell bid's signer). */
  readonly seller: string
  /** Buyer's libp2p peer id, as named in the buy bid. */
  readonly buyerPeerId: string
  /** Seller's libp2p peer id, as named in the sell bid. */
  readonly sellerPeerId: string
  /** The article traded. */
  readonly article: string
  /** The price set by the earlier bid (notes §3). */
  readonly price: Money
  /** Match time in ms since the epoch (the matching epoch's time, the same on every node). */
  readonly matchedMs: number
}

/** One accepted message with the circumstances of its acceptance (the original's Tmessage). */
export interface Evidence {
  /** The signed message exactly as received. */
  readonly message: TxMessage
  /** Its kind. */
  readonly kind: MessageKind
  /** Who signed it. */
  readonly party: Party
  /** Receiver's clock when it was accepted. */
  readonly receivedMs: number
  /** Phase before. */
  readonly from: Phase
  /** Phase after. */
  readonly to: Phase
}

/** The buyer's signed receipt for the encrypted result (TX-16). */
export interface Receipt {
  /** SHA-256 of the encrypted result, hex. */
  readonly encResultHash: string
  /** The buyer's signature of the receipt document, Base64. */
  readonly signature: string
}

/** Who owes whom after retirement (TX-19). */
export interface Debt {
  /** Address that owes (the buyer). */
  readonly debtor: string
  /** Address owed (the seller). */
  readonly creditor: string
  /** The amount: the transaction price. */
  readonly amount: Money
}

/** Result class of a retired transaction (TX-19). */
export type OutcomeResult = 'seller-paid' | 'buyer-refunded' | 'disputed'

/** Why the transaction ended as it did (TX-19). */
export type OutcomeReason =
  | 'accepted'
  | 'unverified-timeout'
  | 'not-established'
  | 'not-delivered'
  | 'work-rejected'
  | 'result-rejected'

/** The settlement of a retired transaction (TX-19). */
export interface Outcome {
  /** seller-paid: buyer owes the price; buyer-refunded / disputed: nobody owes anything. */
  readonly result: OutcomeResult
  /** Why. */
  readonly reason: OutcomeReason
  /** Phase at retirement. */
  readonly phase: Phase
  /** The debt when the seller is paid, else null. */
  readonly debt: Debt | null
  /** For a dispute: the party whose signed rejection caused it, else null. */
  readonly disputedBy: Party | null
  /** All accepted signed messages, in order of acceptance: the proof of the outcome. */
  readonly evidence: readonly Evidence[]
}

/** A transaction: immutable; every change returns a new record (TX-3). */
export interface Transaction {
  /** Transaction id (TX-1). */
  readonly id: string
  /** +1 per accepted message and on retirement (as in the original). */
  readonly revision: number
  /** Terms of the match. */
  readonly terms: MatchTerms
  /** 'active' until retired. */
  readonly state: 'active' | 'retired'
  /** Current phase. */
  readonly phase: Phase
  /** Messages are accepted only while nowMs < deadlineMs; retirement is due from it on (TX-13). */
  readonly deadlineMs: number
  /** From establish-buyer. */
  readonly workHash: string | null
  /** From establish-buyer. */
  readonly workSecretHash: string | null
  /** From establish-seller: where to deliver the work. */
  readonly sellerAddrs: readonly string[] | null
  /** From publish-secret. */
  readonly buyerSecret: string | null
  /** From transmit-finished. */
  readonly receipt: Receipt | null
  /** From transmit-finished: the result key sealed to the buyer (TX-23), hex; only the buyer can open it. */
  readonly sealedResultKey: string | null
  /** Accepted messages in order. */
  readonly evidence: readonly Evidence[]
  /** Set on retirement. */
  readonly retiredMs: number | null
  /** Set on retirement. */
  readonly outcome: Outcome | null
}

const ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{25,35}$/
const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/

/**
 * Creates the transaction of a match in phase ESTABLISHING with deadline matchedMs + 60 s
 * (TX-2, TX-13). Throws TX_BAD_MATCH when the terms are not well formed (a caller bug:
 * matching only produces well-formed terms).
 */
export function createTransaction(terms: MatchTerms): Transaction {
  const bad = (why: string): never => {
    throw txError(TxCode.BAD_MATCH, `invalid match: ${why}`)
  }
  if (!ADDRESS.test(terms.buyer) || !ADDRESS.test(terms.seller)) bad('address')
  if (!PEER_ID.test(terms.buyerPeerId) || !PEER_ID.test(terms.sellerPeerId)) bad('peer id')
  if (!isArticle(terms.article)) bad('article')
  if (typeof terms.price?.amount !== 'bigint' || terms.price.amount < 0n) bad('price')
  if (!Number.isSafeInteger(terms.matchedMs) || terms.matchedMs < 0) bad('match time')
  const id = transactionId(terms.buyBidId, terms.sellBidId)
  return Object.freeze({
    id,
    revision: 0,
    terms: Object.freeze({ ...terms }),
    state: 'active',
    phase: 'ESTABLISHING',
    deadlineMs: terms.matchedMs + ESTABLISH_TIMEOUT_MS,
    workHash: null,
    workSecretHash: null,
    sellerAddrs: null,
    buyerSecret: null,
    receipt: null,
    sealedResultKey: null,
    evidence: Object.freeze([]),
    retiredMs: null,
    outcome: null
  })
}

/** The address of `party` in `tx`. */
export function partyAddress(tx: Transaction, party: Party): string {
  return party === 'buyer' ? tx.terms.buyer : tx.terms.seller
}
