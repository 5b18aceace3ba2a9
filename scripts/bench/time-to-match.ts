import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { BitwrkNode } from '../../node/index.js'
import { waitFor } from '../../node/testing.js'
import { money } from '../../protocol/money/index.js'
import type { Bench } from '../bench.js'
import { quantile, startMarketNodes } from './support.js'

const ARTICLE = 'net.bitwrk/gorays/0'
const NODES = 10
/**
 * 200 ms epochs and a 500 ms settle delay: the settle delay must exceed the slowest gossip
 * delivery (up to ~330 ms measured for 5 nodes in one process on a loaded 2-core machine, see
 * test/node/market/helpers.ts); a short epoch keeps the wait for the epoch's end small.
 */
const PARAMS = { epochMs: 200, settleMs: 500 }

/**
 * Time to match (MARKET-13): from publishing a bid that crosses a resting one to the
 * transaction being established at both parties (both signed establishing messages accepted),
 * over 10 nodes in one process on a random graph of degree 4.
 */
export const bench: Bench = {
  name: 'time-to-match',
  async run({ quick }) {
    const rounds = quick ? 6 : 20
    const nodes: BitwrkNode[] = []
    try {
      await startMarketNodes(NODES, ARTICLE, PARAMS, nodes)
      const established = new Map<string, Set<string>>()
      for (const n of nodes)
        n.market.addEventListener('tx:established', (e) => {
          if (e.detail.own === null) return
          const s = established.get(e.detail.txid) ?? new Set()
          s.add(n.address)
          established.set(e.detail.txid, s)
        })
      const times: number[] = []
      for (let r = 0; r < rounds; r++) {
        const seller = nodes[(2 * r) % NODES] as BitwrkNode
        const buyer = nodes[(2 * r + 1 + (r % 3)) % NODES] as BitwrkNode
        const sell = await seller.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 1000n) })
        // the resting bid must have reached the buyer's book before the crossing bid is sent
        await waitFor(() => buyer.book.get(sell.id) !== undefined, { timeoutMs: 10_000 })
        const txid = new Promise<string>((resolve) => {
          const on = (e: CustomEvent<{ txid: string; match: { sellId: string } }>): void => {
            if (e.detail.match.sellId !== sell.id) return
            buyer.market.removeEventListener('market:match', on)
            resolve(e.detail.txid)
          }
          buyer.market.addEventListener('market:match', on)
        })
        const t0 = performance.now()
        await buyer.placeBid({
          article: ARTICLE,
          side: 'BUY',
          price: money('BTC', 1200n),
          work: { workHash: randomBytes(32).toString('hex'), buyerSecret: randomBytes(32).toString('hex') }
        })
        const id = await txid
        await waitFor(() => (established.get(id)?.size ?? 0) === 2, { timeoutMs: 10_000, intervalMs: 1 })
        times.push(performance.now() - t0)
      }
      times.sort((a, b) => a - b)
      return {
        nodes: NODES,
        epoch_ms: PARAMS.epochMs,
        settle_ms: PARAMS.settleMs,
        rounds,
        p50_ms: Math.round(quantile(times, 0.5)),
        p95_ms: Math.round(quantile(times, 0.95)),
        target_p50_ms: PARAMS.settleMs + 250
      }
    } finally {
      await Promise.all(nodes.map((n) => n.stop()))
    }
  }
}
