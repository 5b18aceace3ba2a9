/**
 * Mandates (original §7.6): the operator's standing permission to buy or to sell an article up
 * to a price limit, for a number of trades and/or until a time. Stored in the node's database
 * (buckets `mandate` and `mandateSeq` of node/store/buckets.ts, protocol/spec/local-api.md MAN-2) and
 * consumed atomically, one trade at a time, by {@link MandateBook.use}.
 */
import { validateArticle } from '../../protocol/article/index.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { compareMoney, formatMoney, MONEY_FORMS, type Money, parseMoney } from '../../protocol/money/index.js'
import { check, concat, corrupt, decodeSealed, readU64, seal, u64Bytes, Writer } from '../store/codec.js'
import type { KvController, KvOp } from '../store/db.js'
import { Bucket, prefixRange } from '../store/db.js'
import { MAX_MANDATES, MandateCode, mandateError } from './errors.js'

/** Bucket byte of mandate records (key: byte ‖ u64 id), from the one bucket table (MAN-2). */
export const MANDATE_BUCKET: number = Bucket.mandate
/** Bucket byte of the id counter (key: byte ‖ `next`, value u64 next id), from the bucket table. */
export const MANDATE_SEQ_BUCKET: number = Bucket.mandateSeq

/** Which side of the market a mandate permits. */
export type TradeSide = 'BUY' | 'SELL'

/** Most trades one mandate may allow (a sanity bound; the original UI default was 100). */
export const MAX_MANDATE_TRADES = 1_000_000
/** Longest validity of a mandate: one year (a sanity bound). */
export const MAX_MANDATE_VALIDITY_MS = 365 * 24 * 3600 * 1000

/** A stored mandate. */
export interface Mandate {
  /** Key, counted from 1, never reused. */
  readonly id: number
  /** The article (ART-1). */
  readonly article: string
  /** BUY or SELL. */
  readonly side: TradeSide
  /** Price limit: a buy pays at most this, a sale asks at least this. Bids are placed at this price. */
  readonly price: Money
  /** Trades still allowed, or undefined for no count limit. */
  readonly tradesLeft?: number
  /** End of validity (ms since the epoch, exclusive), or undefined for no time limit. */
  readonly expiresMs?: number
  /** When it was granted. */
  readonly createdMs: number
}

/**
 * One trade taken by {@link MandateBook.take} and held until it is settled (MAN-5): charged for
 * good when the trade it pays for has an established transaction, given back when it ends
 * without one. Settling twice is a no-op; so is settling a trade of a mandate revoked meanwhile
 * (charge) or one without a trade count.
 */
export interface MandateTrade {
  /** The mandate the trade was taken from. */
  readonly mandateId: number
  /** Charges the trade: a transaction was established. */
  charge(): Promise<void>
  /** Gives the trade back to its mandate: no transaction was established. */
  refund(): Promise<void>
}

/**
 * What a grant asks for (JSON of `POST /api/v1/mandates`). `trades` and `validMinutes`/`expiresMs`
 * are optional; with neither limit the mandate allows exactly one trade, as in the original.
 */
export interface MandateGrant {
  readonly article?: unknown
  readonly side?: unknown
  readonly price?: unknown
  readonly trades?: unknown
  readonly validMinutes?: unknown
  readonly expiresMs?: unknown
}

/** Outcome of {@link MandateBook.use} and {@link MandateBook.peek}. */
export type MandateUse =
  | { readonly ok: true; readonly mandate: Mandate; readonly price: Money }
  | {
      readonly ok: false
      readonly code:
        | typeof MandateCode.NOT_FOUND
        | typeof MandateCode.EXPIRED
        | typeof MandateCode.PRICE_LIMIT
    }

/** Outcome of {@link MandateBook.take}: a {@link MandateUse} whose success holds a trade. */
export type MandateTake =
  | (Extract<MandateUse, { ok: true }> & { readonly trade: MandateTrade })
  | Extract<MandateUse, { ok: false }>

function invalid(field: string, why: string): never {
  throw mandateError(MandateCode.INVALID, `invalid mandate: ${why}`, { field })
}

function positiveInt(v: unknown, max: number, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max)
    invalid(field, `${field} must be an integer from 1 to ${max}`)
  return v
}

/**
 * Checks a grant and returns the mandate fields (MAN-1). Throws `MANDATE_INVALID` with
 * `details.field` naming the first bad field.
 */
export function parseGrant(grant: MandateGrant, nowMs: number): Omit<Mandate, 'id'> {
  if (typeof grant !== 'object' || grant === null) invalid('body', 'grant must be an object')
  const art = validateArticle(grant.article)
  if (art.result !== 'accept') invalid('article', `article refused (${art.code})`)
  const article = grant.article as string
  if (grant.side !== 'BUY' && grant.side !== 'SELL') invalid('side', 'side must be BUY or SELL')
  if (typeof grant.price !== 'string') invalid('price', `price must be a money string: ${MONEY_FORMS}`)
  let price: Money
  try {
    price = parseMoney(grant.price)
  } catch (err) {
    if (!isBitwrkError(err)) throw err
    // the money error names the accepted forms with examples (MON-10)
    return invalid('price', `price refused (${err.code}): ${err.message}`)
  }
  if (price.amount < 0n) invalid('price', 'price must not be negative')
  const tradesLeft =
    grant.trades === undefined ? undefined : positiveInt(grant.trades, MAX_MANDATE_TRADES, 'trades')
  if (grant.validMinutes !== undefined && grant.expiresMs !== undefined)
    invalid('expiresMs', 'give validMinutes or expiresMs, not both')
  let expiresMs: number | undefined
  if (grant.validMinutes !== undefined)
    expiresMs =
      nowMs + positiveInt(grant.validMinutes, MAX_MANDATE_VALIDITY_MS / 60_000, 'validMinutes') * 60_000
  if (grant.expiresMs !== undefined) {
    const e = grant.expiresMs
    if (
      typeof e !== 'number' ||
      !Number.isSafeInteger(e) ||
      e <= nowMs ||
      e > nowMs + MAX_MANDATE_VALIDITY_MS
    )
      invalid('expiresMs', 'expiresMs must be a time in the next year')
    expiresMs = e
  }
  // The original: with neither limit enabled a mandate allows exactly one trade (§7.6).
  const limited = tradesLeft !== undefined || expiresMs !== undefined
  return Object.freeze({
    article,
    side: grant.side,
    price,
    ...(limited ? {} : { tradesLeft: 1 }),
    ...(tradesLeft === undefined ? {} : { tradesLeft }),
    ...(expiresMs === undefined ? {} : { expiresMs }),
    createdMs: nowMs
  })
}

/** True when `price` is within the mandate's limit for its side (same currency required). */
export function withinLimit(mandate: Mandate, price: Money): boolean {
  if (price.currency !== mandate.price.currency) return false
  const c = compareMoney(price, mandate.price)
  return mandate.side === 'BUY' ? c <= 0 : c >= 0
}

function mandateKey(id: number): Uint8Array {
  return concat(Uint8Array.of(MANDATE_BUCKET), u64Bytes(id))
}

const SEQ_KEY = concat(Uint8Array.of(MANDATE_SEQ_BUCKET), new TextEncoder().encode('next'))

/** Encodes a mandate record (MAN-2). */
export function encodeMandate(m: Mandate): { key: Uint8Array; value: Uint8Array } {
  const key = mandateKey(m.id)
  const w = new Writer()
    .u8(m.side === 'BUY' ? 0 : 1)
    .str(m.article)
    .str(formatMoney(m.price))
    .u64(m.createdMs)
  if (m.tradesLeft === undefined) w.u8(0)
  else w.u8(1).u32(m.tradesLeft)
  if (m.expiresMs === undefined) w.u8(0)
  else w.u8(1).u64(m.expiresMs)
  return { key, value: seal(key, w.finish()) }
}

/** Decodes and validates a mandate record; STORE_CORRUPT when it does not. */
export function decodeMandate(key: Uint8Array, value: Uint8Array): Mandate {
  check(key.length === 9 && key[0] === MANDATE_BUCKET, 'bad mandate key')
  const id = readU64(key, 1)
  return decodeSealed(key, value, (r) => {
    const sideByte = r.u8()
    check(sideByte <= 1, 'bad side')
    const article = r.str(256)
    check(validateArticle(article).result === 'accept', 'bad article')
    const priceText = r.str(64)
    let price: Money
    try {
      price = parseMoney(priceText)
    } catch {
      return corrupt('bad price')
    }
    const createdMs = r.u64()
    const tradesLeft = r.u8() === 1 ? r.u32() : undefined
    const expiresMs = r.u8() === 1 ? r.u64() : undefined
    return Object.freeze({
      id,
      article,
      side: sideByte === 0 ? 'BUY' : 'SELL',
      price,
      createdMs,
      ...(tradesLeft === undefined ? {} : { tradesLeft }),
      ...(expiresMs === undefined ? {} : { expiresMs })
    } satisfies Mandate)
  })
}

/**
 * The mandates of a node: persisted in the node's {@link KvController}, cached in memory, and
 * changed only under one lock so that two trades can never both take a mandate's last trade.
 */
export class MandateBook {
  private readonly byId = new Map<number, Mandate>()
  private nextId = 1
  private lock: Promise<unknown> = Promise.resolve()
  private readonly listeners = new Set<() => void>()
  /** Trades taken and not yet settled, by mandate id (MAN-5): kept in memory only. */
  private readonly held = new Map<number, number>()

  private constructor(private readonly kv: KvController) {}

  /**
   * Loads the stored mandates. Unreadable records are skipped and returned in `corrupt` (hex
   * keys); they stay on disk untouched.
   */
  static async open(kv: KvController): Promise<{ book: MandateBook; corrupt: string[] }> {
    const book = new MandateBook(kv)
    const corrupt: string[] = []
    for await (const [k, v] of kv.entries(prefixRange(Uint8Array.of(MANDATE_BUCKET)))) {
      try {
        const m = decodeMandate(k, v)
        book.byId.set(m.id, m)
        book.nextId = Math.max(book.nextId, m.id + 1)
      } catch (err) {
        if (!isBitwrkError(err)) throw err
        corrupt.push(Buffer.from(k).toString('hex'))
      }
    }
    const seq = await kv.get(SEQ_KEY)
    if (seq !== undefined) {
      try {
        book.nextId = Math.max(
          book.nextId,
          decodeSealed(SEQ_KEY, seq, (r) => r.u64())
        )
      } catch (err) {
        if (!isBitwrkError(err)) throw err
        corrupt.push(Buffer.from(SEQ_KEY).toString('hex'))
      }
    }
    return { book, corrupt }
  }

  /** Calls `fn` after every grant, revoke or use; returns the unsubscribe function. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  private emit(): void {
    for (const fn of this.listeners) fn()
  }

  /** Runs `fn` alone: every change of the book goes through here. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn)
    this.lock = run.catch(() => {})
    return run
  }

  /** Every stored mandate by id, expired ones included until they are next looked at. */
  list(): Mandate[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id)
  }

  /** The mandate with `id`, or undefined. */
  get(id: number): Mandate | undefined {
    return this.byId.get(id)
  }

  /**
   * Stores a new mandate (MAN-1). Throws `MANDATE_INVALID` (nothing stored) or
   * `MANDATE_TOO_MANY`.
   */
  async grant(grant: MandateGrant, nowMs: number): Promise<Mandate> {
    const fields = parseGrant(grant, nowMs)
    return this.exclusive(async () => {
      if (this.byId.size >= MAX_MANDATES)
        throw mandateError(MandateCode.TOO_MANY, `at most ${MAX_MANDATES} mandates`)
      const mandate: Mandate = Object.freeze({ id: this.nextId, ...fields })
      const rec = encodeMandate(mandate)
      await this.kv.batch(
        [
          { type: 'put', key: rec.key, value: rec.value },
          { type: 'put', key: SEQ_KEY, value: seal(SEQ_KEY, new Writer().u64(mandate.id + 1).finish()) }
        ],
        { sync: true }
      )
      this.nextId = mandate.id + 1
      this.byId.set(mandate.id, mandate)
      this.emit()
      return mandate
    })
  }

  /** Deletes mandate `id`; throws `MANDATE_UNKNOWN` when there is none. */
  revoke(id: number): Promise<void> {
    return this.exclusive(async () => {
      if (!this.byId.has(id)) throw mandateError(MandateCode.UNKNOWN, 'no such mandate', { id })
      await this.commit([], [id])
    })
  }

  /** The mandate {@link use} would take, without taking it or deleting anything (MAN-3). */
  peek(article: string, side: TradeSide, price: Money | undefined, nowMs: number): MandateUse {
    return this.choose(article, side, price, nowMs).use
  }

  private choose(
    article: string,
    side: TradeSide,
    price: Money | undefined,
    nowMs: number
  ): { use: MandateUse; expired: Mandate[] } {
    const expired: Mandate[] = []
    let sawLive = false
    for (const m of this.list()) {
      if (m.article !== article || m.side !== side) continue
      // a mandate whose last trades are held stays until they are settled (MAN-5)
      if (m.tradesLeft !== undefined && m.tradesLeft <= 0 && this.held.has(m.id)) continue
      if (
        (m.tradesLeft !== undefined && m.tradesLeft <= 0) ||
        (m.expiresMs !== undefined && m.expiresMs <= nowMs)
      ) {
        expired.push(m)
        continue
      }
      sawLive = true
      if (price !== undefined && !withinLimit(m, price)) continue
      return { use: { ok: true, mandate: m, price: price ?? m.price }, expired }
    }
    const code = sawLive
      ? MandateCode.PRICE_LIMIT
      : expired.length > 0
        ? MandateCode.EXPIRED
        : MandateCode.NOT_FOUND
    return { use: { ok: false, code }, expired }
  }

  /**
   * Takes one trade from the oldest live mandate for `article` and `side` whose limit admits
   * `price` (undefined: trade at the mandate's own price) (MAN-3, MAN-4), charged at once.
   * Expired mandates met on the way are deleted. Atomic: concurrent uses never take more trades
   * than allowed, and the decrement is on disk before the promise resolves.
   */
  use(article: string, side: TradeSide, price: Money | undefined, nowMs: number): Promise<MandateUse> {
    return this.exclusive(async () => {
      const { use, expired } = this.choose(article, side, price, nowMs)
      const dels = expired.map((m) => m.id)
      if (!use.ok) {
        await this.commit([], dels)
        return use
      }
      const left = (use.mandate.tradesLeft ?? 0) - 1
      if (use.mandate.tradesLeft === undefined) await this.commit([], dels)
      else if (left <= 0) await this.commit([], [...dels, use.mandate.id])
      else await this.commit([Object.freeze({ ...use.mandate, tradesLeft: left })], dels)
      return { ok: true, mandate: this.byId.get(use.mandate.id) ?? use.mandate, price: use.price }
    })
  }

  /**
   * Takes one trade as {@link use} does, but holds it (MAN-5): the decrement is on disk at once
   * (a held trade is never taken twice, and after a crash it stays spent), and the returned
   * {@link MandateTrade} charges it for good or gives it back. A mandate whose last trade is
   * held is kept (listed with `tradesLeft` 0, chosen by nobody) until the trade is settled.
   */
  take(article: string, side: TradeSide, price: Money | undefined, nowMs: number): Promise<MandateTake> {
    return this.exclusive(async () => {
      const { use, expired } = this.choose(article, side, price, nowMs)
      const dels = expired.map((m) => m.id)
      if (!use.ok || use.mandate.tradesLeft === undefined) {
        await this.commit([], dels)
        if (!use.ok) return use
        // no trade count: nothing to hold or give back
        return {
          ...use,
          trade: { mandateId: use.mandate.id, charge: async () => {}, refund: async () => {} }
        }
      }
      const after: Mandate = Object.freeze({ ...use.mandate, tradesLeft: use.mandate.tradesLeft - 1 })
      await this.commit([after], dels)
      this.held.set(after.id, (this.held.get(after.id) ?? 0) + 1)
      let settled = false
      const settle = (refund: boolean) => (): Promise<void> => {
        if (settled) return Promise.resolve()
        settled = true
        return this.exclusive(() => this.settle(after.id, refund))
      }
      return {
        ok: true,
        mandate: after,
        price: use.price,
        trade: { mandateId: after.id, charge: settle(false), refund: settle(true) }
      }
    })
  }

  /** Ends one held trade of mandate `id`: given back (`refund`) or charged. Under the lock. */
  private async settle(id: number, refund: boolean): Promise<void> {
    const n = (this.held.get(id) ?? 1) - 1
    if (n > 0) this.held.set(id, n)
    else this.held.delete(id)
    const m = this.byId.get(id)
    // revoked meanwhile: nothing to give back or delete
    if (m?.tradesLeft === undefined) return
    if (refund) await this.commit([Object.freeze({ ...m, tradesLeft: m.tradesLeft + 1 })], [])
    else if (m.tradesLeft <= 0 && n <= 0) await this.commit([], [id])
  }

  /** Writes `put` and deletes `del` in one synced batch, then updates the cache and tells listeners. */
  private async commit(put: readonly Mandate[], del: readonly number[]): Promise<void> {
    if (put.length === 0 && del.length === 0) return
    const ops: KvOp[] = del.map((id) => ({ type: 'del', key: mandateKey(id) }))
    for (const m of put) {
      const rec = encodeMandate(m)
      ops.push({ type: 'put', key: rec.key, value: rec.value })
    }
    await this.kv.batch(ops, { sync: true })
    for (const id of del) this.byId.delete(id)
    for (const m of put) this.byId.set(m.id, m)
    this.emit()
  }
}

/** JSON form of a mandate for the API (money as its canonical string, MON-7). */
export function mandateToJson(m: Mandate): Record<string, unknown> {
  return {
    id: m.id,
    article: m.article,
    side: m.side,
    price: formatMoney(m.price),
    tradesLeft: m.tradesLeft ?? null,
    expiresMs: m.expiresMs ?? null,
    createdMs: m.createdMs
  }
}
