import { parseMatchKey } from '../../protocol/article/index.js'
import {
  type BookSnapshot,
  type EpochParams,
  type MatchableBid,
  matchableOf,
  OrderBook
} from '../../protocol/matching/index.js'
import type { MemorySyncBook, SyncSnapshots } from './book.js'

/**
 * An in-memory {@link SyncSnapshots}: one {@link OrderBook} per match key next to a
 * {@link MemorySyncBook} (tests and benchmarks; the node wires its market's books instead).
 */
export class MemorySyncSnapshots implements SyncSnapshots {
  /** The matching books by match key. */
  readonly books = new Map<string, OrderBook>()

  constructor(
    private readonly book: MemorySyncBook,
    private readonly followedKeys: readonly string[],
    private readonly params: Partial<EpochParams> = {}
  ) {}

  /** @inheritdoc */
  keys(article: string): readonly string[] {
    return this.followedKeys.filter((k) => parseMatchKey(k).article === article)
  }

  /** @inheritdoc */
  snapshot(key: string): BookSnapshot | undefined {
    return this.books.get(key)?.snapshot()
  }

  /** @inheritdoc */
  matchable(key: string, id: string): MatchableBid | undefined {
    const { article, currency } = parseMatchKey(key)
    const bid = this.book.bid(article, id)
    return bid === undefined || bid.price.currency !== currency ? undefined : matchableOf(bid)
  }

  /** @inheritdoc */
  adopt(snapshot: BookSnapshot): void {
    this.books.set(snapshot.key, OrderBook.fromSnapshot(snapshot, this.params))
  }

  /** The book of `key`, created on first use. */
  bookOf(key: string): OrderBook {
    let b = this.books.get(key)
    if (b === undefined) {
      b = new OrderBook(key, this.params)
      this.books.set(key, b)
    }
    return b
  }
}
