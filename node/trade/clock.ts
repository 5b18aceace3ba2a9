/**
 * Time for the trade: the phase deadlines of the transaction machine are on the node's clock
 * (TX-13), so every wait asks an injected clock. Tests use {@link TestClock} to jump to a
 * deadline instead of changing the protocol's phase timeouts.
 */

/** A clock with timers. */
export interface TradeClock {
  /** Milliseconds since the Unix epoch. */
  now(): number
  /** Calls `cb` once when `now() >= atMs`; returns a function that cancels the timer. */
  timer(atMs: number, cb: () => void): () => void
}

/** setTimeout's largest delay (2^31 − 1 ms); longer waits re-arm. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1

/** A clock whose timers run on real time offset by `offsetMs()`. */
function offsetTimer(
  now: () => number,
  atMs: number,
  cb: () => void
): { cancel: () => void; check: () => void } {
  let done = false
  let handle: ReturnType<typeof setTimeout> | undefined
  const check = (): void => {
    if (done) return
    if (handle !== undefined) clearTimeout(handle)
    const left = atMs - now()
    if (left <= 0) {
      done = true
      cb()
      return
    }
    handle = setTimeout(check, Math.min(left, MAX_TIMEOUT_MS))
  }
  return {
    cancel: () => {
      done = true
      if (handle !== undefined) clearTimeout(handle)
    },
    check
  }
}

/** The system clock (`Date.now()`). */
export const systemClock: TradeClock = {
  now: () => Date.now(),
  timer(atMs, cb) {
    const t = offsetTimer(Date.now, atMs, cb)
    t.check()
    return t.cancel
  }
}

/**
 * Real time plus an adjustable offset, for tests: {@link advance} jumps forward (to a phase
 * deadline) and fires every timer that became due, without touching the protocol's timeouts.
 */
export class TestClock implements TradeClock {
  private offset = 0
  private readonly timers = new Set<{ check: () => void }>()

  constructor(startMs?: number) {
    if (startMs !== undefined) this.offset = startMs - Date.now()
  }

  now(): number {
    return Date.now() + this.offset
  }

  timer(atMs: number, cb: () => void): () => void {
    const entry = offsetTimer(
      () => this.now(),
      atMs,
      () => {
        this.timers.delete(entry)
        cb()
      }
    )
    this.timers.add(entry)
    entry.check()
    return () => {
      this.timers.delete(entry)
      entry.cancel()
    }
  }

  /** Moves the clock forward by `ms` and runs every timer that is now due. */
  advance(ms: number): void {
    this.offset += ms
    for (const t of [...this.timers]) t.check()
  }
}
