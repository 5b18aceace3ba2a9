/** Mandates: the operator's standing permission to buy or sell (original §7.6, protocol/spec/local-api.md MAN-*). */
export { MAX_MANDATES, MandateCode, type MandateErrorCode } from './errors.js'
export {
  decodeMandate,
  encodeMandate,
  MANDATE_BUCKET,
  MANDATE_SEQ_BUCKET,
  MAX_MANDATE_TRADES,
  MAX_MANDATE_VALIDITY_MS,
  type Mandate,
  MandateBook,
  type MandateGrant,
  type MandateTake,
  type MandateTrade,
  type MandateUse,
  mandateToJson,
  parseGrant,
  type TradeSide,
  withinLimit
} from './mandates.js'
