/**
 * The process's memory watch (DESIGN.md invariant 10; GOSSIP-14; `docs/drills.md`,
 * memory-flood). A node under a stream or connection flood holds little — its buffers are
 * bounded (XFER-23, the stream caps, the muxer guard) — but it allocates fast: every refused
 * stream, handshake and discarded frame is garbage. V8 collects garbage when its own heuristics
 * say so, and the external buffers and native contexts that garbage holds (socket reads,
 * ciphers) are freed only then, so between full collections the process's RSS floats up by a
 * hundred megabytes and more (measured: live heap +3 MiB, RSS +115 MiB). The watch samples the
 * RSS and, when it has grown by `growthBytes` since the last full collection, runs one (at most
 * every `minIntervalMs`): RSS then stays within about that growth of the working size. One
 * watch per process, shared by every node in it (tests and drills run several).
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** Settings of the memory watch. */
export interface MemoryWatchOptions {
  /** RSS growth since the last full collection that triggers the next one, bytes. */
  readonly growthBytes: number
  /** Shortest time between two collections the watch runs, ms (bounds its CPU cost). */
  readonly minIntervalMs: number
  /** RSS sampling interval while the RSS moves, ms. */
  readonly sampleMs: number
  /**
   * Longest sampling interval, ms, reached by doubling while the RSS holds still (moves less
   * than {@link QUIET_BYTES} between samples); default `sampleMs` (no back-off).
   */
  readonly idleSampleMs?: number
  /**
   * Interval of one young-generation collection (a scavenge), ms; none when absent. At a
   * collection V8 shrinks its new space back to its initial size when little is being
   * allocated, but an idle process collects seldom: a daemon kept the 2 × 16 MiB its new space
   * had grown to for minutes (issue 14). At work it is one scavenge among many.
   */
  readonly youngCollectMs?: number
}

/**
 * RSS movement between two samples below which the watch backs off: an idle daemon's RSS
 * wanders by some KiB per second, a flood's by MiBs per sample.
 */
export const QUIET_BYTES = 1 << 20

/**
 * Defaults: a young-generation collection every 10 s (an idle daemon's new space 1 MiB instead
 * of up to 32, the idle bench; about 1 ms each, 0.01 % of a core), 24 MiB of growth (inside the memory-flood drill's
 * 64 MiB bound: the RSS a collection leaves behind is a little higher each time, as freed native memory stays mapped;
 * the drill's worst phase reached 46 to 63 MiB; 16 MiB gave 40 to 56 MiB but its more frequent
 * pauses made timing-sensitive tests that run many nodes in one process fail now and then),
 * at most four collections per second (a full collection of a 60 MB heap takes about 30 ms:
 * 12 % of one core at worst, and only while something allocates that fast), sampled every 25 ms
 * while the RSS moves and every 250 ms while it holds still: 40 samples a second cost an idle
 * daemon about 0.5 % of a core (issue 14.3, measured with --cpu-prof), and 250 ms is the
 * shortest time between two collections anyway, so growth unseen for that long is growth the
 * watch allows already.
 */
export const DEFAULT_MEMORY_WATCH: MemoryWatchOptions = {
  growthBytes: 24 << 20,
  minIntervalMs: 250,
  sampleMs: 25,
  idleSampleMs: 250,
  youngCollectMs: 10_000
}

/** What the watch has done, for metrics. */
export interface MemoryWatchStats {
  /** Full collections the watch ran. */
  readonly collections: number
  /** Young-generation collections the watch ran ({@link MemoryWatchOptions.youngCollectMs}). */
  readonly youngCollections: number
  /** RSS after the last one (or at start), bytes: the floor growth is measured from. */
  readonly floorBytes: number
  /** Whether the watch runs (some node in the process joined it and has not left). */
  readonly running: boolean
  /** The sampling interval now, ms: `sampleMs` while the RSS moves, up to `idleSampleMs` while still; 0 when stopped. */
  readonly sampleMs: number
}

let users = 0
let timer: ReturnType<typeof setTimeout> | undefined
let collections = 0
let youngCollections = 0
let floor = 0
let lastMs = 0
/** V8's `gc`: a full collection, or a young-generation one with `{ type: 'minor' }`. */
type Collect = (options?: { type: 'major' | 'minor' }) => void

let collect: Collect | undefined
let every = 0

/**
 * V8's `gc` (full or young-generation collections), made callable at run time: the flag only adds the `gc` function to
 * contexts created after it is set, so a fresh context hands it over.
 */
function fullCollection(): Collect {
  if (collect !== undefined) return collect
  const exposed = (globalThis as { gc?: Collect }).gc
  if (typeof exposed === 'function') collect = exposed
  else {
    setFlagsFromString('--expose-gc')
    collect = runInNewContext('gc') as Collect
  }
  return collect
}

/**
 * Starts the process's memory watch, or joins it when running; the returned function leaves
 * (idempotent) and the last one out stops it. The first caller's options win.
 */
export function watchMemory(options: MemoryWatchOptions = DEFAULT_MEMORY_WATCH): () => void {
  users++
  if (timer === undefined) {
    const gc = fullCollection()
    floor = process.memoryUsage.rss()
    lastMs = 0
    let youngMs = performance.now()
    const longest = Math.max(options.sampleMs, options.idleSampleMs ?? options.sampleMs)
    let previous = floor
    every = options.sampleMs
    const sample = (): void => {
      const rss = process.memoryUsage.rss()
      // a still RSS: sample less often (up to `longest`); any movement: at once at full rate
      every = Math.abs(rss - previous) < QUIET_BYTES ? Math.min(longest, every * 2) : options.sampleMs
      previous = rss
      // a lower RSS (V8 collected by itself, pages returned) lowers the floor as well
      if (rss < floor) floor = rss
      const now = performance.now()
      if (rss - floor >= options.growthBytes && now - lastMs >= options.minIntervalMs) {
        gc()
        collections++
        lastMs = performance.now()
        floor = process.memoryUsage.rss()
        previous = floor
        every = options.sampleMs
        youngMs = lastMs
      } else if (options.youngCollectMs !== undefined && now - youngMs >= options.youngCollectMs) {
        gc({ type: 'minor' })
        youngCollections++
        youngMs = performance.now()
      }
      if (timer !== undefined) schedule(every)
    }
    const schedule = (ms: number): void => {
      timer = setTimeout(sample, ms)
      // the watch never keeps a process alive
      timer.unref()
    }
    schedule(every)
  }
  let left = false
  return () => {
    if (left) return
    left = true
    users--
    if (users === 0 && timer !== undefined) {
      clearTimeout(timer)
      timer = undefined
      every = 0
    }
  }
}

/** What the watch has done in this process so far. */
export function memoryWatchStats(): MemoryWatchStats {
  return { collections, youngCollections, floorBytes: floor, running: timer !== undefined, sampleMs: every }
}
