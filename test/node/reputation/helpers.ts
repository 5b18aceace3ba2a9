/** Fixtures of the reputation wiring tests: real nodes on 127.0.0.1 with the daemon's trade wiring. */
import { exportStream } from '../../../cafs/stream.js'
import type { ChunkStore, Manifest } from '../../../cafs/types.js'
import { type BitwrkNode, type BitwrkNodeOptions, TradeService } from '../../../node/index.js'
import type { TradeWorker } from '../../../node/trade/index.js'
import { MarketTxChannel, wireSeller } from '../../../node/trade-wiring.js'
import { memoryNode } from '../market/helpers.js'

/** A node with its trade service, wired like the daemon's. */
export interface TradingNode {
  readonly node: BitwrkNode
  readonly trade: TradeService
  readonly channel: MarketTxChannel
}

/** A worker that reverses the work (deterministic). */
export const reversing: TradeWorker = { work: async (w) => Uint8Array.from(w).reverse() }

/** Test nodes flush local observations every 50 ms instead of every second. */
export const FAST_FLUSH = { flushIntervalMs: 50 } as const

/** Keeps every started node and trade service for one teardown. */
export class Nodes {
  private readonly nodes: BitwrkNode[] = []
  private readonly trades: TradeService[] = []

  /** A started memory node (test options, fast reputation flush). */
  async node(opts: Partial<BitwrkNodeOptions> = {}): Promise<BitwrkNode> {
    const n = await memoryNode({ reputation: FAST_FLUSH, ...opts })
    this.nodes.push(n)
    return n
  }

  /** A started node with a started trade service; `worker` sells every own SELL bid. */
  async trading(opts: Partial<BitwrkNodeOptions> = {}, worker?: TradeWorker): Promise<TradingNode> {
    const node = await this.node(opts)
    const channel = new MarketTxChannel(node.market, Date.now)
    const trade = new TradeService({
      libp2p: node.host.libp2p,
      signer: node.identity,
      files: node.files,
      channel,
      store: node.chunks
    })
    this.trades.push(trade)
    await trade.start()
    if (worker !== undefined) wireSeller(node.market, trade, () => ({ worker, done: () => {} }))
    return { node, trade, channel }
  }

  /** Stops everything started (trade services first). */
  async stop(): Promise<void> {
    await Promise.all(this.trades.splice(0).map((t) => t.stop()))
    await Promise.all(this.nodes.splice(0).map((n) => n.stop()))
  }
}

/** The bytes of a manifest's file. */
export async function readAll(store: ChunkStore, m: Manifest): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of exportStream(m, store)) parts.push(part)
  return new Uint8Array(Buffer.concat(parts))
}
