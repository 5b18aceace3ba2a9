/**
 * Equivocation proofs (spec REP-10 … REP-16): two documents signed by one participant that
 * cannot both be honest, their codec, and their verification. A verified proof blocks the
 * participant on every honest node that checks it (REP-4), so nothing here trusts the sender.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, concatBytes } from '@noble/hashes/utils.js'
import { type Bid, decodeSignedBid, encodeSigned } from '../bid/index.js'
import {
  bytesEqual,
  decodeCompactSignature,
  hash160,
  type Network,
  recoverMessagePublicKey,
  tryDecodeAddress
} from '../identity/index.js'
import {
  type MessageContent,
  type MessageKind,
  type ParsedTxDocument,
  parseTxDocument,
  transactionId
} from '../transaction/index.js'
import { type EquivocationRefusalCode, ReputationCode, reputationError } from './errors.js'

/** Domain tag, the first header field of every proof (REP-12). */
export const EQUIVOCATION_KIND = 'bitwrk-equivocation-v1'

/** The cases of equivocation (REP-13 … REP-15). */
export const EQUIVOCATION_CASES = ['bid-reuse', 'conflicting-messages', 'nonce-reuse'] as const

/** One case of equivocation. */
export type EquivocationCase = (typeof EQUIVOCATION_CASES)[number]

/**
 * Largest encoded proof (REP-12): the longest valid header (495 bytes), two documents of at
 * most 1024 bytes (TX-6; a bid document is shorter), two 88-character signatures and four LFs
 * come to 2723 bytes; 3 KiB bounds it.
 */
export const MAX_EQUIVOCATION_BYTES = 3072

/** Largest header (REP-12): the bid-reuse header with three 128-character bid ids has 495 bytes. */
export const MAX_EQUIVOCATION_HEADER_BYTES = 512

/** A document and its signer's signature (Base64 compact). */
export interface SignedDocument {
  /** The signed text, exactly as signed. */
  readonly document: string
  /** The Bitcoin signed-message signature, Base64. */
  readonly signature: string
}

/** The bid ids that tie two establishing messages to one bid (REP-13). */
export interface BidReuseContext {
  /** The bid used twice (the participant's). */
  readonly bid: string
  /** The other bid of the transaction of document `a`. */
  readonly otherA: string
  /** The other bid of the transaction of document `b`. */
  readonly otherB: string
}

/** An equivocation proof (REP-11). */
export interface EquivocationProof {
  /** Which case it proves. */
  readonly case: EquivocationCase
  /** The P2PKH address that signed both documents. */
  readonly participant: string
  /** First document. */
  readonly a: SignedDocument
  /** Second document. */
  readonly b: SignedDocument
  /** For `bid-reuse` only. */
  readonly context?: BidReuseContext
}

/**
 * The slot of each message kind (REP-14): within one transaction, an honest party signs at most
 * one document per slot. `null` kinds never conflict: establish-seller only names dial
 * addresses, which change when a seller restarts; publish-secret is fixed by the buyer's
 * commitment, so a second, different one would be refused anyway (TX-15).
 */
export const CONFLICT_SLOTS: Readonly<Record<MessageKind, string | null>> = Object.freeze({
  'establish-buyer': 'buyer-establish',
  'establish-seller': null,
  'publish-secret': null,
  'reject-work': 'seller-outcome',
  'transmit-finished': 'seller-outcome',
  'reject-result': 'buyer-verdict',
  'accept-result': 'buyer-verdict'
})

/**
 * What an honest party commits to in a message (REP-14): the kind and its arguments, except the
 * buyer's receipt signature inside transmit-finished, which is the buyer's (malleable) signature,
 * not a choice of the seller. The sealed result key is drawn afresh each time it is sealed
 * (TX-23), so it commits too: an honest seller seals and signs transmit-finished once per
 * transaction (persisted before it is sent, TRADE-5), and two different sealed keys are two
 * outcomes the buyer may not both be able to open.
 */
function commitment(c: MessageContent): string {
  switch (c.kind) {
    case 'establish-buyer':
      return `${c.kind}|${c.workHash}|${c.workSecretHash}`
    case 'transmit-finished':
      return `${c.kind}|${c.encResultHash}|${c.sealedResultKey}`
    default:
      return c.kind
  }
}

/**
 * True when one party signing both contents for the same transaction is equivocation (REP-14):
 * both kinds in the same slot, and different commitments.
 */
export function messagesConflict(a: MessageContent, b: MessageContent): boolean {
  const slot = CONFLICT_SLOTS[a.kind]
  return slot !== null && slot === CONFLICT_SLOTS[b.kind] && commitment(a) !== commitment(b)
}

const ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{25,35}$/
const BID_ID = /^[0-9A-Za-z_.~-]{1,128}$/
const LF = 0x0a
const ascii = new TextDecoder('latin1')

function header(p: EquivocationProof): string {
  const base = `kind=${EQUIVOCATION_KIND}&case=${p.case}&participant=${p.participant}`
  if (p.case !== 'bid-reuse') return base
  const c = p.context
  if (c === undefined) throw reputationError(ReputationCode.BAD_ARGUMENT, 'bid-reuse needs its context')
  return `${base}&bid=${c.bid}&othera=${c.otherA}&otherb=${c.otherB}`
}

/** The proof with its documents in canonical order (REP-12: ascending byte order, A < B). */
export function canonicalProof(p: EquivocationProof): EquivocationProof {
  if (p.a.document <= p.b.document) return p
  const swapped: EquivocationProof = { ...p, a: p.b, b: p.a }
  return p.context === undefined
    ? swapped
    : { ...swapped, context: { bid: p.context.bid, otherA: p.context.otherB, otherB: p.context.otherA } }
}

/**
 * Wire form (REP-12): the ASCII bytes of `header LF docA LF sigA LF docB LF sigB`, documents in
 * canonical order. Does not check the proof (verifyEquivocation does); throws REP_BAD_ARGUMENT
 * when a part is not printable ASCII or a bid-reuse proof lacks its context.
 */
export function encodeEquivocation(proof: EquivocationProof): Uint8Array {
  const p = canonicalProof(proof)
  const parts = [header(p), p.a.document, p.a.signature, p.b.document, p.b.signature]
  for (const part of parts)
    if (part.length === 0 || !/^[\x21-\x7e]+$/.test(part))
      throw reputationError(ReputationCode.BAD_ARGUMENT, 'proof parts must be printable ASCII')
  return Uint8Array.from(parts.join('\n'), (ch) => ch.charCodeAt(0))
}

/**
 * Id of a proof (REP-11): lower-case hex SHA-256 of UTF-8("bitwrk-equivocation-v1") ‖ 0x00 ‖
 * docA ‖ 0x00 ‖ docB, documents in canonical order. Signatures are excluded (they are
 * malleable), and the documents determine case and context, so one conflict has one id.
 */
export function equivocationId(proof: EquivocationProof): string {
  const p = canonicalProof(proof)
  const bytes = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0))
  const zero = Uint8Array.of(0)
  return bytesToHex(
    sha256(concatBytes(bytes(EQUIVOCATION_KIND), zero, bytes(p.a.document), zero, bytes(p.b.document)))
  )
}

/** Result of {@link decodeEquivocation}. */
export type EquivocationDecodeResult =
  | { readonly ok: true; readonly proof: EquivocationProof }
  | { readonly ok: false; readonly code: EquivocationRefusalCode }

function refuse(code: EquivocationRefusalCode): { ok: false; code: EquivocationRefusalCode } {
  return { ok: false, code }
}

/** Splits `name=value&…` into values for exactly `names`; undefined on any difference. */
function fieldsOf(text: string, names: readonly string[]): string[] | undefined {
  const parts = text.split('&')
  if (parts.length !== names.length) return undefined
  const values: string[] = []
  for (const [i, part] of parts.entries()) {
    const prefix = `${names[i]}=`
    if (!part.startsWith(prefix) || part.length === prefix.length) return undefined
    values.push(part.slice(prefix.length))
  }
  return values
}

function parseHeader(text: string): EquivocationDecodeResult | Omit<EquivocationProof, 'a' | 'b'> {
  if (text.length > MAX_EQUIVOCATION_HEADER_BYTES) return refuse(ReputationCode.MALFORMED)
  const [kindField, caseField] = text.split('&')
  if (kindField === undefined || !kindField.startsWith('kind=')) return refuse(ReputationCode.MALFORMED)
  if (kindField !== `kind=${EQUIVOCATION_KIND}`) return refuse(ReputationCode.BAD_KIND)
  if (caseField === undefined || !caseField.startsWith('case=')) return refuse(ReputationCode.MALFORMED)
  const kase = caseField.slice(5) as EquivocationCase
  if (!EQUIVOCATION_CASES.includes(kase)) return refuse(ReputationCode.BAD_CASE)
  const names = ['kind', 'case', 'participant', ...(kase === 'bid-reuse' ? ['bid', 'othera', 'otherb'] : [])]
  const v = fieldsOf(text, names)
  const participant = v?.[2]
  if (
    v === undefined ||
    participant === undefined ||
    !ADDRESS.test(participant) ||
    !tryDecodeAddress(participant).ok
  )
    return refuse(ReputationCode.MALFORMED)
  if (kase !== 'bid-reuse') return { case: kase, participant }
  const [bid, otherA, otherB] = v.slice(3) as [string, string, string]
  if (![bid, otherA, otherB].every((id) => BID_ID.test(id))) return refuse(ReputationCode.MALFORMED)
  return { case: kase, participant, context: { bid, otherA, otherB } }
}

/**
 * Decodes the wire form (REP-12) without judging the documents: size (REP_TOO_LARGE), five
 * non-empty printable-ASCII lines and the header (REP_MALFORMED, REP_BAD_KIND, REP_BAD_CASE).
 */
export function decodeEquivocation(bytes: Uint8Array): EquivocationDecodeResult {
  if (!(bytes instanceof Uint8Array)) return refuse(ReputationCode.MALFORMED)
  if (bytes.length > MAX_EQUIVOCATION_BYTES) return refuse(ReputationCode.TOO_LARGE)
  const lines: string[] = []
  let start = 0
  for (let i = 0; i <= bytes.length; i++) {
    const b = i < bytes.length ? (bytes[i] as number) : LF
    if (b === LF) {
      if (i === start) return refuse(ReputationCode.MALFORMED)
      lines.push(ascii.decode(bytes.subarray(start, i)))
      start = i + 1
    } else if (b < 0x21 || b > 0x7e) return refuse(ReputationCode.MALFORMED)
  }
  if (lines.length !== 5) return refuse(ReputationCode.MALFORMED)
  const [head, docA, sigA, docB, sigB] = lines as [string, string, string, string, string]
  const h = parseHeader(head)
  if ('ok' in h) return h
  return {
    ok: true,
    proof: { ...h, a: { document: docA, signature: sigA }, b: { document: docB, signature: sigB } }
  }
}

/** Options of {@link verifyEquivocation}. */
export interface EquivocationOptions {
  /** Address network of the market's bids (nonce-reuse, BID-8); default mainnet. */
  readonly network?: Network
}

/** Result of {@link verifyEquivocation}. */
export type EquivocationVerdict =
  | { readonly ok: true; readonly participant: string; readonly kind: EquivocationCase; readonly id: string }
  | { readonly ok: false; readonly code: EquivocationRefusalCode }

function parseTx(doc: string): ParsedTxDocument | undefined {
  const r = parseTxDocument(doc)
  return r.ok ? r.doc : undefined
}

function parseBid(d: SignedDocument, network: Network): Bid | undefined {
  try {
    return decodeSignedBid(encodeSigned(d), { network })
  } catch {
    return undefined
  }
}

/** REP-13 … REP-15: the conflict itself, from the documents alone (no signature checked). */
function conflictCode(p: EquivocationProof, network: Network): EquivocationRefusalCode | undefined {
  if (p.case === 'nonce-reuse') {
    const a = parseBid(p.a, network)
    const b = parseBid(p.b, network)
    if (a === undefined || b === undefined) return ReputationCode.BAD_DOCUMENT
    // A bid names its signer: a bid of somebody else cannot be the participant's.
    if (a.address !== p.participant || b.address !== p.participant) return ReputationCode.WRONG_SIGNER
    return a.nonce === b.nonce ? undefined : ReputationCode.NOT_CONFLICTING
  }
  const a = parseTx(p.a.document)
  const b = parseTx(p.b.document)
  if (a === undefined || b === undefined) return ReputationCode.BAD_DOCUMENT
  if (p.case === 'conflicting-messages')
    return a.txid === b.txid && messagesConflict(a.content, b.content)
      ? undefined
      : ReputationCode.NOT_CONFLICTING
  // bid-reuse: two establishing messages of the same party for two transactions of one bid.
  const kind = a.content.kind
  if (kind !== 'establish-buyer' && kind !== 'establish-seller') return ReputationCode.BAD_DOCUMENT
  if (b.content.kind !== 'establish-buyer' && b.content.kind !== 'establish-seller')
    return ReputationCode.BAD_DOCUMENT
  if (b.content.kind !== kind || a.txid === b.txid) return ReputationCode.NOT_CONFLICTING
  const c = p.context as BidReuseContext
  const txidOf = (other: string): string =>
    kind === 'establish-buyer' ? transactionId(c.bid, other) : transactionId(other, c.bid)
  return txidOf(c.otherA) === a.txid && txidOf(c.otherB) === b.txid
    ? undefined
    : ReputationCode.CONTEXT_MISMATCH
}

/**
 * Verifies an encoded equivocation proof (REP-11 … REP-16), cheap checks first and the two
 * signature recoveries last: the codec, the signature forms (REP_BAD_SIGNATURE), identical
 * documents (REP_SAME_DOCUMENT, whatever the signatures), canonical order (REP_MALFORMED), the
 * documents and their conflict (REP_BAD_DOCUMENT, REP_NOT_CONFLICTING, REP_CONTEXT_MISMATCH),
 * then that both signatures recover the participant's key (REP_BAD_SIGNATURE when no key,
 * REP_WRONG_SIGNER when another). On success: the participant, the case, and the proof id.
 */
export function verifyEquivocation(
  bytes: Uint8Array,
  options: EquivocationOptions = {}
): EquivocationVerdict {
  const decoded = decodeEquivocation(bytes)
  if (!decoded.ok) return decoded
  const p = decoded.proof
  const sigA = decodeCompactSignature(p.a.signature)
  const sigB = decodeCompactSignature(p.b.signature)
  if (sigA === undefined || sigB === undefined) return refuse(ReputationCode.BAD_SIGNATURE)
  if (p.a.document === p.b.document) return refuse(ReputationCode.SAME_DOCUMENT)
  if (p.a.document > p.b.document) return refuse(ReputationCode.MALFORMED)
  const conflict = conflictCode(p, options.network ?? 'mainnet')
  if (conflict !== undefined) return refuse(conflict)
  const addr = tryDecodeAddress(p.participant)
  if (!addr.ok) return refuse(ReputationCode.MALFORMED)
  for (const d of [p.a, p.b]) {
    let pub: Uint8Array | undefined
    try {
      pub = recoverMessagePublicKey(d.signature, d.document)
    } catch {
      pub = undefined
    }
    if (pub === undefined) return refuse(ReputationCode.BAD_SIGNATURE)
    if (!bytesEqual(hash160(pub), addr.hash160)) return refuse(ReputationCode.WRONG_SIGNER)
  }
  return { ok: true, participant: p.participant, kind: p.case, id: equivocationId(p) }
}

/** Gossip validator form of {@link verifyEquivocation} (invariant 3): every refusal is provable, so Reject. */
export type EquivocationValidation =
  | {
      readonly result: 'accept'
      readonly participant: string
      readonly kind: EquivocationCase
      readonly id: string
    }
  | { readonly result: 'reject'; readonly code: EquivocationRefusalCode }

/** Validates a gossiped proof (REP-16): accept with participant, case and id, or reject with the code. */
export function validateEquivocation(
  bytes: Uint8Array,
  options: EquivocationOptions = {}
): EquivocationValidation {
  const v = verifyEquivocation(bytes, options)
  return v.ok
    ? { result: 'accept', participant: v.participant, kind: v.kind, id: v.id }
    : { result: 'reject', code: v.code }
}
