/**
 * protocol/bid: canonical signed bid and cancel documents, their wire codec, ids, fees and
 * gossip validators (spec: protocol/spec/bids.md).
 */
export {
  CANCEL_FIELD_NAMES,
  CANCEL_KIND,
  CANCEL_MAX_ENCODED_BYTES,
  type Cancel,
  type CancelFields,
  type CancelValidation,
  type CancelValidationContext,
  cancelApplies,
  validateCancel
} from './cancel.js'
export {
  decodeSignedBid,
  decodeSignedCancel,
  encodeBidDocument,
  encodeSigned,
  randomBidNonce,
  type SignOptions,
  signBid,
  signCancel
} from './codec.js'
export {
  BID_FIELD_NAMES,
  BID_KIND,
  BID_MAX_ENCODED_BYTES,
  BID_MAX_LIFETIME_MS,
  type Bid,
  type BidCheckOptions,
  type BidFields,
  type BidType
} from './document.js'
export { BID_IGNORE_CODES, BidCode, type BidErrorCode } from './errors.js'
export { normalize, queryEscape, queryUnescape } from './escape.js'
export { type FeeRatio, feeAmount, feeFor, NO_FEE, ORIGINAL_FEE_RATIO, originalFee } from './fee.js'
export { originalBidDocument } from './original.js'
export {
  type BidTopicContext,
  type BidTopicValidation,
  isCancelMessage,
  type TopicBidValidation,
  type TopicFailure,
  validateBidTopicMessage,
  validateTopicBid,
  WRONG_TOPIC_CODE,
  type WrongTopicCode
} from './topic.js'
export {
  type BidValidation,
  type BidValidationContext,
  DEFAULT_MAX_CLOCK_SKEW_MS,
  validateBid,
  verifyBidSignature
} from './validate.js'
export { documentId, peekKind } from './wire.js'
