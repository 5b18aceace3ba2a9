/**
 * Subscriptions and settings (README.md buckets `subscription`, `setting`): the articles the
 * node follows, so that a restart comes back with its book subscriptions, and small named
 * settings.
 */
import { isArticle } from '../../protocol/article/index.js'
import { check, concat, decodeSealed, fromUtf8, seal, utf8, Writer } from './codec.js'
import { Bucket, type KvController, prefixRange } from './db.js'
import { faultOf, type Listing, StoreCode, storeError } from './errors.js'

/** Setting names: lower-case dotted words, at most 64 characters. */
const SETTING_NAME = /^[a-z][a-z0-9._-]{0,63}$/

/** Largest setting value in bytes. */
export const MAX_SETTING_BYTES = 4096

/** A followed article. */
export interface Subscription {
  /** The article (ART-1 syntax). */
  readonly article: string
  /** When the node started following it, ms since the epoch. */
  readonly sinceMs: number
}

/** Key of a subscription. */
export function subscriptionKey(article: string): Uint8Array {
  return concat(Uint8Array.of(Bucket.subscription), utf8(article))
}

/** Key of a setting. */
export function settingKey(name: string): Uint8Array {
  return concat(Uint8Array.of(Bucket.setting), utf8(name))
}

/** Decodes and validates a sealed subscription stored under `key`. */
export function decodeSubscription(key: Uint8Array, value: Uint8Array): Subscription {
  const article = fromUtf8(key.subarray(1))
  check(isArticle(article), 'bad article in key')
  return decodeSealed(key, value, (r) => Object.freeze({ article, sinceMs: r.u64() }))
}

/** Decodes a sealed setting value stored under `key`. */
export function decodeSetting(key: Uint8Array, value: Uint8Array): string {
  check(SETTING_NAME.test(fromUtf8(key.subarray(1))), 'bad setting name')
  return decodeSealed(key, value, (r) => r.str(MAX_SETTING_BYTES))
}

/** The repository of subscriptions and settings. */
export class SettingsRepository {
  constructor(private readonly kv: KvController) {}

  /** Follows `article` from `nowMs` (keeps the first time when already followed). */
  async follow(article: string, nowMs: number): Promise<Subscription> {
    if (!isArticle(article) || !Number.isSafeInteger(nowMs) || nowMs < 0)
      throw storeError(StoreCode.INVALID, 'invalid subscription')
    const key = subscriptionKey(article)
    const old = await this.kv.get(key)
    if (old !== undefined) {
      try {
        return decodeSubscription(key, old)
      } catch {
        // A corrupt record is replaced by the fresh one: following again is the repair.
      }
    }
    await this.kv.batch([{ type: 'put', key, value: seal(key, new Writer().u64(nowMs).finish()) }])
    return Object.freeze({ article, sinceMs: nowMs })
  }

  /** Stops following `article`. */
  async unfollow(article: string): Promise<void> {
    if (!isArticle(article)) throw storeError(StoreCode.INVALID, 'invalid article')
    await this.kv.batch([{ type: 'del', key: subscriptionKey(article) }])
  }

  /** The followed articles in key order; unreadable ones are reported. */
  async subscriptions(): Promise<Listing<Subscription>> {
    const items: Subscription[] = []
    const corrupt: Listing<Subscription>['corrupt'] = []
    for await (const [k, v] of this.kv.entries(prefixRange(Uint8Array.of(Bucket.subscription)))) {
      try {
        items.push(decodeSubscription(k, v))
      } catch (err) {
        corrupt.push(faultOf('subscription', k, err))
      }
    }
    return { items, corrupt }
  }

  /** The value of setting `name`, or undefined; STORE_CORRUPT when unreadable. */
  async get(name: string): Promise<string | undefined> {
    if (!SETTING_NAME.test(name)) throw storeError(StoreCode.INVALID, 'invalid setting name')
    const key = settingKey(name)
    const v = await this.kv.get(key)
    return v === undefined ? undefined : decodeSetting(key, v)
  }

  /** Sets (or, with undefined, deletes) setting `name`. */
  async set(name: string, value: string | undefined): Promise<void> {
    if (!SETTING_NAME.test(name)) throw storeError(StoreCode.INVALID, 'invalid setting name')
    const key = settingKey(name)
    if (value === undefined) return this.kv.batch([{ type: 'del', key }])
    if (utf8(value).length > MAX_SETTING_BYTES) throw storeError(StoreCode.INVALID, 'setting too large')
    return this.kv.batch([{ type: 'put', key, value: seal(key, new Writer().str(value).finish()) }])
  }
}
