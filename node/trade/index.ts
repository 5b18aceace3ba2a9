/**
 * The trade (protocol/spec/trade.md): buyer and seller run the original BitWrk exchange over a
 * direct libp2p stream `/bitwrk/trade/1.0.0` — work pushed differentially as a CAFS file, the
 * buyer secret, the result encrypted under a one-time AES-256 key (sealed to the buyer when
 * published), the buyer's receipt — while
 * every signed phase message goes through a {@link TxChannel}.
 */
export {
  type BuyOptions,
  type BuyResult,
  type BuyStats,
  runBuyer,
  type TransferProgressEvent
} from './buyer.js'
export { deadlineSignal, publishOrThrow, type TxChannel, type WaitTxOptions, waitForTx } from './channel.js'
export { systemClock, TestClock, type TradeClock } from './clock.js'
export {
  DEFAULT_TRADE_LIMITS,
  type TradeContext,
  type TradeLimits,
  type TradeSigner,
  type TxFileGrants,
  toTradeError
} from './context.js'
export { decryptResult, encryptResult, RESULT_KEY_BYTES, randomResultKey } from './crypto.js'
export { isTradeError, TradeCode, type TradeDetails, type TradeErrorCode, tradeError } from './errors.js'
export { MemoryTxChannel, MemoryTxNetwork } from './memory-channel.js'
export type { SellJob, TradeWorker } from './seller.js'
export { type SellResult, TradeService, type TradeServiceInit } from './service.js'
export { libp2pTradeStream, SharedSource, type TradeStream } from './stream.js'
export {
  decodeTradeFrame,
  encodeTradeError,
  encodeTradeFrame,
  MAX_TRADE_FRAME,
  readTradeFrame,
  TRADE_PROTOCOL,
  type TradeFrame,
  TradeMsg,
  type TradeMsgType,
  writeTradeFrame
} from './wire.js'
