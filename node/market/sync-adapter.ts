import { parseMatchKey } from '../../protocol/article/index.js'
import type { Network } from '../../protocol/identity/index.js'
import { type BookSnapshot, type MatchableBid, matchableOf } from '../../protocol/matching/index.js'
import type { SyncBook, SyncSnapshots } from '../sync/book.js'
import { validateSyncedBid } from '../sync/book.js'
import type { BidBook } from './book.js'

/** Options of {@link bookSyncAdapters}. */
export interface BookSyncOptions {
  /** Allowance for future-dated bids (BID-15), the same as the gossip validator's. */
  readonly maxClockSkewMs: number
  /** Address network; default mainnet. */
  readonly network?: Network
  /** Clock, ms since the epoch (snapshot adoption re-offers pending bids at this time). */
  readonly clock: () => number
  /** The node's digest of a book after an epoch (`Market.epochDigest`): enables chain checks (SYNC-15). */
  readonly digestAt?: (key: string, epoch: number) => string | undefined
  /** Called after a snapshot was adopted, with the digest the book had at its epoch before. */
  readonly onAdopted?: (snapshot: BookSnapshot, previous: string | undefined, rejoin: boolean) => void
}

/**
 * The node's bid book as book sync sees it (MARKET-6, SYNC-8, SYNC-11): `SyncBook` serves the
 * live and synced bids and admits pulled bids through the normal bid validator (without the
 * late cutoff: a synced bid may rest in a closed epoch); `SyncSnapshots` serves and adopts the
 * matching books' snapshots.
 */
export function bookSyncAdapters(
  book: BidBook,
  opts: BookSyncOptions
): { book: SyncBook; snapshots: SyncSnapshots } {
  const syncBook: SyncBook = {
    articles: () => book.articles(),
    liveBids: (article, nowMs) =>
      book
        .servedBids(article, nowMs)
        .map((l) => ({ id: l.bid.id, bytes: l.bytes, expiresMs: l.bid.expiresMs })),
    addBid(article, bytes, nowMs) {
      if (!book.follows(article)) return { result: 'ignore', code: 'BOOK_NOT_FOLLOWED' }
      const v = validateSyncedBid(article, bytes, nowMs, {
        maxClockSkewMs: opts.maxClockSkewMs,
        isDuplicate: (id) => book.held(id) !== undefined,
        ...(opts.network !== undefined ? { network: opts.network } : {})
      })
      if (v.result !== 'accept') return v
      const r = book.addSynced(v.bid, bytes, nowMs)
      return r.result === 'accept' ? { result: 'accept' } : r
    }
  }
  const snapshots: SyncSnapshots = {
    keys: (article) => book.matcher.keys().filter((k) => parseMatchKey(k).article === article),
    snapshot: (key: string): BookSnapshot | undefined =>
      book.matcher.keys().includes(key) ? book.matcher.book(key).snapshot() : undefined,
    matchable(key: string, id: string): MatchableBid | undefined {
      const l = book.held(id)
      return l === undefined || l.key !== key ? undefined : matchableOf(l.bid)
    },
    adopt: (snapshot, rejoin = false) => {
      const previous = opts.digestAt?.(snapshot.key, snapshot.closedEpoch)
      book.adoptSnapshot(snapshot, opts.clock())
      opts.onAdopted?.(snapshot, previous, rejoin)
    },
    ...(opts.digestAt !== undefined ? { digestAt: opts.digestAt } : {})
  }
  return { book: syncBook, snapshots }
}
