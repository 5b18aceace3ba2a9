/**
 * Child process of the `seller-killed-mid-transfer` and `memory-flood` drills: a trader node
 * (memory store) selling with one reversing worker per SELL bid. With `<killAfterChunks>` above 0
 * it SIGKILLs itself when that many work chunks have arrived in its chunk store (it only sells
 * then: the buyer is in the middle of the transfer), printing `dying <chunks>` first.
 * Lines on stdin: `sell <satoshi>` places a SELL and prints `bid <id>`; `has <id>` waits until
 * that bid is in the book and prints `has <id>`; `buy <satoshi> <bytes>` buys the reversal of
 * that many random bytes (at most two bids) and prints `buy ok <txid> <ms> <attempts>` when the
 * result is the work reversed, else `buy fail <code>`. Prints `ready <peerId>`
 * once connected to `<peer>`, `tx <id>` when a sale is established, `sold <id> <phase>` when the
 * trade ends. `serve <bytes> <peerId>` stores that many random bytes as a file, lets that peer
 * fetch it (CHUNK-14) and prints `serving <manifestHex>`.
 * Usage: node seller-child.js <peerMultiaddr> <article> <epochMs> <settleMs> <killAfterChunks>
 */
import '../../node/polyfill.js'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { decodeManifest, encodeManifest } from '../../cafs/manifest.js'
import { MemoryChunkStore } from '../../cafs/store/memory.js'
import { exportStream, importStream } from '../../cafs/stream.js'
import type { ChunkStore } from '../../cafs/types.js'
import { isNodeTradeError, NodeTradeCode } from '../../node/market/index.js'
import { createBitwrkNode } from '../../node/node.js'
import { createMemoryController, openStore } from '../../node/store/index.js'
import { waitFor } from '../../node/testing.js'
import { isBitwrkError } from '../../protocol/errors.js'
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
    host: { dhtSelfQuery: false },
    chunkStore: dyingStore(new MemoryChunkStore(), killAfter)
  })
  await node.start()
  node.sell({ work: async (w: Uint8Array) => Uint8Array.from(w).reverse() })
  node.market.addEventListener('tx:established', (e) => {
    if (e.detail.own === 'seller') out(`tx ${e.detail.tx.id}`)
  })
  node.market.addEventListener('tx:phase', (e) => {
    if (e.detail.tx.phase === 'FINISHED') out(`sold ${e.detail.tx.id} ${e.detail.tx.phase}`)
  })
  await node.host.libp2p.dial(multiaddr(peer), { signal: AbortSignal.timeout(10_000) })
  out(`ready ${node.peerId}`)
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, arg, ...rest] = line.split(' ')
    if (cmd === 'stop') break
    if (cmd === 'sell') {
      const bid = await node.placeBid({ article, side: 'SELL', price: money('BTC', BigInt(arg ?? '0')) })
      out(`bid ${bid.id}`)
    } else if (cmd === 'has') {
      await waitFor(() => node.book.get(arg ?? '') !== undefined, { timeoutMs: 15_000, what: 'bid in book' })
      out(`has ${arg}`)
    } else if (cmd === 'fetch') {
      // honest load: fetch a file the peer serves (its manifest) again and again for `ms`
      // (in the background: trades go on meanwhile)
      const manifest = decodeManifest(new Uint8Array(Buffer.from(arg ?? '', 'hex')))
      const until = performance.now() + Number(rest[0] ?? '0')
      const provider = peerIdFromString(rest[1] ?? '')
      void (async () => {
        let n = 0
        while (performance.now() < until) {
          await node.exchange.fetchFile(manifest, {
            providers: [provider],
            store: new MemoryChunkStore(),
            requestsPerProvider: 1
          })
          n++
        }
        out(`fetched ${n}`)
      })().catch((err: unknown) => out(`fetched fail ${isBitwrkError(err) ? err.code : 'UNKNOWN'}`))
    } else if (cmd === 'serve') {
      const file = await importStream([new Uint8Array(randomBytes(Number(arg ?? '0')))], node.chunks, {
        pin: true
      })
      node.files.grant('drill-serve', rest[0] ?? '', file)
      out(`serving ${Buffer.from(encodeManifest(file)).toString('hex')}`)
    } else if (cmd === 'buy') {
      const data = new Uint8Array(randomBytes(Number(rest[0] ?? '0')))
      const t0 = performance.now()
      try {
        const bought = await node.buy(article, await importStream([data], node.chunks), {
          price: money('BTC', BigInt(arg ?? '0')),
          // a second bid when the first found no match in time (epochs are short here)
          attempts: 2,
          signal: AbortSignal.timeout(60_000)
        })
        const parts: Uint8Array[] = []
        for await (const p of exportStream(bought.result, node.chunks)) parts.push(p)
        const ok = Buffer.compare(Buffer.concat(parts), Buffer.from(data).reverse()) === 0
        const ms = Math.round(performance.now() - t0)
        out(ok ? `buy ok ${bought.tx.id} ${ms} ${bought.attempts}` : 'buy fail WRONG_RESULT')
      } catch (err) {
        const last = isNodeTradeError(err, NodeTradeCode.BUY_FAILED) ? err.details.lastCode : undefined
        out(`buy fail ${isBitwrkError(err) ? err.code : 'UNKNOWN'}${last !== undefined ? `:${last}` : ''}`)
      }
    }
  }
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
