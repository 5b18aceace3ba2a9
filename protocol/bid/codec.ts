import { bytesToHex } from '@noble/hashes/utils.js'
import { type Identity, type Network, signMessage } from '../identity/index.js'
import {
  type Cancel,
  type CancelFields,
  cancelDocumentUnchecked,
  checkCancelFields,
  decodeCancelBytes
} from './cancel.js'
import {
  type Bid,
  type BidCheckOptions,
  type BidFields,
  bidDocumentUnchecked,
  checkBidFields,
  decodeBidBytes
} from './document.js'
import { bidError } from './errors.js'
import { documentId, joinSigned } from './wire.js'

/** Canonical document of valid bid fields; throws a `BitwrkError` with the first failing BID code. */
export function encodeBidDocument(fields: BidFields, options: BidCheckOptions = {}): string {
  const check = checkBidFields(fields, options)
  if (!check.ok) bidError(check.code, 'invalid bid fields')
  return bidDocumentUnchecked(fields)
}

/** Wire bytes of a signed bid or cancel: `document LF signature` (BID-2). */
export function encodeSigned(signed: { document: string; signature: string }): Uint8Array {
  return joinSigned(signed.document, signed.signature)
}

/**
 * Decodes wire bytes into a bid, checking every stateless rule except the signature
 * (BID-1 … BID-13); throws a `BitwrkError` with the first failing code.
 */
export function decodeSignedBid(bytes: Uint8Array, options: BidCheckOptions = {}): Bid {
  const r = decodeBidBytes(bytes, options)
  if (typeof r === 'string') bidError(r, 'invalid bid')
  return r.bid
}

/** Options for signing: `nonce` is an explicit ECDSA k (test vectors only; default RFC 6979). */
export interface SignOptions {
  /** Explicit ECDSA nonce k, for reproducible vectors only. */
  readonly signingNonce?: bigint
  /** Network of the identity's address; default mainnet. */
  readonly network?: Network
}

/**
 * Builds and signs a bid as `identity` (address and peer id come from the identity, which
 * must be compressed: its peer key has to hash to its address, BID-10).
 */
export function signBid(
  identity: Identity,
  fields: Omit<BidFields, 'address' | 'peerId'>,
  options: SignOptions = {}
): Bid {
  const full: BidFields = { ...fields, address: identity.address, peerId: identity.peerId }
  const document = encodeBidDocument(full, options.network === undefined ? {} : { network: options.network })
  const signature = signMessage(identity.privateKey, document, sigOptions(identity, options))
  return Object.freeze({ ...full, id: documentId(document), document, signature })
}

/** Signs a cancel of bid `bidId` as `identity`. */
export function signCancel(
  identity: Identity,
  fields: Omit<CancelFields, 'address'>,
  options: SignOptions = {}
): Cancel {
  const full: CancelFields = { ...fields, address: identity.address }
  const code = checkCancelFields(full, options.network)
  if (code !== undefined) bidError(code, 'invalid cancel fields')
  const document = cancelDocumentUnchecked(full)
  const signature = signMessage(identity.privateKey, document, sigOptions(identity, options))
  return Object.freeze({ ...full, id: documentId(document), document, signature })
}

function sigOptions(identity: Identity, options: SignOptions): { compressed: boolean; nonce?: bigint } {
  return options.signingNonce === undefined
    ? { compressed: identity.compressed }
    : { compressed: identity.compressed, nonce: options.signingNonce }
}

/** Decodes a signed cancel (CANCEL-1 … CANCEL-6, signature not checked); throws on the first failing code. */
export function decodeSignedCancel(bytes: Uint8Array, network: Network = 'mainnet'): Cancel {
  const r = decodeCancelBytes(bytes, network)
  if (typeof r === 'string') bidError(r, 'invalid cancel')
  return r.cancel
}

/** A fresh bid nonce (32 lowercase hex digits) from an injected random source. */
export function randomBidNonce(random: (n: number) => Uint8Array): string {
  return bytesToHex(random(16))
}
