/**
 * The market, the whole path from bid to trade (protocol/spec/market.md): a signed bid is
 * placed and gossiped on its article's bid topic, validated and kept in the {@link BidBook};
 * when an epoch closes every node matches the same book the same way ({@link Market}), and a
 * match becomes a transaction that the {@link TransactionFollower} follows on the transaction
 * topic until buyer and seller agree on it (established) or it retires; an established
 * transaction is then traded over the trade protocol — the buyer side through {@link buyWork},
 * the seller side through {@link wireSeller} (the daemon's worker offers through
 * {@link OfferSeller}), both speaking through the {@link MarketTxChannel}.
 * {@link bookSyncAdapters} let a late joiner pull the live book, {@link createMarketMetrics}
 * counts it all.
 */
export {
  BidBook,
  type BidBookOptions,
  type BookAddResult,
  BookCode,
  type BookEpoch,
  type BookMatch,
  DEFAULT_BOOK_LIMITS,
  type LiveBid
} from './book.js'
export {
  type BuyAttempt,
  type BuyWorkOptions,
  type BuyWorkResult,
  buyWork,
  isNodeTradeError,
  NodeTradeCode,
  type NodeTradeDetails,
  type NodeTradeErrorCode,
  nodeTradeError
} from './buy.js'
export {
  isMarketTxError,
  MarketTxCode,
  type MarketTxDetails,
  type MarketTxErrorCode,
  marketTxError,
  TransactionFollower,
  type TransactionFollowerOptions,
  type TxEntry,
  type TxEvent,
  type TxPhaseEvent
} from './follower.js'
export {
  type BidClosedEvent,
  type BuyerWork,
  DEFAULT_HISTORY_EPOCHS,
  type EpochEvent,
  Market,
  MarketCode,
  type MarketEvents,
  type MarketOptions,
  type MatchEvent,
  OWN_BIDS_PER_EPOCH,
  type OwnBid,
  type PlaceBidRequest,
  type RefusedEvent
} from './market.js'
export { createMarketMetrics, type MarketMetrics } from './metrics.js'
export {
  type OfferProgress,
  OfferSeller,
  type OfferSellerOptions,
  type OfferWorkers,
  type Sale,
  SELL_BID_LIFETIME_MS,
  type SellWorker,
  type WorkFunction,
  wireSeller
} from './sell.js'
export { type BookSyncOptions, bookSyncAdapters } from './sync-adapter.js'
export { MarketTxChannel } from './tx-channel.js'
