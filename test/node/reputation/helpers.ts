/** Fixtures of the reputation wiring tests: real nodes on 127.0.0.1 trading with their trade service. */
import { exportStream } from '../../../cafs/stream.js'
import type { ChunkStore, Manifest } from '../../../cafs/types.js'
import type { BitwrkNode, BitwrkNodeOptions, TradeService } from '../../../node/index.js'
import type { BuyWorkOptions, MarketTxChannel } from '../../../node/market/index.js'
import { waitFor } from '../../../node/testing.js'
import type { TradeWorker } from '../../../node/trade/index.js'
import { money } from '../../../protocol/money/index.js'
import { ARTICLE, connect, memoryNode, waitMeshes } from '../market/helpers.js'

/** A node with its trade service and the transaction channel it trades over. */
export interface TradingNode {
  readonly node: BitwrkNode
  readonly trade: TradeService
  readonly channel: MarketTxChannel
}

/** A worker that reverses the work (deterministic). */
export const reversing: TradeWorker = { work: async (w) => Uint8Array.from(w).reverse() }

/** Test nodes flush local observations every 50 ms instead of every second. */
export const FAST_FLUSH = { flushIntervalMs: 50 } as const

/** Keeps every started node for one teardown. */
export class Nodes {
  private readonly nodes: BitwrkNode[] = []

  /** A started memory node (test options, fast reputation flush). */
  async node(opts: Partial<BitwrkNodeOptions> = {}): Promise<BitwrkNode> {
    const n = await memoryNode({ reputation: FAST_FLUSH, ...opts })
    this.nodes.push(n)
    return n
  }

  /** A started node (its trade service runs with it); `worker` sells every own SELL bid. */
  async trading(opts: Partial<BitwrkNodeOptions> = {}, worker?: TradeWorker): Promise<TradingNode> {
    const node = await this.node(opts)
    if (worker !== undefined) node.sell(worker)
    return { node, trade: node.trade, channel: node.txChannel }
  }

  /**
   * A buyer, a seller whose `worker` sells one SELL bid at 1000 satoshi, and a third node, all
   * connected, meshes formed, the offer in the buyer's book.
   */
  async trio(
    worker: TradeWorker = reversing
  ): Promise<{ buyer: TradingNode; seller: TradingNode; third: BitwrkNode }> {
    const buyer = await this.trading()
    const seller = await this.trading({}, worker)
    const third = await this.node()
    const all = [buyer.node, seller.node, third]
    await connect(all, [
      [0, 1],
      [0, 2],
      [1, 2]
    ])
    await waitMeshes(all)
    const bid = await seller.node.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 1000n) })
    await waitFor(() => buyer.node.book.get(bid.id) !== undefined, { timeoutMs: 10_000, what: 'offer' })
    return { buyer, seller, third }
  }

  /** Stops everything started (each node its trade service first). */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.splice(0).map((n) => n.stop()))
  }
}

/**
 * What `buyWork` needs for `buyer` to buy `work` (its chunks in the buyer's store) in the test
 * article at 2000 satoshi: one attempt, 30 s.
 */
export function buyOptions(buyer: TradingNode, work: Manifest): BuyWorkOptions {
  return {
    market: buyer.node.market,
    trade: buyer.trade,
    store: buyer.node.chunks,
    article: ARTICLE,
    price: money('BTC', 2000n),
    work,
    attempts: 1,
    signal: AbortSignal.timeout(30_000)
  }
}

/** The bytes of a manifest's file. */
export async function readAll(store: ChunkStore, m: Manifest): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of exportStream(m, store)) parts.push(part)
  return new Uint8Array(Buffer.concat(parts))
}
