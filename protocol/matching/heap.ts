/**
 * Array-backed binary heap ordered by a strict total order `before(a, b)` ("a comes out
 * first"). With a total order the sequence of `pop()` results depends only on the set of
 * elements, never on the order of insertion: the determinism of matching rests on this.
 * Deletion is lazy (the book marks entries dead and skips them at the top); `retain` compacts.
 */
export class Heap<T> {
  private items: T[] = []
  private readonly before: (a: T, b: T) => boolean

  /** Creates an empty heap ordered by `before`. */
  constructor(before: (a: T, b: T) => boolean) {
    this.before = before
  }

  /** Number of elements, dead ones included. */
  get size(): number {
    return this.items.length
  }

  /** The first element, or undefined when empty. O(1). */
  peek(): T | undefined {
    return this.items[0]
  }

  /** Adds an element. O(log n). */
  push(item: T): void {
    const items = this.items
    items.push(item)
    this.up(items.length - 1)
  }

  /** Removes and returns the first element. O(log n). */
  pop(): T | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last !== undefined) {
      items[0] = last
      this.down(0)
    }
    return top
  }

  /** Keeps only the elements for which `keep` is true and restores the heap order. O(n). */
  retain(keep: (item: T) => boolean): void {
    this.items = this.items.filter(keep)
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i)
  }

  /** All elements in no particular order (a copy). */
  toArray(): T[] {
    return this.items.slice()
  }

  private up(i: number): void {
    const items = this.items
    const item = items[i] as T
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = items[parent] as T
      if (!this.before(item, p)) break
      items[i] = p
      i = parent
    }
    items[i] = item
  }

  private down(i: number): void {
    const items = this.items
    const n = items.length
    const item = items[i] as T
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      let c = l
      let child = items[l] as T
      if (r < n) {
        const right = items[r] as T
        if (this.before(right, child)) {
          c = r
          child = right
        }
      }
      if (!this.before(child, item)) break
      items[i] = child
      i = c
    }
    items[i] = item
  }
}
