import { validateArticle } from '../article/index.js'
import type { Network } from '../identity/index.js'
import { compactMoney, MONEY_MAX_ABS, type Money, parseMoney } from '../money/index.js'
import { BidCode, type BidErrorCode } from './errors.js'
import { isUnreservedText, queryEscape, queryUnescape } from './escape.js'
import { type FeeRatio, feeAmount, NO_FEE } from './fee.js'
import { checkParticipant } from './participant.js'
import { documentId, parseMillis, peekKind, splitFields, splitSigned } from './wire.js'

/** Domain tag of a bid document (BID-3, DESIGN.md invariant 1): first field, `kind=bitwrk-bid-v1`. */
export const BID_KIND = 'bitwrk-bid-v1'

/** Field names of a bid document in their only allowed order (BID-4). */
export const BID_FIELD_NAMES = [
  'kind',
  'article',
  'type',
  'price',
  'address',
  'peer',
  'nonce',
  'created',
  'expires'
] as const

/** Longest lifetime `expires − created` of a bid: 120 s, the original server's constant (§2.3). */
export const BID_MAX_LIFETIME_MS = 120_000

/**
 * Largest encoded signed bid (BID-1). The largest valid bid is about 610 bytes (an article of
 * 128 characters, half of them `/` escaped as `%2F`); 1 KiB bounds work per gossip message.
 */
export const BID_MAX_ENCODED_BYTES = 1024

/** Side of a bid: BUY pays the price for work, SELL does work for the price. */
export type BidType = 'BUY' | 'SELL'

/** The signed content of a bid. */
export interface BidFields {
  /** Article traded (ART rules). */
  readonly article: string
  /** BUY or SELL. */
  readonly type: BidType
  /** Price, >= 0 (its currency is part of the match key). */
  readonly price: Money
  /** Participant: mainnet (or ctx network) P2PKH address of the compressed key. */
  readonly address: string
  /** libp2p peer id to contact; its key hashes to `address` (invariant 2). */
  readonly peerId: string
  /** 32 lowercase hex digits that make otherwise equal bids distinct. */
  readonly nonce: string
  /** Creation time, ms since the Unix epoch. */
  readonly createdMs: number
  /** Expiry time, ms since the Unix epoch; created < expires <= created + 120 s. */
  readonly expiresMs: number
}

/** A decoded, structurally valid signed bid. */
export interface Bid extends BidFields {
  /** Bid id: hex SHA-256 of `document` (BID-19). */
  readonly id: string
  /** The exact signed document text. */
  readonly document: string
  /** Base64 compact signature of `document` by the participant. */
  readonly signature: string
}

/** Options of bid field checks: the network of addresses and the fee ratio for the range check. */
export interface BidCheckOptions {
  /** Address network bids must use (BID-8); default mainnet. */
  readonly network?: Network
  /** Fee ratio whose fee must fit on top of the price (BID-7); default 0. */
  readonly feeRatio?: FeeRatio
}

const NONCE_RE = /^[0-9a-f]{32}$/

/** The document text of `fields`, assuming they are valid (no checks). */
export function bidDocumentUnchecked(f: BidFields): string {
  return (
    `kind=${BID_KIND}&article=${queryEscape(f.article)}&type=${f.type}&price=${queryEscape(compactMoney(f.price))}` +
    `&address=${queryEscape(f.address)}&peer=${queryEscape(f.peerId)}&nonce=${f.nonce}` +
    `&created=${f.createdMs}&expires=${f.expiresMs}`
  )
}

/** Internal result of a field check: the code of the first failing rule, or the peer key. */
export type FieldCheck = { ok: true; peerKey: Uint8Array } | { ok: false; code: BidErrorCode }

/** Checks BID-5 … BID-13 on decoded fields, in rule order. */
export function checkBidFields(f: BidFields, options: BidCheckOptions = {}): FieldCheck {
  // [REJECT] BID-5: the article must follow the article rules.
  if (validateArticle(f.article).result !== 'accept') return fail(BidCode.badArticle)
  // [REJECT] BID-6: type must be exactly BUY or SELL.
  if (f.type !== 'BUY' && f.type !== 'SELL') return fail(BidCode.badType)
  return checkFromPrice(f, options)
}

/** BID-7 (range) … BID-13; the decoder has checked BID-5, BID-6 and the price text already. */
function checkFromPrice(f: BidFields, options: BidCheckOptions): FieldCheck {
  // [REJECT] BID-7: price must be >= 0 ...
  if (typeof f.price?.amount !== 'bigint' || f.price.amount < 0n) return fail(BidCode.badPrice)
  // ... and price + fee must be representable money.
  if (f.price.amount + feeAmount(f.price.amount, options.feeRatio ?? NO_FEE) > MONEY_MAX_ABS)
    return fail(BidCode.priceOutOfRange)
  // [REJECT] BID-8 … BID-10: address, peer id, and the peer's key hashing to the address.
  const participant = checkParticipant(f.address, f.peerId, options.network ?? 'mainnet')
  if (!participant.ok) return participant
  // [REJECT] BID-11: the nonce must be 32 lowercase hex digits.
  if (typeof f.nonce !== 'string' || !NONCE_RE.test(f.nonce)) return fail(BidCode.badNonce)
  // [REJECT] BID-12: times must be safe non-negative integers with created < expires.
  if (!isMillis(f.createdMs) || !isMillis(f.expiresMs) || f.expiresMs <= f.createdMs)
    return fail(BidCode.badTime)
  // [REJECT] BID-13: lifetime at most 120 s.
  if (f.expiresMs - f.createdMs > BID_MAX_LIFETIME_MS) return fail(BidCode.lifetimeTooLong)
  return participant
}

function isMillis(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0
}

function fail(code: BidErrorCode): FieldCheck {
  return { ok: false, code }
}

/** A bid decoded from wire bytes together with what signature checking needs. */
export interface DecodedBid {
  /** The decoded bid. */
  readonly bid: Bid
  /** Document bytes (a view into the wire bytes). */
  readonly docBytes: Uint8Array
  /** The 33-byte compressed key of the bid's peer id (hashes to the address). */
  readonly peerKey: Uint8Array
}

/**
 * Decodes wire bytes into a bid, checking BID-1 … BID-13 in rule order (everything except
 * time window, duplicates and the signature). Returns the first failing code.
 */
export function decodeBidBytes(bytes: Uint8Array, options: BidCheckOptions = {}): DecodedBid | BidErrorCode {
  // [REJECT] BID-1 / BID-2: size, then `document LF signature` in printable ASCII.
  const parts = splitSigned(bytes, BID_MAX_ENCODED_BYTES)
  if (typeof parts === 'string') return parts
  const { document, signature, docBytes } = parts
  // [REJECT] BID-3: the first field must be kind=bitwrk-bid-v1 (no other document kind is a bid).
  const kind = peekKind(document)
  if (kind === undefined) return BidCode.malformed
  if (kind !== BID_KIND) return BidCode.wrongKind
  // [REJECT] BID-4: exact field names and order, every value canonically escaped.
  const raw = splitFields(document, BID_FIELD_NAMES)
  if (raw === undefined) return BidCode.malformed
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i] as string
    if (isUnreservedText(r)) continue
    const v = queryUnescape(r)
    if (v === undefined || queryEscape(v) !== r) return BidCode.malformed
    raw[i] = v
  }
  const [, article, type, priceText, address, peerId, nonce, createdText, expiresText] = raw as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string
  ]
  // [REJECT] BID-5: the article must follow the article rules.
  if (validateArticle(article).result !== 'accept') return BidCode.badArticle
  // [REJECT] BID-6: type must be exactly BUY or SELL.
  if (type !== 'BUY' && type !== 'SELL') return BidCode.badType
  // [REJECT] BID-7 (text form): the price must parse and be in its one canonical compact
  // spelling (not "mBTC1.50" or "BTC0.0015" for mBTC1.5).
  let price: Money
  try {
    price = parseMoney(priceText)
  } catch {
    return BidCode.badPrice
  }
  if (compactMoney(price) !== priceText) return BidCode.badPrice
  const createdMs = parseMillis(createdText) ?? -1
  const expiresMs = parseMillis(expiresText) ?? -1
  const fields: BidFields = { article, type, price, address, peerId, nonce, createdMs, expiresMs }
  const check = checkFromPrice(fields, options)
  if (!check.ok) return check.code
  // An explicit literal: spreading `fields` into a frozen copy cost as much as hashing.
  const bid: Bid = Object.freeze({
    article,
    type,
    price,
    address,
    peerId,
    nonce,
    createdMs,
    expiresMs,
    id: documentId(docBytes),
    document,
    signature
  })
  return { bid, docBytes, peerKey: check.peerKey }
}
