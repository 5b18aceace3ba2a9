/** A byte bound of {@link readAhead}: results held ahead of the consumer stop new calls. */
export interface ReadAheadBytes<R> {
  /** Bytes a result holds. */
  readonly sizeOf: (result: R) => number
  /** New calls start only while the finished results not yet consumed hold less than this. */
  readonly maxBytes: number
}

/**
 * Yields `fn(item)` for each item in order while keeping up to `depth` calls running ahead, so
 * store reads overlap with network writes (the stream stays full). With `bytes`, the results
 * waiting for the consumer are also bounded in bytes: a consumer that cannot write (a peer that
 * does not read) holds at most about `maxBytes` plus the calls already running.
 */
export async function* readAhead<T, R>(
  items: readonly T[],
  fn: (item: T) => Promise<R>,
  depth: number,
  bytes?: ReadAheadBytes<R>
): AsyncGenerator<R> {
  const queue: Promise<R>[] = []
  let next = 0
  let held = 0
  const refill = (): void => {
    while (queue.length < depth && next < items.length && (bytes === undefined || held < bytes.maxBytes)) {
      const p = fn(items[next++] as T)
      // Handled when awaited below; this only stops an early rejection counting as unhandled.
      p.then(
        (r) => {
          if (bytes !== undefined) held += bytes.sizeOf(r)
        },
        () => {}
      )
      queue.push(p)
    }
  }
  refill()
  while (queue.length > 0) {
    const p = queue.shift() as Promise<R>
    refill()
    const r = await p
    if (bytes !== undefined) held -= bytes.sizeOf(r)
    yield r
  }
}

/**
 * Pulls items from `source` ahead of the consumer and starts `fn` on each at once, keeping up
 * to `depth` results pending; yields `[item, result]` in source order. Lets the chunk hashes of
 * a fetch run on a worker while the next records are decoded. When the consumer stops, the
 * source is closed without waiting for a read in progress (the caller aborts that read).
 */
export async function* mapAhead<T, R>(
  source: AsyncIterable<T>,
  fn: (item: T) => Promise<R>,
  depth: number
): AsyncGenerator<[T, R]> {
  const it = source[Symbol.asyncIterator]()
  const queue: { item: T; result: Promise<R> }[] = []
  let ended = false
  try {
    for (;;) {
      while (!ended && queue.length < depth) {
        const r = await it.next()
        if (r.done === true) ended = true
        else {
          const result = fn(r.value)
          // Awaited in order below; this only stops an early rejection counting as unhandled.
          result.catch(() => {})
          queue.push({ item: r.value, result })
        }
      }
      const head = queue.shift()
      if (head === undefined) return
      yield [head.item, await head.result]
    }
  } finally {
    if (!ended) void it.return?.()?.catch(() => {})
  }
}
