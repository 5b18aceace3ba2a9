import assert from 'node:assert/strict'
import { MemoryChunkStore } from '../../../cafs/store/memory.js'
import { exportStream, importStream } from '../../../cafs/stream.js'
import type { ChunkStore, Manifest } from '../../../cafs/types.js'
import type { BitwrkNode, MarketTxChannel } from '../../../node/index.js'
import type { NodeBuyOptions } from '../../../node/node.js'
import { waitFor } from '../../../node/testing.js'
import type { TradeWorker } from '../../../node/trade/index.js'
import { money } from '../../../protocol/money/index.js'
import type { Transaction } from '../../../protocol/transaction/index.js'
import { ARTICLE, connect, memoryNode, random, waitMeshes } from './helpers.js'

/** Work of a few MiB: many chunks, so the seller dies in the middle of the transfer. */
const WORK_BYTES = 4 * 1024 * 1024

/** A worker that reverses the work. */
const reversing: TradeWorker = { work: async (w) => Uint8Array.from(w).reverse() }

/**
 * Wraps `store` so that from the third stored chunk on (both `put` and `putVerified`, the two
 * ways a chunk arrives) nothing more is stored until `kill()` has finished: the work transfer can
 * never complete, however fast or slow the machine is.
 */
function killingStore(store: ChunkStore, kill: () => Promise<void>): ChunkStore {
  let puts = 0
  let stopping: Promise<void> | undefined
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'put' || prop === 'putVerified')
        return async (...args: unknown[]) => {
          if (++puts >= 3) {
            stopping ??= kill()
            await stopping
          }
          const method = Reflect.get(target, prop, receiver) as (...a: unknown[]) => Promise<void>
          return method.apply(target, args)
        }
      const v: unknown = Reflect.get(target, prop, receiver)
      return typeof v === 'function' ? v.bind(target) : v
    }
  })
}

describe('node/market (buy, sell)', function () {
  this.timeout(60_000)
  const nodes: BitwrkNode[] = []

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  /** A started node, trading with its own trade service (its chunk store wrapped for S1). */
  async function tradingNode(
    wrap?: (node: () => BitwrkNode, store: ChunkStore) => ChunkStore
  ): Promise<{ node: BitwrkNode; channel: MarketTxChannel }> {
    let self: BitwrkNode | undefined
    const own = (): BitwrkNode => {
      if (self === undefined) throw new Error('node not created')
      return self
    }
    const node = await memoryNode(wrap === undefined ? {} : { chunkStore: wrap(own, new MemoryChunkStore()) })
    self = node
    nodes.push(node)
    return { node, channel: node.txChannel }
  }

  /** `b` buys `work` of the article at `satoshi` ({@link BitwrkNode.buy}). */
  function buy(
    b: { node: BitwrkNode },
    work: Manifest,
    satoshi: bigint,
    opts: Omit<NodeBuyOptions, 'price'> = {}
  ) {
    return b.node.buy(ARTICLE, work, { price: money('BTC', satoshi), ...opts })
  }

  it('buys again from another seller when the first seller dies mid-transfer', async () => {
    const started = Date.now()
    const b = await tradingNode()
    let s1Killed = false
    const s1 = await tradingNode((node, store) =>
      killingStore(store, () => {
        s1Killed = true
        return node().host.stop()
      })
    )
    const s2 = await tradingNode()
    // Both sellers sell every SELL bid with the reversing worker.
    for (const s of [s1, s2]) s.node.sell(reversing)
    const all = [b.node, s1.node, s2.node]
    await connect(all, [
      [0, 1],
      [0, 2],
      [1, 2]
    ])
    await waitMeshes(all)

    // Every transaction the buyer's market establishes, to check that no bid is used twice.
    const established: Transaction[] = []
    b.node.market.addEventListener('tx:established', (e) => established.push(e.detail.tx))

    // S1 is the cheaper offer (MATCH-7: resting SELLs lower price first): it wins the first BUY.
    const sell1 = await s1.node.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 1000n) })
    const sell2 = await s2.node.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 1500n) })
    // Both offers rest in every book before the buy: every node matches the same epoch alike.
    await waitFor(
      () => all.every((n) => n.book.get(sell1.id) !== undefined && n.book.get(sell2.id) !== undefined),
      {
        timeoutMs: 10_000,
        what: 'both offers in every book'
      }
    )

    const workBytes = random(WORK_BYTES)
    const work: Manifest = await importStream([workBytes], b.node.chunks)
    const progress: { phase: string; details: Record<string, unknown> }[] = []
    const bought = await buy(b, work, 2000n, {
      attempts: 3,
      signal: AbortSignal.timeout(35_000),
      onProgress: (phase, details) => progress.push({ phase, details })
    })

    // The result is the reversed work, sold by S2 in the second attempt.
    assert.deepEqual(await readAll(b.node.chunks, bought.result), Uint8Array.from(workBytes).reverse())
    assert.equal(bought.attempts, 2)
    assert.equal(bought.tx.terms.sellerPeerId, s2.node.peerId)
    assert.equal(bought.tx.terms.sellBidId, sell2.id)
    assert.equal(bought.tx.phase, 'FINISHED')
    // The buyer's accept-result, the message that ends the transaction, reaches the seller too.
    await waitFor(() => s2.channel.current(bought.tx.id)?.phase === 'FINISHED', {
      timeoutMs: 10_000,
      what: 'S2 sees its sale FINISHED'
    })

    // The first transaction was with S1, failed as unreachable and did not finish.
    const phases = progress.map((p) => p.phase)
    assert.deepEqual(phases, ['bid', 'established', 'retry', 'bid', 'established', 'done'])
    const first = progress[1]?.details
    assert.equal(first?.seller, s1.node.peerId)
    assert.equal(progress[2]?.details.code, 'TRADE_SELLER_UNREACHABLE')
    // S1's host went down while the work was arriving (its third chunk).
    assert.ok(s1Killed)
    const firstTx = b.channel.current(String(first?.txid))
    assert.ok(firstTx !== undefined)
    assert.equal(firstTx.terms.sellBidId, sell1.id)
    assert.notEqual(firstTx.phase, 'FINISHED')
    assert.notEqual(firstTx.id, bought.tx.id)

    // No bid was used in two transactions.
    assert.equal(established.length, 2)
    const bidIds = established.flatMap((t) => [t.terms.buyBidId, t.terms.sellBidId])
    assert.equal(new Set(bidIds).size, bidIds.length)
    assert.ok(Date.now() - started < 40_000, `took ${Date.now() - started} ms`)
  })

  it('ends with NODETRADE_NO_SELLER when every bid expires unmatched or its timeout passes first, and withdraws the open bid (API-21)', async () => {
    const b = await tradingNode()
    const work = await importStream([new TextEncoder().encode('nobody sells this')], b.node.chunks)
    await assert.rejects(buy(b, work, 1000n, { attempts: 2, bidLifetimeMs: 400 }), {
      code: 'NODETRADE_NO_SELLER',
      details: { attempts: 2 }
    })
    const bids: string[] = []
    await assert.rejects(
      buy(b, work, 1000n, {
        timeoutMs: 500,
        onProgress: (phase, d) => {
          if (phase === 'bid') bids.push(String(d['bidId']))
        }
      }),
      { code: 'NODETRADE_NO_SELLER', details: { timeoutMs: 500 } }
    )
    // the 60 s bid of the timed-out buy does not stay in the book to match a seller later
    assert.equal(bids.length, 1)
    await waitFor(() => b.node.book.get(bids[0] as string) === undefined, {
      timeoutMs: 5_000,
      what: 'the BUY bid withdrawn'
    })
  })

  it('ends with NODETRADE_TIMEOUT when its timeout passes after a seller was found (API-21)', async () => {
    const b = await tradingNode()
    const s = await tradingNode()
    // a seller whose worker never finishes (until the trade's signal ends it)
    const stuck: TradeWorker = {
      work: (_w, { signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    }
    s.node.sell(stuck)
    await connect([b.node, s.node], [[0, 1]])
    await waitMeshes([b.node, s.node])
    const sell = await s.node.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 1000n) })
    await waitFor(() => b.node.book.get(sell.id) !== undefined, {
      timeoutMs: 10_000,
      what: 'the offer at the buyer'
    })
    const work = await importStream([new TextEncoder().encode('a job that never ends')], b.node.chunks)
    const phases: string[] = []
    await assert.rejects(
      buy(b, work, 2000n, {
        timeoutMs: 8_000,
        onProgress: (phase) => phases.push(phase)
      }),
      { code: 'NODETRADE_TIMEOUT', details: { timeoutMs: 8_000 } }
    )
    assert.deepEqual(phases.slice(0, 2), ['bid', 'established'])
  })
})

/** The bytes of a manifest's file, read from `store`. */
async function readAll(store: ChunkStore, m: Manifest): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of exportStream(m, store)) parts.push(part)
  return new Uint8Array(Buffer.concat(parts))
}
