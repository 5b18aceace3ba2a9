/**
 * Signed transaction messages and their wire codec (spec TX-8, TX-6): a document, the signer's
 * address and the signer's Bitcoin signed-message signature.
 */
import { BitwrkError } from '../errors.js'
import { MAX_TX_DOCUMENT_BYTES, type MessageContent, receiptDocument, renderTxDocument } from './document.js'
import { TxError } from './errors.js'
import { queryEscape, queryUnescape } from './form.js'

/** A signed transaction message (TX-8). */
export interface TxMessage {
  /** The signed document (TX-5). */
  readonly document: string
  /** The signer's P2PKH address; must be the party of the message kind (TX-10). */
  readonly address: string
  /** Compact recoverable signature of `document` by `address`, Base64 (65 bytes). */
  readonly signature: string
}

/** Anything that can sign a document for an address; {@link Identity} fits. */
export interface TxSigner {
  /** The signer's P2PKH address. */
  readonly address: string
  /** Bitcoin signed-message signature of `message`, Base64. */
  sign(message: string): string
}

/**
 * Largest encoded message in bytes (TX-6): a full document plus `&address=` (9) with a
 * 35-character address, `&signature=` (11) and a signature of 88 characters that may escape to
 * at most 264: 1024 + 320 = 1344.
 */
export const MAX_TX_MESSAGE_BYTES = MAX_TX_DOCUMENT_BYTES + 320

/** Signs a message of `content` for transaction `txid` (TX-5, TX-8). */
export function signTxMessage(signer: TxSigner, txid: string, content: MessageContent): TxMessage {
  const document = renderTxDocument(txid, content)
  return Object.freeze({ document, address: signer.address, signature: signer.sign(document) })
}

/** The buyer's receipt for an encrypted result: its signature of the receipt document (TX-16). */
export function signReceipt(buyer: TxSigner, txid: string, encResultHash: string): string {
  return buyer.sign(receiptDocument(txid, encResultHash))
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Wire form of a message (TX-6): UTF-8 of
 * `<document>&address=<address>&signature=<QueryEscape(signature)>`.
 */
export function encodeTxMessage(message: TxMessage): Uint8Array {
  return encoder.encode(
    message.document +
      '&address=' +
      queryEscape(message.address) +
      '&signature=' +
      queryEscape(message.signature)
  )
}

/**
 * Decodes the wire form (TX-6). Throws a BitwrkError `TX_TOO_LARGE` above
 * {@link MAX_TX_MESSAGE_BYTES}, `TX_MALFORMED` when the bytes are not UTF-8 or the two envelope
 * fields are missing or not canonical. The document itself is checked by `applyMessage`.
 */
export function decodeTxMessage(bytes: Uint8Array): TxMessage {
  if (bytes.length > MAX_TX_MESSAGE_BYTES)
    throw new BitwrkError(TxError.TOO_LARGE, 'transaction message too large')
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch {
    throw new BitwrkError(TxError.MALFORMED, 'transaction message is not UTF-8')
  }
  const sigAt = text.lastIndexOf('&signature=')
  const addrAt = text.lastIndexOf('&address=', sigAt)
  if (sigAt < 0 || addrAt < 0) throw new BitwrkError(TxError.MALFORMED, 'missing address or signature')
  const document = text.slice(0, addrAt)
  const address = queryUnescape(text.slice(addrAt + '&address='.length, sigAt))
  const signature = queryUnescape(text.slice(sigAt + '&signature='.length))
  if (
    document === '' ||
    address === undefined ||
    signature === undefined ||
    address === '' ||
    signature === ''
  )
    throw new BitwrkError(TxError.MALFORMED, 'bad address or signature field')
  return Object.freeze({ document, address, signature })
}
