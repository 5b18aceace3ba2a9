/**
 * The one deadline helper of the node's I/O (issue 13): races a promise against a timer and an
 * AbortSignal, each failure with the caller's own error, and always clears the timer.
 */

/** Options of {@link withDeadline}. */
export interface DeadlineOptions {
  /** The deadline, ms from now; no timer when undefined. */
  readonly timeoutMs?: number | undefined
  /** Rejects the race when it fires (also when it already has). */
  readonly signal?: AbortSignal | undefined
  /** The error a missed deadline rejects with. */
  readonly onTimeout: () => Error
  /** The error an abort rejects with, built from the signal's reason. */
  readonly onAbort: (reason: unknown) => Error
}

/**
 * Settles like `p` unless the deadline passes first (rejects with `onTimeout()`) or the signal
 * fires (rejects with `onAbort(signal.reason)`). The timer and the abort listener are removed
 * when the race settles; a `p` that loses keeps running, its rejection handled.
 */
export function withDeadline<T>(p: Promise<T>, opts: DeadlineOptions): Promise<T> {
  const { timeoutMs, signal } = opts
  if (signal?.aborted === true) {
    p.catch(() => {})
    return Promise.reject(opts.onAbort(signal.reason))
  }
  if (timeoutMs === undefined && signal === undefined) return p
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const onAbort = (): void => {
      cleanup()
      reject(opts.onAbort(signal?.reason))
    }
    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
    if (timeoutMs !== undefined)
      timer = setTimeout(() => {
        cleanup()
        reject(opts.onTimeout())
      }, timeoutMs)
    signal?.addEventListener('abort', onAbort, { once: true })
    p.then(
      (v) => {
        cleanup()
        resolve(v)
      },
      (err: unknown) => {
        cleanup()
        reject(err)
      }
    )
  })
}
