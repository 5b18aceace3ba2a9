/**
 * Reputation counters (README.md bucket `reputation`) per participant address and per peer
 * id, with the time of the last update so that protocol/ can apply decay later. This file
 * only stores; the arithmetic of trust belongs to protocol/.
 */
import { REPUTATION_COUNTERS } from '../../protocol/reputation/index.js'
import { check, concat, decodeSealed, fromUtf8, seal, utf8, Writer } from './codec.js'
import { Bucket, type KvController, Mutex, prefixRange } from './db.js'
import { faultOf, type Listing, StoreCode, storeError } from './errors.js'

/**
 * The counters kept per subject, in their stored order (append only: the order is the format).
 * The list is the protocol's (`REPUTATION_COUNTERS`, REP rules): one definition of the event kinds.
 */
export const COUNTER_NAMES = REPUTATION_COUNTERS

/** A counter name. */
export type CounterName = (typeof COUNTER_NAMES)[number]

/** Counter values. */
export type Counters = Readonly<Record<CounterName, number>>

/** Most equivocation evidence ids kept per subject (the newest; invariant 10). */
export const MAX_EVIDENCE_IDS = 16

/** Longest evidence id kept (a hex SHA-256 is 64). */
const EVIDENCE_ID = /^[0-9A-Za-z_.~-]{1,128}$/

/** Whom a record is about: a market participant (P2PKH address) or a libp2p peer. */
export type Subject =
  | { readonly kind: 'address'; readonly id: string }
  | { readonly kind: 'peer'; readonly id: string }

const KIND_BYTE = { address: 0x01, peer: 0x02 } as const
const ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{25,35}$/
const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/

/** The record of one subject. */
export interface ReputationRecord {
  /** Whom it is about. */
  readonly subject: Subject
  /** The counters. */
  readonly counters: Counters
  /** Ids of equivocation evidence (newest last, at most {@link MAX_EVIDENCE_IDS}). */
  readonly evidenceIds: readonly string[]
  /** When a counter last changed, ms since the epoch (for decay). */
  readonly lastUpdatedMs: number
}

/** All counters at zero. */
export const ZERO_COUNTERS: Counters = Object.freeze(
  Object.fromEntries(COUNTER_NAMES.map((n) => [n, 0])) as Record<CounterName, number>
)

function validSubject(s: Subject): boolean {
  return (s.kind === 'address' && ADDRESS.test(s.id)) || (s.kind === 'peer' && PEER_ID.test(s.id))
}

/** Key of a subject's record: kind byte ‖ UTF-8 id. */
export function reputationKey(s: Subject): Uint8Array {
  if (!validSubject(s)) throw storeError(StoreCode.INVALID, 'invalid reputation subject')
  return concat(Uint8Array.of(Bucket.reputation, KIND_BYTE[s.kind]), utf8(s.id))
}

function subjectOf(key: Uint8Array): Subject {
  const kindByte = key[1]
  const id = fromUtf8(key.subarray(2))
  const s: Subject | undefined =
    kindByte === KIND_BYTE.address
      ? { kind: 'address', id }
      : kindByte === KIND_BYTE.peer
        ? { kind: 'peer', id }
        : undefined
  check(s !== undefined && validSubject(s), 'bad reputation key')
  return s
}

/** Payload of a record: lastUpdatedMs, the counters (u64 each), then the evidence ids. */
export function encodeReputation(r: ReputationRecord): Uint8Array {
  const w = new Writer().u64(r.lastUpdatedMs)
  for (const n of COUNTER_NAMES) w.u64(r.counters[n])
  w.u8(r.evidenceIds.length)
  for (const id of r.evidenceIds) w.str(id)
  return w.finish()
}

/** Decodes and validates a sealed record stored under `key`. */
export function decodeReputation(key: Uint8Array, value: Uint8Array): ReputationRecord {
  const subject = subjectOf(key)
  return decodeSealed(key, value, (r) => {
    const lastUpdatedMs = r.u64()
    const counters = {} as Record<CounterName, number>
    for (const n of COUNTER_NAMES) counters[n] = r.u64()
    const count = r.u8()
    check(count <= MAX_EVIDENCE_IDS, 'too many evidence ids')
    const evidenceIds: string[] = []
    for (let i = 0; i < count; i++) {
      const id = r.str(128)
      check(EVIDENCE_ID.test(id), 'bad evidence id')
      evidenceIds.push(id)
    }
    return Object.freeze({
      subject: Object.freeze(subject),
      counters: Object.freeze(counters),
      evidenceIds: Object.freeze(evidenceIds),
      lastUpdatedMs
    })
  })
}

/** A change to a record: counter increments, and optionally a new evidence id. */
export interface ReputationDelta {
  /** Amounts to add (non-negative safe integers). */
  readonly add?: Partial<Counters>
  /** An equivocation evidence id to remember (deduplicated, oldest dropped beyond the bound). */
  readonly evidenceId?: string
}

/** The repository of reputation counters. */
export class ReputationRepository {
  private readonly lock = new Mutex()

  constructor(private readonly kv: KvController) {}

  /** The record of `subject`, or undefined; STORE_CORRUPT when unreadable. */
  async get(subject: Subject): Promise<ReputationRecord | undefined> {
    const key = reputationKey(subject)
    const v = await this.kv.get(key)
    return v === undefined ? undefined : decodeReputation(key, v)
  }

  /**
   * Adds `delta` to the record of `subject` at `nowMs` (read-modify-write under the repository
   * lock) and returns the new record. A corrupt stored record is STORE_CORRUPT, not reset.
   */
  update(subject: Subject, delta: ReputationDelta, nowMs: number): Promise<ReputationRecord> {
    const key = reputationKey(subject)
    const add = delta.add ?? {}
    for (const [n, v] of Object.entries(add))
      if (!(COUNTER_NAMES as readonly string[]).includes(n) || !Number.isSafeInteger(v) || (v as number) < 0)
        throw storeError(StoreCode.INVALID, 'invalid counter increment')
    if (delta.evidenceId !== undefined && !EVIDENCE_ID.test(delta.evidenceId))
      throw storeError(StoreCode.INVALID, 'invalid evidence id')
    if (!Number.isSafeInteger(nowMs) || nowMs < 0) throw storeError(StoreCode.INVALID, 'invalid time')
    return this.lock.run(async () => {
      const old = await this.get(subject)
      const counters = { ...(old?.counters ?? ZERO_COUNTERS) }
      for (const n of COUNTER_NAMES) {
        const next = counters[n] + (add[n] ?? 0)
        // Saturate rather than overflow the u64-in-a-safe-integer encoding.
        counters[n] = Math.min(next, Number.MAX_SAFE_INTEGER)
      }
      let evidenceIds = [...(old?.evidenceIds ?? [])]
      if (delta.evidenceId !== undefined && !evidenceIds.includes(delta.evidenceId))
        evidenceIds = [...evidenceIds, delta.evidenceId].slice(-MAX_EVIDENCE_IDS)
      const record: ReputationRecord = Object.freeze({
        subject: Object.freeze({ ...subject }),
        counters: Object.freeze(counters),
        evidenceIds: Object.freeze(evidenceIds),
        lastUpdatedMs: Math.max(nowMs, old?.lastUpdatedMs ?? 0)
      })
      await this.kv.batch([{ type: 'put', key, value: seal(key, encodeReputation(record)) }])
      return record
    })
  }

  /** Every record of one subject kind (or all), in key order; unreadable ones are reported. */
  async list(kind?: Subject['kind']): Promise<Listing<ReputationRecord>> {
    const prefix =
      kind === undefined
        ? Uint8Array.of(Bucket.reputation)
        : Uint8Array.of(Bucket.reputation, KIND_BYTE[kind])
    const items: ReputationRecord[] = []
    const corrupt: Listing<ReputationRecord>['corrupt'] = []
    for await (const [k, v] of this.kv.entries(prefixRange(prefix))) {
      try {
        items.push(decodeReputation(k, v))
      } catch (err) {
        corrupt.push(faultOf('reputation', k, err))
      }
    }
    return { items, corrupt }
  }
}
