import { randomBytes } from 'node:crypto'
import { createHost } from '../../node/host/host.js'
import { createSyncMetrics, MemorySyncBook, SyncService } from '../../node/sync/index.js'
import { randomPrivateKey, testBid, waitFor } from '../../node/testing.js'
import { Identity } from '../../protocol/identity/index.js'
import type { Bench } from '../bench.js'

/** Live bids in the network's book (issue 4: 10,000) and responders the joiner connects to. */
const LIVE_BIDS = 10_000
const PEERS = 4
/** Articles and distinct bidders signing the bids. */
const ARTICLES = ['net.bitwrk/gorays/0', 'net.bitwrk/blender/0', 'net.bitwrk/povray/1', 'net.bitwrk/render/2']
const BIDDERS = 20

/**
 * Bid sync: `PEERS` hosts each hold every one of `LIVE_BIDS` live signed bids (4 articles, 20
 * bidders); a fresh joiner with automatic sync dials them all. Reported: ms from the first dial
 * until it holds 99.9 % and 100 % of the bids (every bid validated, signature included), bytes
 * on its sync streams (both directions, framing included) next to the raw bid bytes, and the
 * time to validate the same bids without any network (the CPU floor, same run).
 */
export const bench: Bench = {
  name: 'sync',
  async run({ quick }) {
    const n = quick ? 2000 : LIVE_BIDS
    const now = Date.now()
    const people = Array.from({ length: BIDDERS }, () =>
      Identity.generate((k) => new Uint8Array(randomBytes(k)))
    )
    const bids = Array.from({ length: n }, (_, i) =>
      testBid(ARTICLES[i % ARTICLES.length] as string, {
        identity: people[i % BIDDERS] as Identity,
        createdMs: now - 30_000 + (i % 30_000),
        lifetimeMs: 120_000,
        type: i % 2 === 0 ? 'BUY' : 'SELL',
        price: `mBTC ${1 + (i % 97)}`
      })
    )
    const rawBytes = bids.reduce((s, b) => s + b.bytes.length, 0)
    // the CPU floor, side by side: validating every bid into a book without any network
    const floorBook = new MemorySyncBook(ARTICLES)
    const tv = performance.now()
    for (const b of bids) floorBook.addBid(b.bid.article, b.bytes, now)
    const validateMs = performance.now() - tv
    const stops: (() => Promise<void>)[] = []
    try {
      const peers = []
      for (let p = 0; p < PEERS; p++) {
        const book = new MemorySyncBook(ARTICLES)
        for (const b of bids) book.addBid(b.bid.article, b.bytes, now)
        const host = await createHost({ privateKey: randomPrivateKey(), loopbackOnly: true })
        const sync = new SyncService({ libp2p: host.libp2p, book, autoSync: false })
        await sync.start()
        stops.push(async () => {
          await sync.stop()
          await host.stop()
        })
        peers.push(host)
      }
      const joinerBook = new MemorySyncBook(ARTICLES)
      const metrics = createSyncMetrics()
      const host = await createHost({ privateKey: randomPrivateKey(), loopbackOnly: true })
      const sync = new SyncService({ libp2p: host.libp2p, book: joinerBook, metrics })
      await sync.start()
      stops.push(async () => {
        await sync.stop()
        await host.stop()
      })
      const count = (): number => ARTICLES.reduce((s, a) => s + joinerBook.size(a), 0)
      const t0 = performance.now()
      await Promise.all(
        peers.map((p) =>
          host.libp2p.dial(p.multiaddrs()[0] as never, { signal: AbortSignal.timeout(10_000) })
        )
      )
      let ms999 = Number.NaN
      await waitFor(
        () => {
          if (Number.isNaN(ms999) && count() >= Math.ceil(n * 0.999)) ms999 = performance.now() - t0
          return count() === n
        },
        { timeoutMs: 120_000, intervalMs: 5, what: 'joiner holds every bid' }
      )
      const ms100 = performance.now() - t0
      // let the later peers' sessions (which find equal digests) finish before counting bytes
      await waitFor(() => sync.openStreams === 0, { timeoutMs: 30_000, what: 'sessions to end' })
      let bytes = 0
      for (const v of (await metrics.bytes.get()).values) bytes += v.value
      return {
        live_bids: n,
        peers: PEERS,
        ms_to_999: Math.round(ms999),
        ms_to_100: Math.round(ms100),
        validate_only_ms: Math.round(validateMs),
        bytes,
        raw_bid_bytes: rawBytes,
        bytes_per_raw_byte: Math.round((bytes / rawBytes) * 1000) / 1000
      }
    } finally {
      for (const s of stops.reverse()) await s()
    }
  }
}
