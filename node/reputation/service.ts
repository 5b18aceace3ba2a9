/**
 * The node's reputation service (protocol/spec/reputation.md, REP-21 … REP-27): turns what the
 * node can check into counter updates of the store, assesses participants and peers with the
 * pure arithmetic of protocol/reputation, and acts on it (gossip app score, establish refusals,
 * adaptive replication, equivocation proofs). The store's counters are the truth; a memory copy
 * of every record answers the synchronous questions (GossipSub asks for app scores on every
 * heartbeat).
 */
import { TypedEventEmitter } from '@libp2p/interface'
import { Counter, Gauge, type Registry } from 'prom-client'
import { addressFromPublicKey, type Network, publicKeyFromPeerId } from '../../protocol/identity/index.js'
import {
  type Assessment,
  assess,
  checkThresholds,
  DEFAULT_THRESHOLDS,
  EVENT_WEIGHTS,
  equivocationEvent,
  gossipAppScore,
  groupEvents,
  type LocalCounter,
  localEvent,
  type ReputationEvent,
  type ReputationSubject,
  shouldReplicate,
  type Thresholds,
  transactionEvents,
  validateEquivocation
} from '../../protocol/reputation/index.js'
import type { ParsedTxDocument, Transaction, TxMessage } from '../../protocol/transaction/index.js'
import { evictOldest } from '../../protocol/util/index.js'
import type { ValidationContext, ValidationResult } from '../gossip/types.js'
import type { Logger } from '../logger.js'
import type { ReputationRecord, ReputationRepository } from '../store/reputation.js'
import { ZERO_COUNTERS } from '../store/reputation.js'
import type { SettingsRepository } from '../store/settings.js'
import { conflictProof } from './detect.js'

/** Codes of the reputation service (`REPUTATION_*`, REP-22 … REP-25). */
export const ReputationServiceCode = {
  /** REP-23: the counterparty is blocked (equivocated, or score at or below `blocked`). */
  BLOCKED: 'REPUTATION_BLOCKED',
  /** REP-23: the counterparty's score is below `establishMin`. */
  DISTRUSTED: 'REPUTATION_DISTRUSTED',
  /** REP-24: a valid proof of a participant this node already blocks for equivocation (ignored). */
  KNOWN_PROOF: 'REPUTATION_KNOWN_PROOF',
  /** A valid proof could not be persisted; ignored (not forwarded), nothing changed. */
  STORE_FAILED: 'REPUTATION_STORE_FAILED',
  /** API: the subject is neither a P2PKH address nor a peer id. */
  BAD_SUBJECT: 'REPUTATION_BAD_SUBJECT'
} as const

/**
 * REP-22: local observations of one peer (invalid gossip) are summed in memory and written at
 * most once per this interval, so a flood of 10 000 invalid messages costs one store write a
 * second, not 10 000.
 */
export const DEFAULT_FLUSH_INTERVAL_MS = 1000

/** REP-22: most peers with unwritten observations (invariant 10); beyond it new ones are dropped. */
const MAX_PENDING_PEERS = 10_000

/** REP-26: recently retired transactions kept to catch a conflicting late message (invariant 10). */
const MAX_RETIRED_KEPT = 1024

/** REP-27: recent events remembered per subject for the API (memory only, newest last). */
export const MAX_RECENT_EVENTS = 16

/** Subjects remembered with recent events (bounded, oldest dropped). */
const MAX_RECENT_SUBJECTS = 4096

/** Peer id → address derivations cached (bounded, oldest dropped). */
const MAX_DERIVED = 4096

/** Setting name of a stored proof: `proof.` and the first 58 hex digits of its id (64-char names). */
function proofSetting(id: string): string {
  return `proof.${id.slice(0, 58)}`
}

/** One remembered event (REP-27). */
export interface RecentEvent {
  /** The counter incremented. */
  readonly counter: string
  /** Its source (`tx:<txid>`, `equivocation:<id>`, `local:<reason>`). */
  readonly source: string
  /** `global` or `local` (REP-5). */
  readonly scope: 'global' | 'local'
  /** When the node counted it. */
  readonly atMs: number
  /** How many (local observations are summed per flush). */
  readonly count: number
}

/** What the API shows of a subject (REP-27). */
export interface ReputationView {
  readonly subject: ReputationSubject
  /** For a peer: the participant address of the same key (invariant 2). */
  readonly address?: string
  readonly score: number
  readonly blocked: boolean
  readonly canEstablish: boolean
  readonly lowTrust: boolean
  readonly equivocated: boolean
  /** Stored counters (REP-1). */
  readonly counters: Readonly<Record<string, number>>
  /** Weight of each non-zero counter, in finished-transaction units (REP-2): the evidence's share. */
  readonly weights: Readonly<Record<string, number>>
  readonly lastUpdatedMs: number | null
  /** Verified equivocation proofs (id and the proof's wire text, REP-12). */
  readonly proofs: readonly { readonly id: string; readonly proof: string | null }[]
  /** Recent events with their sources (memory only). */
  readonly recent: readonly RecentEvent[]
}

/** Payload of `reputation:equivocation`. */
export interface EquivocationEvent {
  /** The blocked participant. */
  readonly participant: string
  /** Proof id (REP-11). */
  readonly id: string
  /** `detected` here, or received on the evidence topic. */
  readonly origin: 'detected' | 'gossip'
  /** The proof's wire bytes. */
  readonly bytes: Uint8Array
}

/** Events of the service. */
export interface ReputationEvents {
  /** A subject's record changed. */
  'reputation:changed': CustomEvent<{ readonly subject: ReputationSubject }>
  /** A participant was blocked by a verified equivocation proof (REP-10). */
  'reputation:equivocation': CustomEvent<EquivocationEvent>
}

/** Options of {@link ReputationService}. */
export interface ReputationServiceOptions {
  /** Counter storage. */
  readonly repo: ReputationRepository
  /** Where verified proofs are kept (for the API and for re-publication). */
  readonly settings: SettingsRepository
  /** Clock, ms since the epoch. */
  readonly clock: () => number
  /** REP-6 thresholds; default {@link DEFAULT_THRESHOLDS}. */
  readonly thresholds?: Partial<Thresholds>
  /** Parent logger. */
  readonly logger: Logger
  /** Address network of participants; default mainnet. */
  readonly network?: Network
  /** REP-22 write interval of local observations, ms. */
  readonly flushIntervalMs?: number
  /** Registry of the `bitwrk_reputation_*` metrics; none without it. */
  readonly registry?: Registry
}

/** Metrics of the service (labels bounded: counter name, scope, code, origin). */
interface ReputationMetrics {
  readonly events: Counter<'counter' | 'scope'>
  readonly refusals: Counter<'code'>
  readonly proofs: Counter<'origin'>
}

function createReputationMetrics(registry: Registry, blocked: () => number): ReputationMetrics {
  const registers = [registry]
  new Gauge({
    name: 'bitwrk_reputation_blocked_subjects',
    help: 'Participants and peers blocked now (REP-6), sampled at scrape time',
    registers,
    collect() {
      this.set(blocked())
    }
  })
  return {
    events: new Counter({
      name: 'bitwrk_reputation_events_total',
      help: 'Reputation events counted, by counter and scope (REP-22)',
      labelNames: ['counter', 'scope'],
      registers
    }),
    refusals: new Counter({
      name: 'bitwrk_reputation_refusals_total',
      help: 'Own matches not established because of the counterparty, by code (REP-23)',
      labelNames: ['code'],
      registers
    }),
    proofs: new Counter({
      name: 'bitwrk_reputation_proofs_total',
      help: 'Equivocation proofs adopted, by origin (REP-24, REP-26)',
      labelNames: ['origin'],
      registers
    })
  }
}

function subjectKey(s: ReputationSubject): string {
  return `${s.kind}:${s.id}`
}

/** The reputation service of one node (REP-21 … REP-27). */
export class ReputationService extends TypedEventEmitter<ReputationEvents> {
  /** The thresholds in force (REP-6). */
  readonly thresholds: Thresholds
  private readonly o: ReputationServiceOptions
  private readonly log: Logger
  private readonly records = new Map<string, ReputationRecord>()
  private readonly recent = new Map<string, RecentEvent[]>()
  private readonly derived = new Map<string, string | null>()
  private readonly retired = new Map<string, Transaction>()
  private readonly counted = new Set<string>()
  private readonly pending = new Map<
    string,
    { peer: string; counter: LocalCounter; reason: string; n: number }
  >()
  private readonly jobs = new Set<Promise<unknown>>()
  private publisher: ((bytes: Uint8Array) => Promise<unknown>) | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private chain: Promise<unknown> = Promise.resolve()
  private running = false
  private readonly metrics: ReputationMetrics | undefined

  constructor(opts: ReputationServiceOptions) {
    super()
    this.o = opts
    this.log = opts.logger.child({ module: 'reputation' })
    this.thresholds = checkThresholds({ ...DEFAULT_THRESHOLDS, ...opts.thresholds })
    this.metrics =
      opts.registry === undefined
        ? undefined
        : createReputationMetrics(opts.registry, () => {
            let n = 0
            for (const r of this.records.values()) if (this.assess(r.subject).blocked) n++
            return n
          })
  }

  /** Loads every stored record (REP-21). Unreadable records are logged and treated as absent. */
  async start(): Promise<void> {
    const { items, corrupt } = await this.o.repo.list()
    for (const r of items) this.records.set(subjectKey(r.subject), r)
    if (corrupt.length > 0) this.log.warn({ corrupt: corrupt.length }, 'unreadable reputation records')
    this.running = true
  }

  /** Writes pending observations and waits for running jobs. Idempotent. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (this.running) this.flush()
    this.running = false
    this.publisher = undefined
    await Promise.allSettled([...this.jobs])
  }

  /** Where detected proofs are published (the evidence topic, REP-24). */
  setPublisher(fn: (bytes: Uint8Array) => Promise<unknown>): void {
    this.publisher = fn
  }

  /** The stored record of `subject`, if any. */
  record(subject: ReputationSubject): ReputationRecord | undefined {
    return this.records.get(subjectKey(subject))
  }

  /** REP-6 assessment of `subject` now (a subject without a record is neutral). */
  assess(subject: ReputationSubject): Assessment {
    const r = this.record(subject)
    return assess(r ?? { counters: ZERO_COUNTERS, lastUpdatedMs: 0 }, this.o.clock(), this.thresholds)
  }

  /** The participant address of a peer id's key (invariant 2), or undefined for another key type. */
  addressOfPeer(peerId: string): string | undefined {
    let a = this.derived.get(peerId)
    if (a === undefined) {
      try {
        a = addressFromPublicKey(publicKeyFromPeerId(peerId), this.o.network)
      } catch {
        a = null
      }
      this.derived.set(peerId, a)
      evictOldest(this.derived, MAX_DERIVED)
    }
    return a ?? undefined
  }

  /**
   * REP-9: the GossipSub application-specific score of a peer, from its peer record and the
   * participant record of its key, the worst counting; 0 for a peer with neither.
   */
  appScore(peerId: string): number {
    const subjects: ReputationSubject[] = [{ kind: 'peer', id: peerId }]
    const address = this.addressOfPeer(peerId)
    if (address !== undefined) subjects.push({ kind: 'address', id: address })
    const known = subjects.filter((s) => this.records.has(subjectKey(s)))
    return gossipAppScore(known.map((s) => this.assess(s)))
  }

  /**
   * REP-23: why the node must not establish with this counterparty (its address and the peer
   * its bid names), or undefined when it may. Blocked beats distrusted.
   */
  establishRefusal(address: string, peerId: string): string | undefined {
    const a = [this.assess({ kind: 'address', id: address }), this.assess({ kind: 'peer', id: peerId })]
    const code = a.some((x) => x.blocked)
      ? ReputationServiceCode.BLOCKED
      : a.some((x) => !x.canEstablish)
        ? ReputationServiceCode.DISTRUSTED
        : undefined
    if (code !== undefined) this.metrics?.refusals.inc({ code })
    return code
  }

  /** REP-17: whether to buy deterministic work from `seller` a second time. */
  shouldReplicate(seller: string, deterministic: boolean): boolean {
    return shouldReplicate(this.assess({ kind: 'address', id: seller }), deterministic, this.thresholds)
  }

  /** REP-7: counts the global events of a retired transaction (own or audited). */
  onRetired(tx: Transaction): void {
    this.retired.set(tx.id, tx)
    evictOldest(this.retired, MAX_RETIRED_KEPT)
    let events: ReputationEvent[]
    try {
      events = transactionEvents(tx)
    } catch (err) {
      this.log.error({ txid: tx.id, err: String(err) }, 'events of a retired transaction failed')
      return
    }
    this.track(this.apply(events))
  }

  /** REP-22: the peer forwarded a message we Rejected (summed, written once per interval). */
  onInvalidGossip(peer: string, code: string): void {
    this.observe(peer, 'invalidGossip', `invalid-gossip:${code}`)
  }

  /** REP-22: the peer served a chunk or manifest that does not hash right (invariant 8). */
  onWrongChunk(peer: string, code: string): void {
    this.observe(peer, 'wrongChunks', `wrong-chunk:${code}`)
  }

  /** REP-19: a third opinion contradicted `seller`'s result (local `rejectedResults`). */
  onContradicted(seller: string): Promise<void> {
    return this.track(this.apply([localEvent({ kind: 'address', id: seller }, 'rejectedResults', 'replica')]))
  }

  /**
   * REP-26: inspects a transaction message the node received (before the phase machine judges
   * it) against the signed messages already accepted for the same transaction (followed, or
   * retired recently); a conflict that verifies (REP-14, REP-16) blocks the signer and is
   * published. Never throws; costs two signature recoveries only when a conflict is found.
   */
  inspect(message: TxMessage, doc: ParsedTxDocument, followed: Transaction | undefined): void {
    const tx = followed ?? this.retired.get(doc.txid)
    if (tx === undefined) return
    try {
      const found = conflictProof(tx, message, doc, this.o.network)
      if (found === undefined) return
      if (this.assess({ kind: 'address', id: found.participant }).equivocated) return
      this.track(this.adoptProof(found.bytes, found.participant, found.id, 'detected'))
    } catch (err) {
      this.log.error({ txid: doc.txid, err: String(err) }, 'equivocation check failed')
    }
  }

  /**
   * REP-24: the validator of the evidence topic: verify with the pure rules (every refusal is a
   * Reject and changes nothing), ignore a proof of a participant already blocked for
   * equivocation, else persist and count it before accepting (so it is forwarded only once kept).
   */
  async validateEvidence(data: Uint8Array, _ctx: ValidationContext): Promise<ValidationResult> {
    const v = validateEquivocation(data, this.o.network !== undefined ? { network: this.o.network } : {})
    if (v.result === 'reject') return { result: 'reject', code: v.code }
    if (this.assess({ kind: 'address', id: v.participant }).equivocated)
      return { result: 'ignore', code: ReputationServiceCode.KNOWN_PROOF }
    try {
      await this.adoptProof(data, v.participant, v.id, 'gossip')
    } catch (err) {
      this.log.error({ err: String(err) }, 'storing an equivocation proof failed')
      return { result: 'ignore', code: ReputationServiceCode.STORE_FAILED }
    }
    return { result: 'accept' }
  }

  /** Every subject with a record, as the API shows it. */
  list(): ReputationView[] {
    return [...this.records.values()].map((r) => this.viewOf(r.subject, r))
  }

  /** One subject as the API shows it (neutral when unknown); proof texts are read from the store. */
  async view(subject: ReputationSubject): Promise<ReputationView> {
    const r = this.record(subject)
    const v = this.viewOf(subject, r)
    const proofs = await Promise.all(
      v.proofs.map(async (p) => ({
        id: p.id,
        proof: (await this.o.settings.get(proofSetting(p.id)).catch(() => undefined)) ?? null
      }))
    )
    return { ...v, proofs }
  }

  private viewOf(subject: ReputationSubject, r: ReputationRecord | undefined): ReputationView {
    const a = this.assess(subject)
    const counters = r?.counters ?? ZERO_COUNTERS
    const weights: Record<string, number> = {}
    for (const [n, c] of Object.entries(counters))
      if (c > 0) weights[n] = c * EVENT_WEIGHTS[n as keyof typeof EVENT_WEIGHTS]
    const address = subject.kind === 'peer' ? this.addressOfPeer(subject.id) : undefined
    return {
      subject: { ...subject },
      ...(address !== undefined ? { address } : {}),
      score: a.score,
      blocked: a.blocked,
      canEstablish: a.canEstablish,
      lowTrust: a.lowTrust,
      equivocated: a.equivocated,
      counters: { ...counters },
      weights,
      lastUpdatedMs: r?.lastUpdatedMs ?? null,
      proofs: (r?.evidenceIds ?? []).map((id) => ({ id, proof: null })),
      recent: [...(this.recent.get(subjectKey(subject)) ?? [])]
    }
  }

  private async adoptProof(
    bytes: Uint8Array,
    participant: string,
    id: string,
    origin: 'detected' | 'gossip'
  ): Promise<void> {
    const text = Buffer.from(bytes).toString('latin1')
    await this.o.settings.set(proofSetting(id), text)
    await this.apply([equivocationEvent(participant, id)])
    this.metrics?.proofs.inc({ origin })
    this.log.warn({ participant, id, origin }, 'participant blocked for equivocation')
    this.safeDispatchEvent<EquivocationEvent>('reputation:equivocation', {
      detail: { participant, id, origin, bytes }
    })
    if (origin === 'detected' && this.publisher !== undefined)
      this.track(
        this.publisher(bytes).catch((err: unknown) =>
          this.log.debug({ err: String(err) }, 'proof not published')
        )
      )
  }

  private observe(peer: string, counter: LocalCounter, reason: string): void {
    if (!this.running) return
    const key = `${peer}|${reason}`
    const p = this.pending.get(key)
    if (p !== undefined) p.n++
    else if (this.pending.size < MAX_PENDING_PEERS) this.pending.set(key, { peer, counter, reason, n: 1 })
    this.timer ??= setTimeout(() => {
      this.timer = undefined
      this.flush()
    }, this.o.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS)
    this.timer.unref?.()
  }

  private flush(): void {
    if (this.pending.size === 0) return
    const events: ReputationEvent[] = []
    for (const p of this.pending.values()) {
      const e = localEvent({ kind: 'peer', id: p.peer }, p.counter, p.reason)
      for (let i = 0; i < p.n; i++) events.push(e)
    }
    this.pending.clear()
    this.track(this.apply(events))
  }

  /**
   * REP-8: one store update per subject, in order (a chain: the read-modify-write of one
   * subject never races another update of it); a global source is counted once per subject
   * and counter even across calls (bounded memory of sources), an equivocation proof once.
   */
  private apply(events: readonly ReputationEvent[]): Promise<void> {
    const run = async (): Promise<void> => {
      const fresh = events.filter((e) => {
        if (e.scope !== 'global') return true
        const once = `${e.source}|${subjectKey(e.subject)}|${e.counter}`
        if (this.counted.has(once)) return false
        if (e.evidenceId !== undefined && this.record(e.subject)?.evidenceIds.includes(e.evidenceId))
          return false
        return true
      })
      const now = this.o.clock()
      for (const d of groupEvents(fresh)) {
        const add = d.add
        const evidenceId = d.evidenceIds[0]
        const r = await this.o.repo.update(
          d.subject,
          { add, ...(evidenceId !== undefined ? { evidenceId } : {}) },
          now
        )
        this.records.set(subjectKey(d.subject), r)
        this.remember(d.subject, fresh, now)
        this.safeDispatchEvent('reputation:changed', { detail: { subject: d.subject } })
      }
      for (const e of fresh) this.metrics?.events.inc({ counter: e.counter, scope: e.scope })
      for (const e of fresh)
        if (e.scope === 'global') {
          this.counted.add(`${e.source}|${subjectKey(e.subject)}|${e.counter}`)
          evictOldest(this.counted, MAX_RETIRED_KEPT * 8)
        }
    }
    const next = this.chain.then(run, run)
    this.chain = next.catch(() => undefined)
    return next
  }

  private remember(subject: ReputationSubject, events: readonly ReputationEvent[], atMs: number): void {
    const key = subjectKey(subject)
    const list = this.recent.get(key) ?? []
    const bySource = new Map<string, RecentEvent>()
    for (const e of events) {
      if (subjectKey(e.subject) !== key) continue
      const k = `${e.counter}|${e.source}`
      const prev = bySource.get(k)
      bySource.set(k, {
        counter: e.counter,
        source: e.source,
        scope: e.scope,
        atMs,
        count: (prev?.count ?? 0) + 1
      })
    }
    list.push(...bySource.values())
    this.recent.delete(key)
    this.recent.set(key, list.slice(-MAX_RECENT_EVENTS))
    evictOldest(this.recent, MAX_RECENT_SUBJECTS)
  }

  private track<T>(p: Promise<T>): Promise<T> {
    const t = p.catch((err: unknown) => {
      this.log.error({ err: String(err) }, 'reputation update failed')
    })
    this.jobs.add(t)
    void t.finally(() => this.jobs.delete(t))
    return p
  }
}
