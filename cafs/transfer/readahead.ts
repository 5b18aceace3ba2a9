/**
 * Yields `fn(item)` for each item in order while keeping up to `depth` calls running ahead, so
 * store reads overlap with network writes (the stream stays full).
 */
export async function* readAhead<T, R>(
  items: readonly T[],
  fn: (item: T) => Promise<R>,
  depth: number
): AsyncGenerator<R> {
  const queue: Promise<R>[] = []
  let next = 0
  const refill = (): void => {
    while (queue.length < depth && next < items.length) {
      const p = fn(items[next++] as T)
      // Handled when awaited below; this only stops an early rejection counting as unhandled.
      p.catch(() => {})
      queue.push(p)
    }
  }
  refill()
  while (queue.length > 0) {
    const p = queue.shift() as Promise<R>
    refill()
    yield await p
  }
}
