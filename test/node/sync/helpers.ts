import { randomBytes } from 'node:crypto'
import { type BitwrkHost, createHost } from '../../../node/host/host.js'
import {
  MemorySyncBook,
  type SyncBook,
  type SyncPeerReport,
  SyncService,
  type SyncServiceOptions,
  type SyncSnapshots
} from '../../../node/sync/index.js'
import { randomPrivateKey, testBid } from '../../../node/testing.js'
import type { Bid } from '../../../protocol/bid/index.js'
import { Identity } from '../../../protocol/identity/index.js'

/** Articles of the sync tests. */
export const ARTICLES = ['net.bitwrk/gorays/0', 'net.bitwrk/blender/0', 'net.bitwrk/povray/1'] as const

/** A signed bid with its wire bytes. */
export interface TestBid {
  readonly bid: Bid
  readonly bytes: Uint8Array
}

/**
 * `n` live bids from `participants` identities over `articles` (default {@link ARTICLES}), created in the last 50 s
 * and living 120 s (BID_MAX_LIFETIME_MS), so all stay live for more than a minute.
 */
export function liveBids(
  n: number,
  participants = 10,
  nowMs = Date.now(),
  articles: readonly string[] = ARTICLES
): TestBid[] {
  const ids = Array.from({ length: participants }, () =>
    Identity.generate((k) => new Uint8Array(randomBytes(k)))
  )
  return Array.from({ length: n }, (_, i) =>
    testBid(articles[i % articles.length] as string, {
      identity: ids[i % participants] as Identity,
      createdMs: nowMs - 50_000 + ((i * 7919) % 50_000),
      lifetimeMs: 120_000,
      type: i % 2 === 0 ? 'BUY' : 'SELL',
      price: `mBTC ${1 + (i % 97)}`
    })
  )
}

/** A host with a sync service, for one test. */
export interface SyncNode {
  readonly host: BitwrkHost
  readonly sync: SyncService
  readonly reports: SyncPeerReport[]
  stop(): Promise<void>
}

/** Starts a loopback host and a {@link SyncService} on `book`. */
export async function startSyncNode(
  book: SyncBook,
  opts: Partial<Omit<SyncServiceOptions, 'libp2p' | 'book'>> & { snapshots?: SyncSnapshots } = {}
): Promise<SyncNode> {
  const host = await createHost({ privateKey: randomPrivateKey(), loopbackOnly: true })
  const reports: SyncPeerReport[] = []
  const sync = new SyncService({
    autoSync: false,
    ...opts,
    libp2p: host.libp2p,
    book,
    onReport: (r) => {
      reports.push(r)
      opts.onReport?.(r)
    }
  })
  await sync.start()
  return {
    host,
    sync,
    reports,
    async stop() {
      await sync.stop()
      await host.stop()
    }
  }
}

/** Dials `b` from `a`. */
export async function connect(a: SyncNode | BitwrkHost, b: SyncNode | BitwrkHost): Promise<void> {
  const ha = 'host' in a ? a.host : a
  const hb = 'host' in b ? b.host : b
  const addr = hb.multiaddrs()[0]
  if (addr === undefined) throw new Error('no address')
  await ha.libp2p.dial(addr, { signal: AbortSignal.timeout(10_000) })
}

/** A fresh in-memory book following {@link ARTICLES}. */
export function memoryBook(): MemorySyncBook {
  return new MemorySyncBook([...ARTICLES])
}

/** Number of `bids` that `book` holds. */
export function held(book: MemorySyncBook, bids: readonly TestBid[]): number {
  let n = 0
  for (const b of bids) if (book.has(b.bid.article, b.bid.id)) n++
  return n
}
