import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LevelChunkStore } from '../../cafs/store/level.js'
import { bidTopic, txTopic } from '../../node/gossip/index.js'
import { type BitwrkNode, createBitwrkNode } from '../../node/node.js'
import { createMemoryController, openStore } from '../../node/store/index.js'
import { waitFor } from '../../node/testing.js'
import { Identity } from '../../protocol/identity/index.js'
import { money } from '../../protocol/money/index.js'
import type { Drill } from '../drill.js'
import { type ChildLines, sha256, spawnLines } from './support.js'

/** The drill's article. */
const ARTICLE = 'net.bitwrk/drill/crash'
/** Short epochs (as the market tests: 250 ms epochs, 1 s settle delay). */
const PARAMS = { epochMs: 250, settleMs: 1000 } as const
/** Past every phase deadline of an established transaction (TRANSMITTING: 60 s + 2 min, TX-13). */
const PAST_DEADLINES_MS = 4 * 60_000
/** The node's script. */
const CHILD = fileURLToPath(new URL('./crash-node-child.js', import.meta.url))

/**
 * `crash-restart`: a node process on a data directory establishes transactions (as seller,
 * against an in-process buyer), stores a file in its chunk store, and is SIGKILLed while it
 * keeps writing further chunks. Restarted from the data directory (in this process): the
 * identity is the same; every transaction is still there exactly once and resumed (its
 * deadline has not passed); the used-bid marks point at their transactions; the file's chunks
 * are all present and every stored chunk re-hashes to its key. A second restart with the clock
 * past the deadlines retires every transaction by the phase rules. Passes when all hold.
 */
export const drill: Drill = {
  name: 'crash-restart',
  async run({ small }) {
    const txCount = small ? 1 : 3
    const fileBytes = small ? 1 << 20 : 8 << 20
    const dir = await mkdtemp(join(tmpdir(), 'bitwrk-drill-crash-'))
    const nodes: BitwrkNode[] = []
    let child: ChildLines | undefined
    const nodeOpts = {
      loopbackOnly: true,
      epochParams: PARAMS,
      gossip: { heartbeatIntervalMs: 100 },
      host: { dhtSelfQuery: false }
    }
    try {
      const buyer = await createBitwrkNode({
        ...nodeOpts,
        articles: [ARTICLE],
        store: await openStore(createMemoryController()),
        identity: Identity.generate((n) => new Uint8Array(randomBytes(n)))
      })
      nodes.push(buyer)
      await buyer.start()
      const buyerAddr = String(buyer.host.multiaddrs()[0])
      child = spawnLines(CHILD, [dir, buyerAddr, ARTICLE, String(PARAMS.epochMs), String(PARAMS.settleMs)])
      const sellerId = ((await child.next('ready', 60_000)).split(' ')[1] ?? '').trim()
      await waitFor(
        () =>
          [bidTopic(ARTICLE), txTopic(ARTICLE)].every((t) =>
            buyer.host.gossip.meshPeers(t).includes(sellerId)
          ),
        { timeoutMs: 15_000, what: 'meshes with the seller' }
      )

      // Open transactions: the child sells, the buyer buys, both sides establish.
      const txs = new Map<string, string>() // tx id → the seller's bid id
      for (let i = 0; i < txCount; i++) {
        child.send('sell 700')
        const sellId = ((await child.next('bid', 15_000)).split(' ')[1] ?? '').trim()
        await waitFor(() => buyer.book.get(sellId) !== undefined, {
          timeoutMs: 10_000,
          what: 'sell at the buyer'
        })
        await buyer.placeBid({
          article: ARTICLE,
          side: 'BUY',
          price: money('BTC', 800n),
          work: { workHash: randomBytes(32).toString('hex'), buyerSecret: randomBytes(32).toString('hex') }
        })
        const txId = ((await child.next('tx', 20_000)).split(' ')[1] ?? '').trim()
        txs.set(txId, sellId)
      }
      child.send(`import ${fileBytes}`)
      const [, fileKeyHex, chunkCountText, keyList] = (await child.next('file', 60_000)).split(' ')
      const fileChunkKeys = (keyList ?? '').split(',').filter((k) => k.length > 0)
      // Kill while it writes more chunks (a few files in, so the kill lands mid-write).
      child.send('churn')
      await child.next('churn', 60_000)
      await child.next('churn', 60_000)
      await child.kill()

      // Restart 1: the same clock, from the data directory alone (no articles given).
      const a2 = await createBitwrkNode({ ...nodeOpts, dataDir: dir })
      nodes.push(a2)
      await a2.start()
      const identityKept = a2.peerId === sellerId
      const openIds = await a2.repos.transactions.openIds()
      const uniqueOpen = new Set(openIds)
      let resumed = 0
      let marksOk = 0
      for (const [txId, bidId] of txs) {
        const f = a2.market.txs.get(txId)
        if (f?.tx.state === 'active' && f.party === 'seller') resumed++
        if ((await a2.repos.bids.usedBy(bidId))?.txId === txId) marksOk++
      }
      const noDuplicates = uniqueOpen.size === openIds.length && openIds.length === txs.size
      const followedExactly = [...txs.keys()].every((id) => uniqueOpen.has(id))
      await a2.stop()

      // Chunks: the imported file whole, every stored chunk intact.
      const chunks = await LevelChunkStore.open({ path: join(dir, 'chunks') })
      let fileChunksOk = 0
      let chunksAfterKill = 0
      let scrubOk = 0
      let scrubRemoved = -1
      try {
        chunksAfterKill = chunks.stats().chunks
        // every chunk of the file, re-hashed on the drill side
        for (const k of fileChunkKeys) {
          const b = await chunks.get(Buffer.from(k, 'hex'))
          if (b !== undefined && Buffer.from(sha256(b)).toString('hex') === k) fileChunksOk++
        }
        // then every chunk the store holds, including those of the write the kill cut short
        const scrub = await chunks.scrub()
        scrubRemoved = scrub.removed
        scrubOk = scrub.ok
      } finally {
        await chunks.close()
      }

      // Restart 2: past every deadline: each transaction is retired by the phase rules.
      const later = (): number => Date.now() + PAST_DEADLINES_MS
      const a3 = await createBitwrkNode({ ...nodeOpts, dataDir: dir, clock: later })
      nodes.push(a3)
      await a3.start()
      let retired = 0
      for (const txId of txs.keys()) if ((await a3.market.transaction(txId))?.state === 'retired') retired++
      const openAfterRetire = (await a3.repos.transactions.openIds()).length
      await a3.stop()

      const chunkCount = Number(chunkCountText)
      const passed =
        identityKept &&
        resumed === txs.size &&
        marksOk === txs.size &&
        noDuplicates &&
        followedExactly &&
        scrubRemoved === 0 &&
        fileChunkKeys.length === chunkCount &&
        fileChunksOk === chunkCount &&
        chunksAfterKill === scrubOk &&
        retired === txs.size &&
        openAfterRetire === 0
      return {
        passed,
        ...(passed ? {} : { reason: 'see figures' }),
        identity_kept: identityKept,
        transactions: txs.size,
        resumed,
        used_marks_ok: marksOk,
        open_after_restart: openIds.length,
        duplicates: openIds.length - uniqueOpen.size,
        file_key: fileKeyHex,
        file_chunks: chunkCount,
        chunks_after_kill: chunksAfterKill,
        file_chunks_intact: fileChunksOk,
        chunks_verified: scrubOk,
        chunks_corrupt_removed: scrubRemoved,
        retired_past_deadline: retired,
        open_after_retire: openAfterRetire
      }
    } finally {
      await child?.kill()
      await Promise.all(nodes.map((n) => n.stop()))
      await rm(dir, { recursive: true, force: true })
    }
  }
}
