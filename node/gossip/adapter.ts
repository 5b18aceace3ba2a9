import { createHash } from 'node:crypto'
import { type GossipSub, type Message, TopicValidatorResult } from '@libp2p/gossipsub'
import type { TopicScoreParams } from '@libp2p/gossipsub/score'
import { type PeerId, TypedEventEmitter } from '@libp2p/interface'
import { BitwrkError } from '../../protocol/errors.js'
import { evictOldest } from '../../protocol/util/index.js'
import type { Logger } from '../logger.js'
import { codeLabel, type NodeMetrics } from '../metrics.js'
import { type QueueOptions, ValidationQueue } from './queue.js'
import { PeerRateLimiter, type RateLimitOptions } from './rate-limit.js'
import { SCORE_THRESHOLDS, TOPIC_SCORE_PARAMS } from './score.js'
import { SeenCache } from './seen-cache.js'
import { parseTopic } from './topics.js'
import {
  GossipCode,
  type MessageValidator,
  type TopicKind,
  type ValidationContext,
  type ValidationResult
} from './types.js'

/**
 * GOSSIP-4: largest message per topic kind, bytes. A bid document is ~300 bytes; an
 * equivocation proof at most 3072 (REP-12).
 */
export const DEFAULT_MAX_MESSAGE_BYTES: Readonly<Record<TopicKind, number>> = {
  bids: 4096,
  tx: 16384,
  evidence: 4096
}

/** GOSSIP-5: seen-cache bounds: 100 k ids (~10 MB) for 1 hour, the longest bid lifetime we expect. */
export const DEFAULT_SEEN_CACHE = { maxEntries: 100_000, ttlMs: 3600 * 1000 }

/** GOSSIP-2: the message id: SHA-256 of the message bytes (StrictNoSign carries no author/seqno). */
export function messageId(data: Uint8Array): Uint8Array {
  return createHash('sha256').update(data).digest()
}

/** Hex form of {@link messageId}, used in logs, events and the seen cache. */
export function messageIdHex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

// The id GossipSub computed last (its msgIdFn and msgIdToStrFn, once per copy received). A
// message it has not seen before goes on to the topic validator with the same `data` object,
// so the validator takes the id from here instead of hashing the bytes a second time (issue 14).
// One slot, matched by object identity: a miss (another message hashed in between) hashes again.
let lastRouterId: { data: Uint8Array; id: Uint8Array; hex: string | undefined } | undefined

/** GossipSub's `msgIdFn` (GOSSIP-2): {@link messageId}, remembered for {@link routerMessageIdHex}. */
export function routerMessageId(data: Uint8Array): Uint8Array {
  const id = messageId(data)
  lastRouterId = { data, id, hex: undefined }
  return id
}

/** GossipSub's `msgIdToStrFn`: the lowercase hex of a message id. */
export function messageIdToStr(id: Uint8Array): string {
  const hex = Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex')
  if (lastRouterId !== undefined && lastRouterId.id === id) lastRouterId.hex = hex
  return hex
}

/** {@link messageIdHex} of `data`, taken from GossipSub's last id when it hashed these very bytes. */
export function routerMessageIdHex(data: Uint8Array): string {
  const last = lastRouterId
  if (last === undefined || last.data !== data) return messageIdHex(data)
  return last.hex ?? messageIdToStr(last.id)
}

/** An accepted message on a bitwrk topic. */
export interface GossipMessage {
  /** Full topic string. */
  readonly topic: string
  /** Topic kind. */
  readonly kind: TopicKind
  /** Article of the topic. */
  readonly article: string
  /** The message bytes, exactly as validated. */
  readonly data: Uint8Array
  /** Hex SHA-256 of `data` (GOSSIP-2). */
  readonly msgId: string
}

/** Events of {@link GossipAdapter}. */
export interface GossipAdapterEvents {
  /** A message that passed validation arrived on a subscribed bitwrk topic. */
  'gossip:message': CustomEvent<GossipMessage>
}

/** Options of {@link GossipAdapter}. */
export interface GossipAdapterOptions {
  /** The GossipSub service (created with {@link gossipsubOptions}). */
  pubsub: GossipSub
  /** One validator per topic kind; subscribing to a kind without one throws GOSSIP_NO_VALIDATOR. */
  validators: Partial<Record<TopicKind, MessageValidator>>
  /** Metric families to update. */
  metrics: NodeMetrics
  /** Parent logger; the adapter logs as `{ module: 'gossip' }`. */
  logger: Logger
  /** Clock, ms since the epoch (tests pin it). */
  now?: () => number
  /** GOSSIP-4 size limits per kind. */
  maxMessageBytes?: Partial<Record<TopicKind, number>>
  /** GOSSIP-6 queue bounds (one queue per kind). */
  queue?: Partial<QueueOptions>
  /** GOSSIP-7 per-peer rate limits (one limiter per kind). */
  rateLimit?: Partial<RateLimitOptions>
  /** GOSSIP-5 seen-cache bounds. */
  seenCache?: { maxEntries: number; ttlMs: number }
  /** GOSSIP-9 topic score parameters for every bitwrk topic. */
  topicScoreParams?: TopicScoreParams
  /**
   * Called for every Rejected message with the forwarding peer and the code (REP-8: the node's
   * reputation counts it as the peer's `invalidGossip`). Must not throw.
   */
  onReject?: (event: { kind: TopicKind; peer: string; code: string }) => void
  /**
   * GOSSIP-12: called with a peer whose score fell below the graylist threshold after one of
   * its messages was rejected here (the host disconnects and bans it).
   */
  onGraylisted?: (peer: string) => void
}

/** Options of {@link GossipAdapter.publish}. */
export interface PublishOptions {
  /** Aborts the wait for peers (e.g. when the bid expires or matches). */
  signal?: AbortSignal
  /** Deadline for finding a peer to send to, ms; default 30 s. */
  timeoutMs?: number
}

/** Result of {@link GossipAdapter.publish}. */
export interface PublishOutcome {
  /** Peers the message was sent to directly (GossipSub forwards it further). */
  readonly recipients: number
  /** True when this exact message had been published or received before (nothing was sent). */
  readonly duplicate: boolean
}

/** GOSSIP-8: first and longest wait between publish attempts while no peer is subscribed, ms. */
const PUBLISH_RETRY_MIN_MS = 50
const PUBLISH_RETRY_MAX_MS = 2000
/** GOSSIP-12: heartbeats a peer's score is watched after a reject (its cache lasts one). */
const SUSPECT_HEARTBEATS = 3
/** GOSSIP-12: most peers watched at once (bounded, invariant 10). */
const MAX_SUSPECTS = 1024
/** Default publish deadline, ms. */
const DEFAULT_PUBLISH_TIMEOUT_MS = 30_000

/** Runtime shape of GossipSub internals that the public interface does not declare. */
interface GossipSubInternals {
  getScore?: (peerId: string) => number
  getMeshPeers?: (topic: string) => string[]
  streamsOutbound?: Map<string, unknown>
  score?: { params?: { topics?: Record<string, TopicScoreParams> } }
}

interface KindState {
  readonly validator: MessageValidator
  readonly queue: ValidationQueue<ValidationResult>
  readonly limiter: PeerRateLimiter
  readonly maxBytes: number
  /** `{ kind }`, the label of this kind's metrics. */
  readonly labels: { kind: TopicKind }
}

/**
 * The ONE place where validation results meet GossipSub (STYLE.md, after Lodestar): it wires a
 * topic validator per bitwrk topic that checks size, per-peer rate, the seen cache and the
 * bounded queue before running the injected validator, maps accept/ignore/reject to
 * {@link TopicValidatorResult}, registers score parameters so a Reject lowers the sender's
 * score, and owns all gossip logs and metrics.
 */
export class GossipAdapter extends TypedEventEmitter<GossipAdapterEvents> {
  private readonly pubsub: GossipSub
  private readonly internals: GossipSubInternals
  private readonly metrics: NodeMetrics
  private readonly log: Logger
  private readonly now: () => number
  private readonly kinds = new Map<TopicKind, KindState>()
  private readonly seen: SeenCache
  private readonly topicParams: TopicScoreParams
  private readonly onReject: GossipAdapterOptions['onReject']
  private readonly subscribed = new Set<string>()
  // message ids computed during validation, reused when the same message is delivered
  private readonly ids = new WeakMap<Uint8Array, string>()
  private readonly stopController = new AbortController()
  private readonly onPubsubMessage = (evt: CustomEvent<Message>): void => this.deliver(evt.detail)
  private readonly onGraylisted: ((peer: string) => void) | undefined
  // GOSSIP-12: peers with a recent reject → heartbeats left to watch their score
  private readonly suspects = new Map<string, number>()
  private suspectCheckQueued = false
  private readonly onHeartbeat = (): void => this.checkSuspects(true)

  constructor(opts: GossipAdapterOptions) {
    super()
    this.onGraylisted = opts.onGraylisted
    this.pubsub = opts.pubsub
    this.internals = opts.pubsub as unknown as GossipSubInternals
    this.metrics = opts.metrics
    this.log = opts.logger.child({ module: 'gossip' })
    this.now = opts.now ?? Date.now
    const seen = opts.seenCache ?? DEFAULT_SEEN_CACHE
    this.seen = new SeenCache(seen.maxEntries, seen.ttlMs, this.now)
    this.topicParams = opts.topicScoreParams ?? TOPIC_SCORE_PARAMS
    this.onReject = opts.onReject
    for (const kind of ['bids', 'tx', 'evidence'] as const) {
      const validator = opts.validators[kind]
      if (validator === undefined) continue
      this.kinds.set(kind, {
        validator,
        queue: new ValidationQueue<ValidationResult>(opts.queue, (n) =>
          this.metrics.queueLength.set({ kind }, n)
        ),
        limiter: new PeerRateLimiter(opts.rateLimit, this.now),
        maxBytes: opts.maxMessageBytes?.[kind] ?? DEFAULT_MAX_MESSAGE_BYTES[kind],
        labels: { kind }
      })
    }
    this.pubsub.addEventListener('message', this.onPubsubMessage)
    if (this.onGraylisted !== undefined) this.pubsub.addEventListener('gossipsub:heartbeat', this.onHeartbeat)
  }

  /**
   * Subscribes to a bitwrk topic: registers its score parameters and the validator, then
   * joins the mesh. Throws GOSSIP_BAD_TOPIC or GOSSIP_NO_VALIDATOR.
   */
  subscribe(topic: string): void {
    const parsed = parseTopic(topic)
    if (parsed === undefined) throw new BitwrkError(GossipCode.BAD_TOPIC, 'not a bitwrk topic', { topic })
    const state = this.kinds.get(parsed.kind)
    if (state === undefined)
      throw new BitwrkError(GossipCode.NO_VALIDATOR, 'no validator for topic kind', { kind: parsed.kind })
    if (this.subscribed.has(topic)) return
    const topics = this.internals.score?.params?.topics
    // GossipSub lowers a score for Reject only on topics listed in its score params; the
    // params object is shared by reference with its PeerScore, so adding the entry works at
    // runtime. If a GossipSub upgrade hides it, fail loudly rather than run without scoring.
    if (topics === undefined) throw new Error('GossipSub score parameters are not reachable')
    topics[topic] = { ...this.topicParams }
    const { kind, article } = parsed
    this.pubsub.topicValidators.set(topic, (from, msg) => this.validate(state, kind, article, from, msg))
    this.subscribed.add(topic)
    this.pubsub.subscribe(topic)
    this.log.debug({ kind, article }, 'subscribed')
  }

  /** Leaves a topic and removes its validator (its score entry stays for retained scores). */
  unsubscribe(topic: string): void {
    if (!this.subscribed.delete(topic)) return
    this.pubsub.unsubscribe(topic)
    this.pubsub.topicValidators.delete(topic)
  }

  /** Topics currently subscribed through the adapter. */
  topics(): string[] {
    return [...this.subscribed]
  }

  /** GossipSub score of a peer as this node sees it (GOSSIP-9). */
  score(peer: PeerId | string): number {
    const fn = this.internals.getScore
    if (fn === undefined) throw new Error('GossipSub getScore is not reachable')
    return fn.call(this.pubsub, peer.toString())
  }

  /** Peer ids in our GossipSub mesh for `topic` (diagnostics and tests). */
  meshPeers(topic: string): string[] {
    const fn = this.internals.getMeshPeers
    if (fn === undefined) throw new Error('GossipSub getMeshPeers is not reachable')
    return fn.call(this.pubsub, topic)
  }

  /**
   * GOSSIP-8: publishes `data` on `topic`, waiting (with back-off, and on every subscription
   * change) until at least one peer with a score above the publish threshold is subscribed,
   * or until the deadline/abort (GOSSIP_PUBLISH_TIMEOUT). GossipSub cannot send the same bytes
   * twice, so once sent, later peers get the message through gossip (IHAVE) or bid sync.
   */
  async publish(topic: string, data: Uint8Array, opts: PublishOptions = {}): Promise<PublishOutcome> {
    const parsed = parseTopic(topic)
    if (parsed === undefined) throw new BitwrkError(GossipCode.BAD_TOPIC, 'not a bitwrk topic', { topic })
    const kind = parsed.kind
    const deadline = AbortSignal.timeout(opts.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS)
    const signals = [deadline, this.stopController.signal]
    if (opts.signal !== undefined) signals.push(opts.signal)
    const signal = AbortSignal.any(signals)
    let waitMs = PUBLISH_RETRY_MIN_MS
    for (;;) {
      if (signal.aborted) {
        this.metrics.published.inc({ kind, outcome: 'aborted' })
        const code = this.stopController.signal.aborted ? GossipCode.STOPPED : GossipCode.PUBLISH_TIMEOUT
        throw new BitwrkError(code, 'no peer to publish to before the deadline', { kind })
      }
      if (this.hasPublishPeer(topic)) break
      await this.waitForSubscribers(waitMs, signal)
      waitMs = Math.min(PUBLISH_RETRY_MAX_MS, waitMs * 2)
    }
    try {
      const res = await this.pubsub.publish(topic, data)
      const recipients = res.recipients.length
      this.metrics.published.inc({ kind, outcome: recipients > 0 ? 'sent' : 'no_peers' })
      this.log.trace({ kind, recipients }, 'published')
      return { recipients, duplicate: false }
    } catch (err) {
      if (err instanceof Error && err.message === 'PublishError.Duplicate') {
        this.metrics.published.inc({ kind, outcome: 'duplicate' })
        return { recipients: 0, duplicate: true }
      }
      this.metrics.published.inc({ kind, outcome: 'error' })
      throw err
    }
  }

  /** Stops: pending publishes fail with GOSSIP_STOPPED, validators and listeners go. Idempotent. */
  stop(): void {
    if (this.stopController.signal.aborted) return
    this.stopController.abort()
    this.pubsub.removeEventListener('message', this.onPubsubMessage)
    this.pubsub.removeEventListener('gossipsub:heartbeat', this.onHeartbeat)
    this.suspects.clear()
    for (const topic of this.subscribed) this.pubsub.topicValidators.delete(topic)
    this.subscribed.clear()
  }

  private hasPublishPeer(topic: string): boolean {
    // a subscription arrives on the peer's stream; ours to it may open a moment later, and
    // GossipSub silently skips a peer without one (and then refuses to publish the bytes again)
    const outbound = this.internals.streamsOutbound
    for (const p of this.pubsub.getSubscribers(topic)) {
      const id = p.toString()
      if (outbound !== undefined && !outbound.has(id)) continue
      if (this.score(id) >= SCORE_THRESHOLDS.publishThreshold) return true
    }
    return false
  }

  private waitForSubscribers(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        this.pubsub.removeEventListener('subscription-change', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      signal.addEventListener('abort', done)
      this.pubsub.addEventListener('subscription-change', done)
    })
  }

  private deliver(msg: Message): void {
    if (!this.subscribed.has(msg.topic)) return
    const parsed = parseTopic(msg.topic)
    if (parsed === undefined) return
    this.safeDispatchEvent<GossipMessage>('gossip:message', {
      detail: {
        topic: msg.topic,
        ...parsed,
        data: msg.data,
        msgId: this.ids.get(msg.data) ?? messageIdHex(msg.data)
      }
    })
  }

  /** GOSSIP-3: the validation order; every outcome is counted and mapped here. */
  private async validate(
    state: KindState,
    kind: TopicKind,
    article: string,
    from: PeerId,
    msg: Message
  ): Promise<TopicValidatorResult> {
    const data = msg.data
    const peer = from.toString()
    // [REJECT] GOSSIP-4: size first, it costs nothing
    if (data.byteLength > state.maxBytes)
      return this.finish(kind, peer, { result: 'reject', code: GossipCode.TOO_LARGE })
    // [IGNORE/REJECT] GOSSIP-7: per-peer rate
    const rate = state.limiter.take(peer)
    if (rate !== 'ok') {
      this.metrics.rateLimited.inc({ kind, action: rate })
      const code = rate === 'reject' ? GossipCode.RATE_ABUSE : GossipCode.RATE_LIMITED
      return this.finish(kind, peer, { result: rate, code })
    }
    // GOSSIP-5: a message validated before keeps its verdict (accepted before: ignore)
    const id = routerMessageIdHex(data)
    this.ids.set(data, id)
    const prior = this.seen.get(id)
    if (prior !== undefined) {
      if (prior.verdict === 'reject')
        return this.finish(kind, peer, { result: 'reject', code: prior.code ?? GossipCode.DUPLICATE })
      return this.finish(kind, peer, { result: 'ignore', code: GossipCode.DUPLICATE })
    }
    // [IGNORE] GOSSIP-6: bounded queue, drop newest when full
    const ctx: ValidationContext = { topic: msg.topic, kind, article, from: peer, nowMs: this.now() }
    const pending = state.queue.push(() => this.runValidator(state, kind, data, ctx))
    if (pending === undefined) {
      this.metrics.queueDropped.inc({ kind })
      return this.finish(kind, peer, { result: 'ignore', code: GossipCode.QUEUE_FULL })
    }
    const res = await pending
    if (res.result === 'accept') this.seen.put(id, 'accept')
    else if (res.result === 'reject') this.seen.put(id, 'reject', res.code)
    // validator ignores (time window, unknown article ...) may change with time: not cached
    return this.finish(kind, peer, res, id)
  }

  private async runValidator(
    state: KindState,
    kind: TopicKind,
    data: Uint8Array,
    ctx: ValidationContext
  ): Promise<ValidationResult> {
    const start = performance.now()
    try {
      return await state.validator(data, ctx)
    } catch (err) {
      // a validator must return, not throw: this is a bug, so log it loudly and drop the message
      this.log.error({ kind, err }, 'validator threw')
      return { result: 'ignore', code: GossipCode.VALIDATOR_ERROR }
    } finally {
      // one label object per kind, made once (prom-client's startTimer copies its labels per call)
      this.metrics.validationSeconds.observe(state.labels, (performance.now() - start) / 1000)
    }
  }

  /**
   * GOSSIP-12: after a reject, watches the peer's score for a few heartbeats and reports it
   * once it is below the graylist threshold. GossipSub applies the reject's penalty after the
   * validator returns and caches scores for a heartbeat, so the score is read on the next turn
   * of the event loop and again at each heartbeat.
   */
  private checkGraylist(peer: string): void {
    if (this.onGraylisted === undefined) return
    this.suspects.delete(peer)
    this.suspects.set(peer, SUSPECT_HEARTBEATS)
    evictOldest(this.suspects, MAX_SUSPECTS)
    if (this.suspectCheckQueued) return
    this.suspectCheckQueued = true
    setImmediate(() => {
      this.suspectCheckQueued = false
      this.checkSuspects(false)
    })
  }

  private checkSuspects(heartbeat: boolean): void {
    const score = this.internals.getScore
    if (this.stopController.signal.aborted || score === undefined) return
    for (const [peer, left] of [...this.suspects]) {
      if (score.call(this.pubsub, peer) < SCORE_THRESHOLDS.graylistThreshold) {
        this.suspects.delete(peer)
        this.onGraylisted?.(peer)
      } else if (heartbeat) {
        if (left <= 1) this.suspects.delete(peer)
        else this.suspects.set(peer, left - 1)
      }
    }
  }

  private finish(kind: TopicKind, peer: string, res: ValidationResult, id?: string): TopicValidatorResult {
    const code = res.result === 'accept' ? 'OK' : codeLabel(res.code)
    this.metrics.validation.inc({ kind, result: res.result, code })
    if (res.result === 'reject') {
      this.log.debug({ kind, code, peer, id }, 'gossip message rejected')
      this.onReject?.({ kind, peer, code: res.code })
      // a rate-limit reject does not count: an honest relay may forward a burst (e.g. IWANT
      // answers after a partition heals); only provably invalid messages lead to a ban
      if (res.code !== GossipCode.RATE_ABUSE) this.checkGraylist(peer)
    } else if (res.result === 'ignore') this.log.trace({ kind, code, peer, id }, 'gossip message ignored')
    return res.result === 'accept'
      ? TopicValidatorResult.Accept
      : res.result === 'reject'
        ? TopicValidatorResult.Reject
        : TopicValidatorResult.Ignore
  }
}
