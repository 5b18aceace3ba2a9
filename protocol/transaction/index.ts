/**
 * The transaction phase machine (spec: protocol/spec/transactions.md): records established
 * from a match, signed phase messages with a strict codec, a pure `applyMessage` and
 * `retire` with outcomes stating who owes whom.
 */
export { type ApplyResult, applyMessage, verifyReceipt } from './apply.js'
export {
  ARGUMENT_NAMES,
  isTxid,
  MAX_ADDRS_BYTES,
  MAX_PEER_ID_LENGTH,
  MAX_SELLER_ADDRS,
  MAX_TX_DOCUMENT_BYTES,
  type MessageContent,
  type ParsedTxDocument,
  parseTxDocument,
  RECEIPT_MSG,
  receiptDocument,
  renderTxDocument,
  TX_DOMAIN,
  type TxParseResult
} from './document.js'
export { TX_REFUSAL_SEVERITY, TxCode, type TxErrorCode, type TxRefusalCode } from './errors.js'
export { originalTxDocument } from './form.js'
export {
  decodeTxMessage,
  encodeTxMessage,
  MAX_TX_MESSAGE_BYTES,
  signReceipt,
  signTxMessage,
  type TxMessage,
  type TxSigner
} from './message.js'
export {
  deadlineAfter,
  ESTABLISH_TIMEOUT_MS,
  MAX_TRANSACTION_LIFE_MS,
  MESSAGE_KINDS,
  type MessageKind,
  nextPhase,
  type Party,
  PHASE_EXTENSION_MS,
  PHASES,
  type Phase,
  TERMINAL_PHASES,
  TRANSITIONS,
  type TransitionRule
} from './phases.js'
export {
  createTransaction,
  type Debt,
  type Evidence,
  type MatchTerms,
  type Outcome,
  type OutcomeReason,
  type OutcomeResult,
  partyAddress,
  type Receipt,
  type Transaction,
  TXID_DOMAIN,
  transactionId,
  workSecretHash
} from './record.js'
export { restoreTransaction, type TxValidation, validateTxMessage } from './restore.js'
export { isDue, outcomeOf, type RetireResult, retire, TX_OUTCOMES } from './retire.js'
export {
  isSealedKeyText,
  openResultKey,
  RESULT_KEY_SEAL_TAG,
  SEALED_KEY_BYTES,
  SealCode,
  type SealErrorCode,
  sealResultKey
} from './seal.js'
