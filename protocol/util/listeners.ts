/**
 * Listeners registered per key (a transaction id, an article, …): `add` returns the function
 * that removes the listener again, and a key whose last listener left is forgotten, so the map
 * holds only keys someone listens to.
 */
export class KeyedListeners<K, A> {
  private readonly byKey = new Map<K, Set<(arg: A) => void>>()

  /** Calls `listener` on every {@link emit} for `key` until the returned function is called. */
  add(key: K, listener: (arg: A) => void): () => void {
    let set = this.byKey.get(key)
    if (set === undefined) {
      set = new Set()
      this.byKey.set(key, set)
    }
    const own = set
    own.add(listener)
    return () => {
      own.delete(listener)
      if (own.size === 0 && this.byKey.get(key) === own) this.byKey.delete(key)
    }
  }

  /** Calls the listeners of `key` with `arg` (those present when it starts; one may remove itself). */
  emit(key: K, arg: A): void {
    const set = this.byKey.get(key)
    if (set === undefined) return
    for (const l of [...set]) l(arg)
  }

  /** Number of keys with at least one listener. */
  get size(): number {
    return this.byKey.size
  }
}
