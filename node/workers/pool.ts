/**
 * The worker registry and dispatcher (original §8.4, protocol/spec/local-api.md WRK-*).
 * Workers register with an id, an article and a push URL; a registered, idle, unblocked worker
 * gets exactly one SELL offer (priced by a SELL mandate) through the `onOffer` hook; the market
 * sends it work with {@link WorkerPool.dispatch}, never two jobs at once; after a job the worker
 * is busy until it registers again ("I am idle again"); after an error it is blocked for the
 * back-off (20 s in the original, §5.8) before the next offer, and after a job it did not answer
 * it waits for its registration. An offer holds one trade of its SELL mandate, charged when the
 * market establishes a transaction for it and given back otherwise (MAN-5).
 */
import type { ChunkStore, Manifest } from '../../cafs/types.js'
import { validateArticle } from '../../protocol/article/index.js'
import { isBitwrkError } from '../../protocol/errors.js'
import type { Money } from '../../protocol/money/index.js'
import type { MandateBook, MandateTrade } from '../mandates/index.js'
import { WorkerCode, workerError } from './errors.js'
import { pushWork } from './push.js'
import { DEFAULT_WORKER_ALLOW, isAllowedTarget, normalisePushUrl, type WorkerAllowRule } from './push-url.js'

/** Back-off after a worker error before it is offered again: 20 s, the original's (§5.8). */
export const WORKER_BACKOFF_MS = 20_000
/** Deadline of one job: 15 min, the original's overall client→worker request timeout (§5.8). */
export const WORKER_DISPATCH_TIMEOUT_MS = 15 * 60_000
/** Largest result accepted from a worker by default: 1 GiB (a bound, DESIGN.md invariant 10). */
export const WORKER_MAX_RESULT_BYTES = 2 ** 30
/** Most registered workers by default (a bound, DESIGN.md invariant 10). */
export const WORKER_MAX_COUNT = 256
/** Longest worker id (the Blender worker's `blender-<ip>-<port>` is below 64). */
export const WORKER_ID_MAX_LENGTH = 128

/** What a worker registers (form fields `id`, `article`, `pushurl` of `/registerworker`). */
export interface WorkerRegistration {
  readonly id: string
  readonly article: string
  readonly pushUrl: string
}

/** State of a worker as the API shows it (WRK-3). */
export type WorkerState = 'idle' | 'offered' | 'busy'

/** A worker as `GET /api/v1/workers` lists it. */
export interface WorkerView {
  readonly id: string
  readonly article: string
  readonly pushUrl: string
  readonly state: WorkerState
  /** Time until which no offer is made after an error, ms since the epoch. */
  readonly blockedUntilMs: number | null
  /**
   * Why the worker gets no offer, if so: a `MANDATE_*` code while idle, or the code of a job it
   * did not answer (`WORKER_UNREACHABLE`, `WORKER_TIMEOUT`) until it registers again (WRK-5).
   */
  readonly waitingFor: string | null
  /** The last job error (code and message), if any. */
  readonly lastError: string | null
  /** Jobs finished successfully. */
  readonly jobs: number
}

/** One SELL offer for one idle worker, handed to the market by the `onOffer` hook. */
export interface SellOffer {
  readonly workerId: string
  readonly article: string
  /** The price to ask: the SELL mandate's price. */
  readonly price: Money
  /** The mandate whose trade this offer holds (MAN-5). */
  readonly mandateId: number
  /**
   * Aborted when the offer ends other than by its own job, {@link WorkerPool.release} or
   * {@link WorkerPool.offerFailed}: the worker unregistered or changed article, the pool
   * stopped, or another job (a local match) took the worker. The market then cancels its SELL
   * bid; the held trade is given back.
   */
  readonly signal: AbortSignal
}

/** Which push URLs `registerworker` accepts (WRK-2, WRK-9). */
export interface PushUrlPolicy {
  /**
   * The (host, port) rules a normalised push URL must match (`--worker-allow`, parsed with
   * {@link parseWorkerAllow}). Default {@link DEFAULT_WORKER_ALLOW}: any port of a loopback host.
   */
  readonly allow?: readonly WorkerAllowRule[]
}

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** SELL mandates price the offers; without a book no offer is made. */
  readonly mandates?: MandateBook
  /** Called once per offer; the market places one SELL bid for it. */
  readonly onOffer?: (offer: SellOffer) => void
  /** Push URL policy. */
  readonly pushUrls?: PushUrlPolicy
  /** Back-off after an error, ms (default {@link WORKER_BACKOFF_MS}). */
  readonly backoffMs?: number
  /** Deadline of one job, ms (default {@link WORKER_DISPATCH_TIMEOUT_MS}). */
  readonly dispatchTimeoutMs?: number
  /** Largest result, bytes (default {@link WORKER_MAX_RESULT_BYTES}). */
  readonly maxResultBytes?: number
  /** Most workers (default {@link WORKER_MAX_COUNT}). */
  readonly maxWorkers?: number
  /** Wait for a worker's `100 Continue` before the work is sent anyway, ms (WRK-10; default 1 s). */
  readonly expectContinueMs?: number
  /** The clock (default `Date.now`). */
  readonly now?: () => number
}

/** Options of {@link WorkerPool.dispatch}. */
export interface DispatchOptions {
  /** Where the result is stored. */
  readonly store: ChunkStore
  /** Cancels the job. */
  readonly signal?: AbortSignal
  /** The offer this job fulfils (the market's match); any other offer of the worker is withdrawn. */
  readonly offer?: SellOffer
}

interface Entry {
  reg: WorkerRegistration
  state: WorkerState
  blockedUntilMs: number
  waitingFor: string | null
  lastError: string | null
  jobs: number
  offer: { ctl: AbortController; offer: SellOffer; trade: MandateTrade } | undefined
  offering: boolean
}

/** Job failures without an answer from the worker: it is offered again only when it registers (WRK-5). */
const NO_ANSWER = new Set<string>([WorkerCode.UNREACHABLE, WorkerCode.TIMEOUT])

/** `CODE: message` of a failure, for `lastError` (bounded). */
function failureText(err: unknown): string {
  const text = isBitwrkError(err) ? `${err.code}: ${err.message}` : String(err)
  return text.slice(0, 300)
}

/**
 * Lets a mandate settlement run on its own: one that fails (the store closed while stopping)
 * leaves the trade spent, the safe side of MAN-5, and is no error of the caller's.
 */
function settled(p: Promise<void>): void {
  p.catch(() => {})
}

/** Ids: printable ASCII without spaces, so they log and list safely. */
const ID_RE = /^[\x21-\x7e]+$/

/**
 * Checks a registration (WRK-1, WRK-2, WRK-8) and returns it with the normalised push URL.
 * Throws `WORKER_INVALID` or `WORKER_URL_FORBIDDEN`.
 */
export function checkRegistration(reg: WorkerRegistration, policy: PushUrlPolicy = {}): WorkerRegistration {
  const { id, article, pushUrl } = reg
  if (typeof id !== 'string' || id.length === 0 || id.length > WORKER_ID_MAX_LENGTH || !ID_RE.test(id))
    throw workerError(WorkerCode.INVALID, 'worker id must be 1-128 printable ASCII characters', {
      field: 'id'
    })
  const art = validateArticle(article)
  if (art.result !== 'accept')
    throw workerError(WorkerCode.INVALID, `article refused (${art.code})`, { field: 'article' })
  const target = normalisePushUrl(pushUrl)
  if (!isAllowedTarget(target, policy.allow ?? DEFAULT_WORKER_ALLOW))
    throw workerError(
      WorkerCode.URL_FORBIDDEN,
      `push URL host ${target.host} port ${target.port} not allowed by the operator`,
      { field: 'pushurl', host: target.host, port: target.port }
    )
  return Object.freeze({ id, article, pushUrl: target.url })
}

/** The registry of workers of one node. */
export class WorkerPool {
  private readonly workers = new Map<string, Entry>()
  private readonly now: () => number
  private readonly backoffMs: number
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly unsubscribe: (() => void) | undefined
  private stopped = false

  constructor(private readonly options: WorkerPoolOptions = {}) {
    this.now = options.now ?? Date.now
    this.backoffMs = options.backoffMs ?? WORKER_BACKOFF_MS
    this.unsubscribe = options.mandates?.onChange(() => this.offerAll())
  }

  /**
   * Registers a worker, or marks a registered one idle again (WRK-3). A changed article or
   * push URL withdraws the current offer. Throws `WORKER_INVALID`, `WORKER_URL_FORBIDDEN`,
   * `WORKER_TOO_MANY`.
   */
  register(registration: WorkerRegistration): WorkerView {
    const reg = checkRegistration(registration, this.options.pushUrls)
    let e = this.workers.get(reg.id)
    if (e === undefined) {
      if (this.workers.size >= (this.options.maxWorkers ?? WORKER_MAX_COUNT))
        throw workerError(WorkerCode.TOO_MANY, 'too many workers registered')
      e = {
        reg,
        state: 'idle',
        blockedUntilMs: 0,
        waitingFor: null,
        lastError: null,
        jobs: 0,
        offer: undefined,
        offering: false
      }
      this.workers.set(reg.id, e)
    } else {
      if (e.reg.article !== reg.article || e.reg.pushUrl !== reg.pushUrl) this.withdraw(e)
      e.reg = reg
      // A busy worker that registers again says "I am idle again" (original §8.4), also after
      // a job it did not answer.
      if (e.state === 'busy') {
        e.state = 'idle'
        e.waitingFor = null
      }
    }
    this.maybeOffer(e)
    return this.view(e)
  }

  /** Unregisters a worker: its offer is withdrawn (WRK-6). Returns false when unknown. */
  unregister(id: string): boolean {
    const e = this.workers.get(id)
    if (e === undefined) return false
    this.withdraw(e)
    this.workers.delete(id)
    return true
  }

  /** Every registered worker, by id. */
  list(): WorkerView[] {
    return [...this.workers.values()]
      .map((e) => this.view(e))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /** One worker, or undefined. */
  get(id: string): WorkerView | undefined {
    const e = this.workers.get(id)
    return e === undefined ? undefined : this.view(e)
  }

  /** Ids of the idle, unblocked workers of `article` (for a local match). */
  idle(article: string): string[] {
    const t = this.now()
    return [...this.workers.values()]
      .filter(
        (e) =>
          e.reg.article === article && (e.state === 'idle' || e.state === 'offered') && e.blockedUntilMs <= t
      )
      .map((e) => e.reg.id)
  }

  /**
   * Gives the worker one job (WRK-4, WRK-5): POSTs `work` to its push URL and stores the 200
   * answer in `store`. Throws `WORKER_UNKNOWN`, `WORKER_BUSY` (it has a job, awaits re-register,
   * or is blocked), or the job's failure code; after a failure the worker is blocked for the
   * back-off. The offer the worker had is consumed.
   */
  async dispatch(
    id: string,
    work: Uint8Array | AsyncIterable<Uint8Array>,
    options: DispatchOptions
  ): Promise<Manifest> {
    const e = this.workers.get(id)
    if (e === undefined) throw workerError(WorkerCode.UNKNOWN, 'no such worker', { id })
    if ((e.state !== 'idle' && e.state !== 'offered') || e.blockedUntilMs > this.now())
      throw workerError(WorkerCode.BUSY, 'worker is not idle', { id, state: e.state })
    // The market's job for its own offer: the transaction is established, the trade charged.
    if (e.offer !== undefined && e.offer.offer === options.offer) settled(e.offer.trade.charge())
    else this.withdraw(e)
    e.offer = undefined
    e.state = 'busy'
    e.waitingFor = null
    const reg = e.reg
    const outcome = await pushWork(reg.pushUrl, work, {
      store: options.store,
      timeoutMs: this.options.dispatchTimeoutMs ?? WORKER_DISPATCH_TIMEOUT_MS,
      maxResultBytes: this.options.maxResultBytes ?? WORKER_MAX_RESULT_BYTES,
      ...(this.options.expectContinueMs === undefined
        ? {}
        : { expectContinueMs: this.options.expectContinueMs }),
      ...(options.signal === undefined ? {} : { signal: options.signal })
    })
    // The entry may have been replaced by unregister + register while the job ran.
    const current = this.workers.get(id) === e ? e : undefined
    if (outcome.ok) {
      if (current !== undefined) {
        current.jobs++
        current.lastError = null
      }
      return outcome.manifest
    }
    if (current !== undefined) {
      current.lastError = `${outcome.code}: ${outcome.message}`.slice(0, 300)
      current.blockedUntilMs = this.now() + this.backoffMs
      // A 500 means the worker ran and will register again. A worker that did not answer
      // (gone, hung) gets no more jobs until it registers again: a dead worker would fail
      // every trade offered to it (issue 12.5). After any other answer the node marks it idle
      // itself (original §8.4).
      if (NO_ANSWER.has(outcome.code)) current.waitingFor = outcome.code
      else if (current.state === 'busy' && outcome.status !== 500) current.state = 'idle'
      this.schedule(current)
    }
    throw workerError(outcome.code, outcome.message, {
      id,
      ...(outcome.status === undefined ? {} : { status: outcome.status })
    })
  }

  /**
   * The market gives back an offer it could not use (its bid expired unmatched, or its match
   * retired without an established transaction): its trade is given back and the worker is
   * offered again with a fresh one.
   */
  release(id: string): void {
    const e = this.workers.get(id)
    if (e === undefined || e.state !== 'offered') return
    if (e.offer !== undefined) settled(e.offer.trade.refund())
    e.offer = undefined
    e.state = 'idle'
    this.maybeOffer(e)
  }

  /**
   * The market could not place `offer` (e.g. `MARKET_NOT_FOLLOWED`): its trade is given back,
   * the failure becomes the worker's `lastError`, and the worker is blocked for the back-off
   * before the next offer (issue 12.2: an immediate new offer would fail the same way).
   */
  offerFailed(offer: SellOffer, error: unknown): void {
    const e = this.workers.get(offer.workerId)
    if (e === undefined || e.offer?.offer !== offer) return
    settled(e.offer.trade.refund())
    e.offer = undefined
    e.state = 'idle'
    e.lastError = failureText(error)
    e.blockedUntilMs = this.now() + this.backoffMs
    this.schedule(e)
  }

  /**
   * The market established a transaction for `offer`'s SELL bid: its mandate trade is charged
   * (MAN-5). The offer stays the worker's until the job ({@link dispatch} with this offer).
   */
  established(offer: SellOffer): void {
    const e = this.workers.get(offer.workerId)
    if (e?.offer?.offer === offer) settled(e.offer.trade.charge())
  }

  /** Withdraws every offer and cancels timers; idempotent. */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.unsubscribe?.()
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    for (const e of this.workers.values()) this.withdraw(e)
  }

  private view(e: Entry): WorkerView {
    return Object.freeze({
      id: e.reg.id,
      article: e.reg.article,
      pushUrl: e.reg.pushUrl,
      state: e.state,
      blockedUntilMs: e.blockedUntilMs > this.now() ? e.blockedUntilMs : null,
      waitingFor: e.state === 'offered' ? null : e.waitingFor,
      lastError: e.lastError,
      jobs: e.jobs
    })
  }

  private withdraw(e: Entry): void {
    if (e.offer !== undefined) {
      settled(e.offer.trade.refund())
      e.offer.ctl.abort(workerError(WorkerCode.UNKNOWN, 'offer withdrawn'))
    }
    e.offer = undefined
    if (e.state === 'offered') e.state = 'idle'
  }

  private offerAll(): void {
    for (const e of this.workers.values()) this.maybeOffer(e)
  }

  private schedule(e: Entry): void {
    if (this.stopped) return
    const t = setTimeout(
      () => {
        this.timers.delete(t)
        // A timer may fire a millisecond before the clock reaches blockedUntilMs: wait again.
        if (e.blockedUntilMs > this.now()) this.schedule(e)
        else this.maybeOffer(e)
      },
      Math.max(0, e.blockedUntilMs - this.now())
    )
    t.unref()
    this.timers.add(t)
  }

  /** Offers `e` when it is registered, idle, unblocked and has no offer yet (WRK-3). */
  private maybeOffer(e: Entry): void {
    const { mandates, onOffer } = this.options
    if (this.stopped || mandates === undefined || onOffer === undefined) return
    if (e.state !== 'idle' || e.offering || this.workers.get(e.reg.id) !== e) return
    if (e.blockedUntilMs > this.now()) return
    e.offering = true
    const reg = e.reg
    mandates
      .take(reg.article, 'SELL', undefined, this.now())
      .then((use) => {
        e.offering = false
        if (!use.ok) {
          e.waitingFor = use.code
          return
        }
        // The trade is held: offer it unless the worker left, got a job, or changed article
        // meanwhile (then the trade is given back, as a withdrawn offer's is).
        const still =
          this.workers.get(reg.id) === e &&
          e.reg.article === reg.article &&
          e.state === 'idle' &&
          !this.stopped
        if (!still) {
          settled(use.trade.refund())
          return
        }
        e.waitingFor = null
        e.state = 'offered'
        const ctl = new AbortController()
        const offer: SellOffer = Object.freeze({
          workerId: reg.id,
          article: reg.article,
          price: use.price,
          mandateId: use.mandate.id,
          signal: ctl.signal
        })
        e.offer = { ctl, offer, trade: use.trade }
        onOffer(offer)
      })
      .catch((err: unknown) => {
        e.offering = false
        e.waitingFor = err instanceof Error ? err.message.slice(0, 100) : 'mandate error'
      })
  }
}
