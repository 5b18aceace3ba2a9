import { Counter, Gauge, type Registry } from 'prom-client'
import type { Phase } from '../../protocol/transaction/index.js'

/**
 * Metrics of the bid book and the market service (MARKET-14), registered in the node's one
 * registry. Labels are bounded: result, error code (sanitised by `codeLabel`), phase, reason.
 */
export interface MarketMetrics {
  /** Bids and cancels offered to the book from gossip or sync, by result and code (`OK` on accept). */
  readonly bids: Counter<'result' | 'code'>
  /** Live bids (pending and resting) in the book. */
  readonly bookSize: Gauge
  /** Matches computed by the epoch engine (every match, own or not). */
  readonly matches: Counter
  /** Followed active transactions by phase (sampled at scrape time). */
  readonly transactions: Gauge<'phase'>
  /** Transactions that reached TRANSMITTING (both establishing messages accepted). */
  readonly established: Counter
  /** Transactions retired, by outcome reason. */
  readonly retired: Counter<'reason'>
  /** established / (established + retired without establishing); 1 before any outcome. */
  readonly establishShare: Gauge
  /** Transaction-topic messages validated, by result and code. */
  readonly txMessages: Counter<'result' | 'code'>
  /** Snapshots adopted by a book that had already matched (chain checks, SYNC-15; MARKET-16). */
  readonly rejoins: Counter
  /** Sets the function sampled for `bitwrk_transactions{phase}`. */
  setPhaseSource(fn: () => ReadonlyMap<Phase, number>): void
}

/** Creates the market metric families in `registry`. */
export function createMarketMetrics(registry: Registry): MarketMetrics {
  const registers = [registry]
  let phaseSource: () => ReadonlyMap<Phase, number> = () => new Map()
  return {
    bids: new Counter({
      name: 'bitwrk_bids_total',
      help: 'Bids and cancels offered to the book, by result and code',
      labelNames: ['result', 'code'],
      registers
    }),
    bookSize: new Gauge({ name: 'bitwrk_book_size', help: 'Live bids in the book', registers }),
    matches: new Counter({ name: 'bitwrk_matches_total', help: 'Matches computed', registers }),
    transactions: new Gauge({
      name: 'bitwrk_transactions',
      help: 'Followed active transactions by phase',
      labelNames: ['phase'],
      registers,
      collect() {
        this.reset()
        for (const [phase, n] of phaseSource()) this.set({ phase }, n)
      }
    }),
    established: new Counter({
      name: 'bitwrk_transactions_established_total',
      help: 'Transactions in which both parties signed their establishing messages',
      registers
    }),
    retired: new Counter({
      name: 'bitwrk_transactions_retired_total',
      help: 'Transactions retired, by outcome reason',
      labelNames: ['reason'],
      registers
    }),
    establishShare: new Gauge({
      name: 'bitwrk_market_establish_share',
      help: 'Share of concluded matches that established (DESIGN.md invariant 4)',
      registers
    }),
    txMessages: new Counter({
      name: 'bitwrk_tx_messages_total',
      help: 'Transaction-topic messages validated, by result and code',
      labelNames: ['result', 'code'],
      registers
    }),
    rejoins: new Counter({
      name: 'bitwrk_market_rejoins_total',
      help: 'Matching snapshots adopted to re-join the network digest chain',
      registers
    }),
    setPhaseSource(fn) {
      phaseSource = fn
    }
  }
}
