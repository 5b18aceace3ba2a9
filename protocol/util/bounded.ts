/** A Map or Set: what {@link evictOldest} bounds (both iterate keys in insertion order). */
export interface InsertionOrdered<K> {
  /** Number of entries. */
  readonly size: number
  /** Keys, oldest inserted first. */
  keys(): IterableIterator<K>
  /** Removes `key`. */
  delete(key: K): boolean
}

/**
 * Bounds an insertion-ordered Map or Set (DESIGN.md invariant 10): deletes its oldest entries
 * until it holds at most `maxSize`. Re-inserting a key (`delete`, then `set`) makes it the
 * newest, so the same call bounds a recency (LRU) order. To make room before an insertion,
 * bound to `maxSize - 1`.
 */
export function evictOldest<K>(collection: InsertionOrdered<K>, maxSize: number): void {
  for (const key of collection.keys()) {
    if (collection.size <= maxSize) return
    collection.delete(key)
  }
}
