import { OrderBook } from './book.js'
import { checkEpochParams } from './epoch.js'
import type {
  AddResult,
  BookSnapshot,
  EpochParams,
  EpochResult,
  MatchableBid,
  MatchableCancel
} from './types.js'

/**
 * All books of a node, one {@link OrderBook} per match key (MATCH-3; build keys with the article
 * module's `matchKey`), created on first use and sharing one set of epoch parameters. Bids of
 * different keys never meet.
 */
export class Matcher {
  /** Epoch parameters of every book. */
  readonly params: EpochParams
  private readonly books = new Map<string, OrderBook>()

  /** Creates a matcher without books; throws `MATCH_BAD_PARAMS` for bad parameters. */
  constructor(params: Partial<EpochParams> = {}) {
    this.params = checkEpochParams(params)
  }

  /** The book of `key`, created empty when new. */
  book(key: string): OrderBook {
    let book = this.books.get(key)
    if (!book) {
      book = new OrderBook(key, this.params)
      this.books.set(key, book)
    }
    return book
  }

  /** Replaces the book of `snapshot.key` by {@link OrderBook.fromSnapshot} (MATCH-16). */
  restore(snapshot: BookSnapshot): OrderBook {
    const book = OrderBook.fromSnapshot(snapshot, this.params)
    this.books.set(snapshot.key, book)
    return book
  }

  /** Match keys with a book, in ascending order. */
  keys(): string[] {
    return [...this.books.keys()].sort()
  }

  /** {@link OrderBook.add} on the book of `key`. */
  add(key: string, bid: MatchableBid, nowMs: number): AddResult {
    return this.book(key).add(bid, nowMs)
  }

  /** {@link OrderBook.cancel} on the book of `key`. */
  cancel(key: string, cancel: MatchableCancel, nowMs: number): AddResult {
    return this.book(key).cancel(cancel, nowMs)
  }

  /** Advances every book to `nowMs`; results ordered by epoch, then key. */
  advance(nowMs: number): EpochResult[] {
    const out: EpochResult[] = []
    for (const book of this.books.values()) out.push(...book.advance(nowMs))
    return out.sort((a, b) => a.epoch - b.epoch || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  /** Earliest {@link OrderBook.nextWorkAtMs} over all books, or undefined when all are idle. */
  nextWorkAtMs(): number | undefined {
    let next: number | undefined
    for (const book of this.books.values()) {
      const t = book.nextWorkAtMs()
      if (t !== undefined && (next === undefined || t < next)) next = t
    }
    return next
  }
}
