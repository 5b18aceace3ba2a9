/** Shared fixtures of the transaction tests: parties, terms, pre-signed messages, paths to every phase. */
import assert from 'node:assert/strict'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { Identity } from '../../protocol/identity/index.js'
import { money } from '../../protocol/money/index.js'
import {
  applyMessage,
  createTransaction,
  type MatchTerms,
  type MessageContent,
  type MessageKind,
  type Phase,
  sealResultKey,
  signReceipt,
  signTxMessage,
  type Transaction,
  type TxMessage,
  transactionId,
  workSecretHash
} from '../../protocol/transaction/index.js'

/** The vector key of notes §A ("correct horse battery staple", compressed), used as the buyer. */
export const BUYER = Identity.fromWif('L3p8oAcQTtuokSCRHQ7i4MhjWc9zornvpJLfmg62sYpLRJF9woSu')
/** Seller: private key 0x02 repeated. */
export const SELLER = Identity.fromPrivateKey(new Uint8Array(32).fill(2), true)
/** Somebody who is neither party. */
export const STRANGER = Identity.fromPrivateKey(new Uint8Array(32).fill(3), true)

/** Match time of the fixture transaction. */
export const T0 = 1_700_000_000_000

/** Terms of the fixture transaction. */
export const TERMS: MatchTerms = {
  buyBidId: 'a'.repeat(64),
  sellBidId: 'b'.repeat(64),
  buyer: BUYER.address,
  seller: SELLER.address,
  buyerPeerId: BUYER.peerId,
  sellerPeerId: SELLER.peerId,
  article: 'net.bitwrk/gorays/0',
  price: money('BTC', 150_000n),
  matchedMs: T0
}

/** Id of the fixture transaction. */
export const TXID = transactionId(TERMS.buyBidId, TERMS.sellBidId)

/** Work hash, buyer secret and commitment of vectors D (notes, test vector D). */
export const WORK_HASH = '587ab93cc2172e9f1f52e710d8a32665cb3b893d1b03513efd04dc386beedfc3'
export const BUYER_SECRET = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'
export const WORK_SECRET_HASH = workSecretHash(WORK_HASH, BUYER_SECRET)
export const ENC_RESULT_HASH = 'ba2742dd6f589c363cbc4b4d97a02f3670ad81e18fb98687e08b75ec2ed0329f'
export const RESULT_KEY = 'fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0'
/** Ephemeral scalar of the TX-23 vector: 0x07 repeated. */
export const EPHEMERAL_KEY = new Uint8Array(32).fill(7)

/** The result key `keyHex` sealed to the buyer for TXID (TX-23) under the scalar `ephemeral`, hex. */
export function sealedKey(keyHex: string, ephemeral = EPHEMERAL_KEY): string {
  return bytesToHex(sealResultKey(BUYER.publicKey, TXID, hexToBytes(keyHex), () => ephemeral.slice()))
}

/** RESULT_KEY sealed to the buyer for TXID under EPHEMERAL_KEY (the TX-23 vector). */
export const SEALED_RESULT_KEY = sealedKey(RESULT_KEY)
/** A compressed "point" whose x (5) has no y on secp256k1: 5³ + 7 = 132 is no square mod p. */
export const NOT_ON_CURVE = '02' + '00'.repeat(31) + '05'
export const SELLER_ADDRS = ['/ip4/127.0.0.1/tcp/4001', '/ip6/::1/tcp/4001']

/** A valid content of every kind for the fixture transaction. */
export const CONTENT: Readonly<Record<MessageKind, MessageContent>> = {
  'establish-buyer': { kind: 'establish-buyer', workHash: WORK_HASH, workSecretHash: WORK_SECRET_HASH },
  'establish-seller': { kind: 'establish-seller', peerId: SELLER.peerId, addrs: SELLER_ADDRS },
  'publish-secret': { kind: 'publish-secret', buyerSecret: BUYER_SECRET },
  'reject-work': { kind: 'reject-work' },
  'transmit-finished': {
    kind: 'transmit-finished',
    encResultHash: ENC_RESULT_HASH,
    encResultHashSig: signReceipt(BUYER, TXID, ENC_RESULT_HASH),
    sealedResultKey: SEALED_RESULT_KEY
  },
  'reject-result': { kind: 'reject-result' },
  'accept-result': { kind: 'accept-result' }
}

/** The party that signs each kind. */
export const SIGNER: Readonly<Record<MessageKind, Identity>> = {
  'establish-buyer': BUYER,
  'establish-seller': SELLER,
  'publish-secret': SELLER,
  'reject-work': SELLER,
  'transmit-finished': SELLER,
  'reject-result': BUYER,
  'accept-result': BUYER
}

/** A valid signed message of every kind for the fixture transaction (signed once). */
export const MESSAGES: Readonly<Record<MessageKind, TxMessage>> = Object.fromEntries(
  Object.entries(CONTENT).map(([kind, content]) => [
    kind,
    signTxMessage(SIGNER[kind as MessageKind], TXID, content)
  ])
) as Record<MessageKind, TxMessage>

/** A fresh fixture transaction in ESTABLISHING. */
export function freshTx(): Transaction {
  return createTransaction(TERMS)
}

/** One shortest path of message kinds from ESTABLISHING to each phase. */
export const PATHS: Readonly<Record<Phase, readonly MessageKind[]>> = {
  ESTABLISHING: [],
  BUYER_ESTABLISHED: ['establish-buyer'],
  SELLER_ESTABLISHED: ['establish-seller'],
  TRANSMITTING: ['establish-buyer', 'establish-seller'],
  WORKING: ['establish-buyer', 'establish-seller', 'publish-secret'],
  UNVERIFIED: ['establish-buyer', 'establish-seller', 'publish-secret', 'transmit-finished'],
  FINISHED: ['accept-result'],
  WORK_DISPUTED: ['establish-seller', 'reject-work'],
  RESULT_DISPUTED: [
    'establish-buyer',
    'establish-seller',
    'publish-secret',
    'transmit-finished',
    'reject-result'
  ]
}

/** Applies `msg` and asserts acceptance. */
export function mustApply(tx: Transaction, msg: TxMessage, nowMs: number): Transaction {
  const r = applyMessage(tx, msg, nowMs)
  assert.ok(r.ok, `expected acceptance, got ${r.ok ? '' : r.code}`)
  return r.tx
}

/** The fixture transaction driven to `phase`, one message per second from T0 + 1 s. */
export function txIn(phase: Phase): Transaction {
  let tx = freshTx()
  PATHS[phase].forEach((kind, i) => {
    tx = mustApply(tx, MESSAGES[kind], T0 + 1000 * (i + 1))
  })
  assert.equal(tx.phase, phase)
  return tx
}

/** Deep snapshot for "unchanged" assertions (bigint-safe). */
export function snapshot(tx: Transaction): unknown {
  return structuredClone(tx)
}
