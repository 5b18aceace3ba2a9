import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { importStream } from '../../cafs/stream.js'
import type { BitwrkNode } from '../../node/index.js'
import { waitFor } from '../../node/testing.js'
import { money } from '../../protocol/money/index.js'
import type { Bench } from '../bench.js'
import { quantile, startMarketNodes } from './support.js'

const ARTICLE = 'net.bitwrk/trivial/0'
const NODES = 10
/** The time-to-match bench's epoch parameters (200 ms epochs, 500 ms settle; see there why). */
const PARAMS = { epochMs: 200, settleMs: 500 }
/** Buyer/seller pairs trading at once per round. */
const PAIRS = NODES / 2

/**
 * The full trade (issue 5) with a trivial article (the worker reverses 1 KiB of work): from the
 * buyer's call to the accepted, decrypted result, over 10 nodes in one process (random graph,
 * degree 4): BUY bid, match, establishing handshake on the transaction topic, work push,
 * secret, encrypted result, receipt, key, acceptance. Five buyer/seller pairs trade at once per
 * round. Target (issue 5): p50 ≤ 1.5 s.
 */
export const bench: Bench = {
  name: 'trade',
  async run({ quick }) {
    const rounds = quick ? 2 : 6
    const nodes: BitwrkNode[] = []
    try {
      await startMarketNodes(NODES, ARTICLE, PARAMS, nodes, async (node) => {
        node.sell({ work: async (w) => Uint8Array.from(w).reverse() })
      })
      const times: number[] = []
      let failed = 0
      const t0 = performance.now()
      for (let r = 0; r < rounds; r++) {
        const sellers = nodes.slice(0, PAIRS)
        const buyers = nodes.slice(PAIRS)
        const sells = await Promise.all(
          sellers.map((s) => s.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 1000n) }))
        )
        // every resting offer reached every buyer's book before the buys start
        await waitFor(() => buyers.every((b) => sells.every((s) => b.book.get(s.id) !== undefined)), {
          timeoutMs: 10_000
        })
        await Promise.all(
          buyers.map(async (b) => {
            const work = await importStream([new Uint8Array(randomBytes(1024))], b.chunks)
            const start = performance.now()
            try {
              await b.buy(ARTICLE, work, {
                price: money('BTC', 2000n),
                attempts: 1,
                signal: AbortSignal.timeout(30_000)
              })
              times.push(performance.now() - start)
            } catch {
              failed++
            }
          })
        )
      }
      const elapsed = (performance.now() - t0) / 1000
      times.sort((a, b) => a - b)
      return {
        bench: 'trade',
        nodes: NODES,
        trades: times.length,
        failed,
        trades_per_s: Math.round((times.length / elapsed) * 100) / 100,
        p50_ms: Math.round(quantile(times, 0.5)),
        p95_ms: Math.round(quantile(times, 0.95)),
        epoch_ms: PARAMS.epochMs,
        settle_ms: PARAMS.settleMs
      }
    } finally {
      await Promise.all(nodes.map((n) => n.stop()))
    }
  }
}
