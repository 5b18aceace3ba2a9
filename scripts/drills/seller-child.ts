/**
 * Child process of the `seller-killed-mid-transfer` drill: a seller node (memory store) with
 * the trade wired as the daemon's (one reversing worker per SELL bid). With `<killAfterChunks>`
 * above 0 it SIGKILLs itself when that many work chunks have arrived (the buyer is then in the
 * middle of the transfer), printing `dying <chunks>` first.
 * Lines on stdin: `sell <satoshi>` places a SELL and prints `bid <id>`; `has <id>` waits until
 * that bid is in the book and prints `has <id>`. Prints `ready <peerId>`
 * once connected to `<peer>`, `tx <id>` when a sale is established, `sold <id> <phase>` when the
 * trade ends.
 * Usage: node seller-child.js <peerMultiaddr> <article> <epochMs> <settleMs> <killAfterChunks>
 */
import '../../node/polyfill.js'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { multiaddr } from '@multiformats/multiaddr'
import type { ChunkStore } from '../../cafs/types.js'
import { createBitwrkNode } from '../../node/node.js'
import { createMemoryController, openStore } from '../../node/store/index.js'
import { waitFor } from '../../node/testing.js'
import { TradeService } from '../../node/trade/index.js'
import { MarketTxChannel, wireSeller } from '../../node/trade-wiring.js'
import { Identity } from '../../protocol/identity/index.js'
import { money } from '../../protocol/money/index.js'

const out = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

/**
 * `store` whose `put`/`putVerified` (the two ways a work chunk arrives) SIGKILL the process at
 * the `killAfter`-th chunk: the stored chunk never completes, the buyer's stream breaks.
 */
function dyingStore(store: ChunkStore, killAfter: number): ChunkStore {
  let puts = 0
  return new Proxy(store, {
    get(target, prop, receiver) {
      if ((prop === 'put' || prop === 'putVerified') && killAfter > 0)
        return async (...args: unknown[]) => {
          if (++puts >= killAfter) {
            // the line first (flushed), then the kill; the put never returns
            process.stdout.write(`dying ${puts}\n`, () => process.kill(process.pid, 'SIGKILL'))
            await new Promise<never>(() => {})
          }
          const method = Reflect.get(target, prop, receiver) as (...a: unknown[]) => Promise<void>
          return method.apply(target, args)
        }
      const v: unknown = Reflect.get(target, prop, receiver)
      return typeof v === 'function' ? v.bind(target) : v
    }
  })
}

async function run(peer: string, article: string, epochMs: number, settleMs: number, killAfter: number) {
  const node = await createBitwrkNode({
    store: await openStore(createMemoryController()),
    identity: Identity.generate((n) => new Uint8Array(randomBytes(n))),
    articles: [article],
    loopbackOnly: true,
    epochParams: { epochMs, settleMs },
    gossip: { heartbeatIntervalMs: 100 },
    host: { dhtSelfQuery: false }
  })
  await node.start()
  const channel = new MarketTxChannel(node.market, Date.now)
  const trade = new TradeService({
    libp2p: node.host.libp2p,
    signer: node.identity,
    channel,
    store: dyingStore(node.chunks, killAfter)
  })
  await trade.start()
  const reversing = { work: async (w: Uint8Array) => Uint8Array.from(w).reverse() }
  wireSeller(node.market, trade, () => ({
    worker: reversing,
    done: () => {}
  }))
  node.market.addEventListener('tx:established', (e) => {
    if (e.detail.own === 'seller') out(`tx ${e.detail.tx.id}`)
  })
  node.market.addEventListener('tx:phase', (e) => {
    if (e.detail.tx.phase === 'FINISHED') out(`sold ${e.detail.tx.id} ${e.detail.tx.phase}`)
  })
  await node.host.libp2p.dial(multiaddr(peer), { signal: AbortSignal.timeout(10_000) })
  out(`ready ${node.peerId}`)
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, arg] = line.split(' ')
    if (cmd === 'stop') break
    if (cmd === 'sell') {
      const bid = await node.placeBid({ article, side: 'SELL', price: money('BTC', BigInt(arg ?? '0')) })
      out(`bid ${bid.id}`)
    } else if (cmd === 'has') {
      await waitFor(() => node.book.get(arg ?? '') !== undefined, { timeoutMs: 15_000, what: 'bid in book' })
      out(`has ${arg}`)
    }
  }
  await trade.stop()
  await node.stop()
}

const [peer, article, epochMs, settleMs, killAfter] = process.argv.slice(2)
run(peer ?? '', article ?? '', Number(epochMs), Number(settleMs), Number(killAfter ?? '0')).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`)
    process.exit(1)
  }
)
