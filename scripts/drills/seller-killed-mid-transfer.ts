import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { exportStream, importStream } from '../../cafs/stream.js'
import type { ChunkStore, Manifest } from '../../cafs/types.js'
import { txTopic } from '../../node/gossip/index.js'
import { type BitwrkNode, createBitwrkNode } from '../../node/node.js'
import { createMemoryController, openStore } from '../../node/store/index.js'
import { waitFor } from '../../node/testing.js'
import { Identity } from '../../protocol/identity/index.js'
import { money } from '../../protocol/money/index.js'
import type { Transaction } from '../../protocol/transaction/index.js'
import type { Drill } from '../drill.js'
import { type ChildLines, hex, msSince, randomData, sha256, spawnLines } from './support.js'

/** The drill's article. */
const ARTICLE = 'net.bitwrk/drill/rebuy'
/** Short epochs (as the market tests: 250 ms epochs, 1 s settle delay). */
const PARAMS = { epochMs: 250, settleMs: 1000 } as const
/** The seller that dies does so when this many work chunks have reached it (mid-transfer). */
const KILL_AFTER_CHUNKS = 3
/** Past every phase deadline of an established transaction (TRANSMITTING: 60 s + 2 min, TX-13). */
const PAST_DEADLINES_MS = 4 * 60_000
/** The sellers' script. */
const CHILD = fileURLToPath(new URL('./seller-child.js', import.meta.url))

/**
 * `seller-killed-mid-transfer`: a buyer (this process) and two sellers, each its own process.
 * The cheaper seller wins the first match and SIGKILLs its own process when the third work
 * chunk reaches it. The buyer's trade fails (`TRADE_SELLER_UNREACHABLE`), it bids again and
 * buys the same work from the second seller. Passes when the result is the work reversed (the
 * workers' job, checked on the drill side), the second seller saw its sale FINISHED, no bid is
 * in two transactions, the dead seller's transaction never finished and, with the buyer's clock
 * moved past its deadline, retires by the phase rules with the buyer refunded.
 */
export const drill: Drill = {
  name: 'seller-killed-mid-transfer',
  async run({ small }) {
    const workBytes = small ? 2 << 20 : 8 << 20
    let skewMs = 0
    const clock = (): number => Date.now() + skewMs
    const nodes: BitwrkNode[] = []
    const children: ChildLines[] = []
    try {
      const buyer = await createBitwrkNode({
        store: await openStore(createMemoryController()),
        identity: Identity.generate((n) => new Uint8Array(randomBytes(n))),
        articles: [ARTICLE],
        loopbackOnly: true,
        epochParams: PARAMS,
        clock,
        gossip: { heartbeatIntervalMs: 100 },
        host: { dhtSelfQuery: false }
      })
      nodes.push(buyer)
      await buyer.start()
      // the buyer's transactions on its (skewable) clock
      const channel = buyer.txChannel
      const addr = String(buyer.host.multiaddrs()[0])
      const args = (kill: number) => [
        addr,
        ARTICLE,
        String(PARAMS.epochMs),
        String(PARAMS.settleMs),
        String(kill)
      ]
      const dying = spawnLines(CHILD, args(KILL_AFTER_CHUNKS))
      const honest = spawnLines(CHILD, args(0))
      children.push(dying, honest)
      const ids = await Promise.all(
        [dying, honest].map(async (c) => (await c.next('ready', 60_000)).split(' ')[1] ?? '')
      )
      const [dyingId, honestId] = ids as [string, string]
      await waitFor(() => ids.every((id) => buyer.host.gossip.meshPeers(txTopic(ARTICLE)).includes(id)), {
        timeoutMs: 15_000,
        what: 'meshes with both sellers'
      })

      // The dying seller is the cheaper offer (MATCH-7): it wins the first BUY.
      dying.send('sell 1000')
      honest.send('sell 1500')
      const sellIds = await Promise.all(
        [dying, honest].map(async (c) => (await c.next('bid', 15_000)).split(' ')[1] ?? '')
      )
      await waitFor(() => sellIds.every((id) => buyer.book.get(id) !== undefined), {
        timeoutMs: 10_000,
        what: 'both offers in the buyer book'
      })
      // each seller holds the other's offer (through the buyer) before the BUY goes out
      dying.send(`has ${sellIds[1]}`)
      honest.send(`has ${sellIds[0]}`)
      await Promise.all([dying, honest].map((c) => c.next('has', 15_000)))

      const established: Transaction[] = []
      buyer.market.addEventListener('tx:established', (e) => established.push(e.detail.tx))
      const data = randomData(workBytes)
      const work: Manifest = await importStream([data], buyer.chunks)
      const progress: { phase: string; details: Record<string, unknown> }[] = []
      let dyingChunks = -1
      const died = dying.next('dying', 120_000).then((l) => {
        dyingChunks = Number(l.split(' ')[1])
      })
      const t0 = performance.now()
      const bought = await buyer.buy(ARTICLE, work, {
        price: money('BTC', 2000n),
        attempts: 3,
        signal: AbortSignal.timeout(small ? 40_000 : 90_000),
        onProgress: (phase, details) => progress.push({ phase, details })
      })
      const buyMs = msSince(t0)
      await died.catch(() => {})
      await dying.kill()
      const soldLine = await honest.next('sold', 15_000).catch(() => '')
      const honestFinished = soldLine.split(' ')[1] === bought.tx.id

      // The result, checked on the drill side: the work reversed.
      const result = await readAll(buyer.chunks, bought.result)
      const resultOk = hex(sha256(result)) === hex(sha256(Uint8Array.from(data).reverse()))
      const first = progress.find((p) => p.phase === 'established')?.details
      const firstTxId = String(first?.txid)
      const retryCode = String(progress.find((p) => p.phase === 'retry')?.details.code ?? 'none')
      const firstBefore = channel.current(firstTxId)
      const bidIds = established.flatMap((t) => [t.terms.buyBidId, t.terms.sellBidId])

      // Past the deadline, the dead seller's transaction retires by the phase rules (TX-18, TX-19).
      skewMs = PAST_DEADLINES_MS
      const firstAfter = await channel.retireDue(firstTxId)
      const passed =
        resultOk &&
        bought.tx.terms.sellerPeerId === honestId &&
        first?.seller === dyingId &&
        dyingChunks >= KILL_AFTER_CHUNKS &&
        retryCode === 'TRADE_SELLER_UNREACHABLE' &&
        honestFinished &&
        firstBefore !== undefined &&
        firstBefore.phase !== 'FINISHED' &&
        firstAfter?.state === 'retired' &&
        firstAfter.outcome?.result === 'buyer-refunded' &&
        new Set(bidIds).size === bidIds.length
      return {
        passed,
        ...(passed ? {} : { reason: 'see figures' }),
        work_bytes: workBytes,
        work_chunks: work.chunks.length,
        seller_killed_after_chunks: dyingChunks,
        first_seller_dead: first?.seller === dyingId,
        retry_code: retryCode,
        attempts: bought.attempts,
        bought_from_second_seller: bought.tx.terms.sellerPeerId === honestId,
        result_correct: resultOk,
        second_seller_finished: honestFinished,
        transactions_established: established.length,
        bids_reused: bidIds.length - new Set(bidIds).size,
        first_tx_phase_at_kill: firstBefore?.phase ?? 'none',
        first_tx_retired: firstAfter?.state === 'retired',
        first_tx_outcome: firstAfter?.outcome?.result ?? 'none',
        first_tx_reason: firstAfter?.outcome?.reason ?? 'none',
        buy_ms: buyMs
      }
    } finally {
      for (const c of children) c.send('stop')
      await Promise.all(children.map((c) => c.kill()))
      await Promise.all(nodes.map((n) => n.stop()))
    }
  }
}

/** The bytes of a manifest's file, read from `store`. */
async function readAll(store: ChunkStore, m: Manifest): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const part of exportStream(m, store)) parts.push(part)
  return new Uint8Array(Buffer.concat(parts))
}
