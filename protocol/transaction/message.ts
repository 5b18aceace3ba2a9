/**
 * Signed transaction messages and their wire codec (spec TX-6, TX-8): a document and its
 * signer's Bitcoin signed-message signature.
 */
import { BitwrkError } from '../errors.js'
import { MAX_TX_DOCUMENT_BYTES, type MessageContent, receiptDocument, renderTxDocument } from './document.js'
import { TxCode } from './errors.js'

/** A signed transaction message (TX-8): the signer is recovered from the signature. */
export interface TxMessage {
  /** The signed document (TX-5). */
  readonly document: string
  /** Compact recoverable signature of `document` by the kind's party, Base64 (65 bytes). */
  readonly signature: string
}

/** Anything that can sign a document; {@link Identity} fits. */
export interface TxSigner {
  /** Bitcoin signed-message signature of `message`, Base64. */
  sign(message: string): string
}

/**
 * Largest encoded message in bytes (TX-6): a full document, the LF and a Base64 signature of
 * 88 characters.
 */
export const MAX_TX_MESSAGE_BYTES = MAX_TX_DOCUMENT_BYTES + 1 + 88

/** Separator of document and signature on the wire (TX-6; the same framing as signed bids). */
const LF = 0x0a

const ascii = new TextDecoder('latin1')

/** Signs a message of `content` for transaction `txid` (TX-5, TX-8). */
export function signTxMessage(signer: TxSigner, txid: string, content: MessageContent): TxMessage {
  const document = renderTxDocument(txid, content)
  return Object.freeze({ document, signature: signer.sign(document) })
}

/** The buyer's receipt for an encrypted result: its signature of the receipt document (TX-16). */
export function signReceipt(buyer: TxSigner, txid: string, encResultHash: string): string {
  return buyer.sign(receiptDocument(txid, encResultHash))
}

/** Wire form of a message (TX-6): the ASCII bytes of `<document> LF <signature>`. */
export function encodeTxMessage(message: TxMessage): Uint8Array {
  const text = message.document + '\n' + message.signature
  const out = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff
  return out
}

/**
 * Decodes the wire form (TX-6). Throws a BitwrkError `TX_TOO_LARGE` above
 * {@link MAX_TX_MESSAGE_BYTES}, `TX_MALFORMED` unless the bytes are printable ASCII
 * (0x21–0x7e) with exactly one LF that has text on both sides. The document itself is checked
 * by `applyMessage`.
 */
export function decodeTxMessage(bytes: Uint8Array): TxMessage {
  if (bytes.length > MAX_TX_MESSAGE_BYTES)
    throw new BitwrkError(TxCode.TOO_LARGE, 'transaction message too large')
  let lf = -1
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number
    if (b === LF) {
      if (lf >= 0) throw new BitwrkError(TxCode.MALFORMED, 'more than one line feed')
      lf = i
    } else if (b < 0x21 || b > 0x7e) throw new BitwrkError(TxCode.MALFORMED, 'not printable ASCII')
  }
  if (lf <= 0 || lf === bytes.length - 1)
    throw new BitwrkError(TxCode.MALFORMED, 'missing document or signature')
  // latin1 is exact for the printable ASCII checked above.
  return Object.freeze({
    document: ascii.decode(bytes.subarray(0, lf)),
    signature: ascii.decode(bytes.subarray(lf + 1))
  })
}
