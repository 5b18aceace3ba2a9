/**
 * Transaction documents (spec TX-4 … TX-7): the signed text of every message kind and of the
 * buyer's receipt, with its strict parser.
 */
import { TxCode, type TxRefusalCode } from './errors.js'
import { type FormField, parseForm, renderForm } from './form.js'
import { MESSAGE_KINDS, type MessageKind } from './phases.js'
import { isSealedKeyText } from './seal.js'

/** Domain tag, the first field of every transaction document (TX-4). */
export const TX_DOMAIN = 'bitwrk-tx-v1'

/** `msg` value of the buyer's receipt document; not a transaction message (TX-16). */
export const RECEIPT_MSG = 'receipt'

/** Largest document in bytes (TX-6); the largest valid one (establish-seller, all escaped) has 1017. */
export const MAX_TX_DOCUMENT_BYTES = 1024

/** Most multiaddrs in an establish-seller message (TX-7). */
export const MAX_SELLER_ADDRS = 4

/** Largest `addrs` value in bytes before escaping (TX-7; the original's worker URL was < 256). */
export const MAX_ADDRS_BYTES = 255

/** Largest peer id accepted in bytes (TX-7; a secp256k1 peer id has 53 characters). */
export const MAX_PEER_ID_LENGTH = 128

/** The arguments of each message kind (TX-7). Hex values are 64 lower-case hex digits. */
export type MessageContent =
  | {
      readonly kind: 'establish-buyer'
      /** SHA-256 of the work (its CAFS file key), hex. */
      readonly workHash: string
      /** SHA-256(workHash ‖ buyerSecret) over the raw 32-byte values, hex (TX-15). */
      readonly workSecretHash: string
    }
  | {
      readonly kind: 'establish-seller'
      /** The seller's libp2p peer id; must equal the one of the sell bid. */
      readonly peerId: string
      /** Multiaddrs at which the seller takes the work (may be empty: find it by peer id). */
      readonly addrs: readonly string[]
    }
  | {
      readonly kind: 'publish-secret'
      /** The buyer's 32-byte secret, hex, as received with the work. */
      readonly buyerSecret: string
    }
  | { readonly kind: 'reject-work' }
  | {
      readonly kind: 'transmit-finished'
      /** SHA-256 of the encrypted result, hex. */
      readonly encResultHash: string
      /** The buyer's receipt: signature of the receipt document (TX-16), Base64. */
      readonly encResultHashSig: string
      /**
       * The 32-byte AES key of the result sealed to the buyer's public key (TX-23), hex of 97
       * bytes: only the buyer can open it, everyone can check the message.
       */
      readonly sealedResultKey: string
    }
  | { readonly kind: 'reject-result' }
  | { readonly kind: 'accept-result' }

/** A transaction message as parsed from its document. */
export interface ParsedTxDocument {
  /** The transaction id the document names. */
  readonly txid: string
  /** The kind and its arguments. */
  readonly content: MessageContent
}

const HEX64 = /^[0-9a-f]{64}$/
const TXID = HEX64
const BASE58 = /^[1-9A-HJ-NP-Za-km-z]+$/
// 65 bytes in padded Base64: 86 full characters, one carrying 2 zero bits, then one '='.
const SIG65 = /^[A-Za-z0-9+/]{86}[AEIMQUYcgkosw048]=$/
const MULTIADDR = /^\/[\x21-\x2b\x2d-\x7e]*$/

/** Argument names of each kind, in document order (alphabetical, as in the original). */
export const ARGUMENT_NAMES: Readonly<Record<MessageKind, readonly string[]>> = Object.freeze({
  'establish-buyer': ['workhash', 'worksecrethash'],
  'establish-seller': ['addrs', 'peerid'],
  'publish-secret': ['buyersecret'],
  'reject-work': [],
  'transmit-finished': ['encresulthash', 'encresulthashsig', 'sealedresultkey'],
  'reject-result': [],
  'accept-result': []
})

/** True when `s` is 64 lower-case hex digits. */
export function isHex64(s: string): boolean {
  return HEX64.test(s)
}

/** True when `s` is a transaction id (64 lower-case hex digits, TX-1). */
export function isTxid(s: string): boolean {
  return TXID.test(s)
}

/** True when `s` has the form of a 65-byte compact signature in canonical padded Base64. */
export function isSignatureText(s: string): boolean {
  return SIG65.test(s)
}

function argumentFields(content: MessageContent): FormField[] {
  switch (content.kind) {
    case 'establish-buyer':
      return [
        { name: 'workhash', value: content.workHash },
        { name: 'worksecrethash', value: content.workSecretHash }
      ]
    case 'establish-seller':
      return [
        { name: 'addrs', value: content.addrs.join(',') },
        { name: 'peerid', value: content.peerId }
      ]
    case 'publish-secret':
      return [{ name: 'buyersecret', value: content.buyerSecret }]
    case 'transmit-finished':
      return [
        { name: 'encresulthash', value: content.encResultHash },
        { name: 'encresulthashsig', value: content.encResultHashSig },
        { name: 'sealedresultkey', value: content.sealedResultKey }
      ]
    default:
      return []
  }
}

/**
 * Renders the document of a message (TX-5): `kind=bitwrk-tx-v1&msg=<kind>&txid=<txid>`, then
 * the kind's arguments in the order of {@link ARGUMENT_NAMES}, each `name=QueryEscape(value)`.
 * Does not validate the values; {@link parseTxDocument} does.
 */
export function renderTxDocument(txid: string, content: MessageContent): string {
  return renderForm([
    { name: 'kind', value: TX_DOMAIN },
    { name: 'msg', value: content.kind },
    { name: 'txid', value: txid },
    ...argumentFields(content)
  ])
}

/** The receipt document the buyer signs for an encrypted result (TX-16). */
export function receiptDocument(txid: string, encResultHash: string): string {
  return renderForm([
    { name: 'kind', value: TX_DOMAIN },
    { name: 'msg', value: RECEIPT_MSG },
    { name: 'txid', value: txid },
    { name: 'encresulthash', value: encResultHash }
  ])
}

/** Result of {@link parseTxDocument}. */
export type TxParseResult =
  | { readonly ok: true; readonly doc: ParsedTxDocument }
  | { readonly ok: false; readonly code: TxRefusalCode }

function fail(code: TxRefusalCode): TxParseResult {
  return { ok: false, code }
}

function isMessageKind(s: string): s is MessageKind {
  return (MESSAGE_KINDS as readonly string[]).includes(s)
}

/** Checks the multiaddr list of establish-seller (TX-7). */
function parseAddrs(value: string): string[] | undefined {
  if (new TextEncoder().encode(value).length > MAX_ADDRS_BYTES) return undefined
  if (value === '') return []
  const addrs = value.split(',')
  if (addrs.length > MAX_SELLER_ADDRS) return undefined
  for (const a of addrs) if (!MULTIADDR.test(a) || a.length < 2) return undefined
  return addrs
}

function contentOf(kind: MessageKind, v: readonly string[]): MessageContent | undefined {
  const hex = (i: number): string | undefined => {
    const s = v[i]
    return s !== undefined && HEX64.test(s) ? s : undefined
  }
  switch (kind) {
    case 'establish-buyer': {
      const workHash = hex(0)
      const workSecretHash = hex(1)
      return workHash && workSecretHash ? { kind, workHash, workSecretHash } : undefined
    }
    case 'establish-seller': {
      const addrs = parseAddrs(v[0] ?? '')
      const peerId = v[1] ?? ''
      const ok = addrs && peerId.length <= MAX_PEER_ID_LENGTH && BASE58.test(peerId)
      return ok ? { kind, peerId, addrs } : undefined
    }
    case 'publish-secret': {
      const buyerSecret = hex(0)
      return buyerSecret ? { kind, buyerSecret } : undefined
    }
    case 'transmit-finished': {
      const encResultHash = hex(0)
      const encResultHashSig = v[1] ?? ''
      const sealedResultKey = v[2] ?? ''
      // TX-7: a sealed key whose ephemeral key is no curve point can never open (TX-23).
      return encResultHash && SIG65.test(encResultHashSig) && isSealedKeyText(sealedResultKey)
        ? { kind, encResultHash, encResultHashSig, sealedResultKey }
        : undefined
    }
    default:
      return { kind }
  }
}

/**
 * Parses a transaction message document strictly (TX-4 … TX-7). It must be the exact output of
 * {@link renderTxDocument} for some valid content: any other text is refused with
 * TX_TOO_LARGE, TX_MALFORMED, TX_BAD_KIND or TX_BAD_ARGUMENT.
 */
export function parseTxDocument(document: string): TxParseResult {
  if (
    document.length > MAX_TX_DOCUMENT_BYTES ||
    new TextEncoder().encode(document).length > MAX_TX_DOCUMENT_BYTES
  )
    return fail(TxCode.TOO_LARGE)
  const fields = parseForm(document)
  if (fields === undefined) return fail(TxCode.MALFORMED)
  const kindField = fields[0]
  if (kindField?.name !== 'kind' || kindField.value !== TX_DOMAIN) return fail(TxCode.BAD_KIND)
  if (fields.length < 3) return fail(TxCode.MALFORMED)
  const [, msgField, txidField] = fields as [FormField, FormField, FormField]
  if (msgField.name !== 'msg') return fail(TxCode.MALFORMED)
  if (!isMessageKind(msgField.value)) return fail(TxCode.BAD_KIND)
  if (txidField.name !== 'txid') return fail(TxCode.MALFORMED)
  if (!TXID.test(txidField.value)) return fail(TxCode.BAD_ARGUMENT)
  const kind = msgField.value
  const names = ARGUMENT_NAMES[kind]
  const args = fields.slice(3)
  if (args.length !== names.length || args.some((f, i) => f.name !== names[i]))
    return fail(TxCode.BAD_ARGUMENT)
  const content = contentOf(
    kind,
    args.map((f) => f.value)
  )
  if (content === undefined) return fail(TxCode.BAD_ARGUMENT)
  // Canonical form: the text must be exactly what we would sign, so no two texts mean one message.
  if (renderTxDocument(txidField.value, content) !== document) return fail(TxCode.MALFORMED)
  return { ok: true, doc: { txid: txidField.value, content } }
}
