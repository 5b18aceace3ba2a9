import { setMaxListeners } from 'node:events'
import type { IdentifyResult, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import {
  capReason,
  InboundStreamCaps,
  type StreamCaps,
  type StreamGuardReason,
  type StreamRefusedHandler
} from '../../cafs/adapters/libp2p/index.js'
import { InvalidRequestBudget, MAX_VARINT_BYTES } from '../../cafs/transfer/index.js'
import { BitwrkError, isBitwrkError } from '../../protocol/errors.js'
import { DEFAULT_EPOCH_PARAMS, type EpochParams } from '../../protocol/matching/index.js'
import { PeerRateLimiter, type RateLimitOptions } from '../gossip/rate-limit.js'
import { type Logger, silentLogger } from '../logger.js'
import { codeLabel } from '../metrics.js'
import type { SyncBook, SyncSnapshots } from './book.js'
import { SyncChannel, toSyncError } from './channel.js'
import { SYNC_MISBEHAVIOUR_CODES, SyncCode } from './errors.js'
import {
  resolveSyncLimits,
  SYNC_MAX_INBOUND_STREAMS,
  SYNC_MAX_OUTBOUND_STREAMS,
  SYNC_MAX_PEER_STREAMS,
  SYNC_MAX_TOTAL_STREAMS,
  SYNC_PARALLEL_ARTICLES,
  SYNC_PROTOCOL,
  type SyncLimits
} from './limits.js'
import { createSyncMetrics, type SyncMetrics } from './metrics.js'
import {
  type PeerSnapshot,
  type PullStats,
  pullArticle,
  pullSnapshot,
  pullTime,
  type TimeSample
} from './pull.js'
import { serveSession } from './serve.js'
import { buildSnapshot, chooseSnapshot, snapshotDelayMs } from './snapshot.js'

/** The part of libp2p the sync service uses. */
export type SyncLibp2p = Pick<
  Libp2p,
  | 'handle'
  | 'unhandle'
  | 'dialProtocol'
  | 'getPeers'
  | 'getConnections'
  | 'addEventListener'
  | 'removeEventListener'
  | 'peerStore'
>

/** A failed session, reported so the node can penalise misbehaviour (SYNC-12). */
export interface SyncPeerReport {
  /** Base58 peer id. */
  readonly peer: string
  /** Our role in the session. */
  readonly role: 'requester' | 'responder'
  /** The sync code. */
  readonly code: string
  /** True when the code proves misbehaviour ({@link SYNC_MISBEHAVIOUR_CODES}). */
  readonly misbehaviour: boolean
  /** Context (e.g. `bidCode` of a rejected bid, `remoteCode` of an ERROR). */
  readonly details: Readonly<Record<string, unknown>>
}

/** Options of {@link SyncService}. */
export interface SyncServiceOptions {
  /** The libp2p node. */
  readonly libp2p: SyncLibp2p
  /** The live bid book. */
  readonly book: SyncBook
  /** The matching state to serve and adopt (SYNC-11); without it no snapshot is exchanged. */
  readonly snapshots?: SyncSnapshots
  /** Epoch parameters of the market (for timing snapshot requests); default MATCH defaults. */
  readonly epochParams?: EpochParams
  /** Limits and timeouts. */
  readonly limits?: Partial<SyncLimits>
  /** Peers pulled from per sync (sequentially; the later ones usually differ in nothing). Default 3. */
  readonly peersPerSync?: number
  /** Peers that must offer the identical snapshot before it is adopted (SYNC-11). Default 2. */
  readonly snapshotQuorum?: number
  /** Sync every followed article on start and on the first connections. Default true. */
  readonly autoSync?: boolean
  /**
   * Chain checks (SYNC-15): the node compares its match digests with the snapshots of up to
   * {@link CHAIN_CHECK_PEERS} random peers and re-adopts the network's matching state when an
   * agreed one differs from its own; every this many ms (±25 %) at first and after anything but
   * `on-chain`, the interval doubling after each check that found the node on the chain up to
   * {@link CHAIN_CHECK_MAX_FACTOR} times it. Default 4 s; 0 turns them off.
   */
  readonly chainCheckMs?: number
  /** How often clocks are sampled at chain checks (SYNC-16), ms; default {@link CLOCK_SAMPLE_MS}. */
  readonly clockSampleMs?: number
  /** The host clock as it is (SYNC-16: answered to TIME_REQ, times our own); default `now`. */
  readonly hostNow?: () => number
  /**
   * Clock samples of peers (SYNC-16), taken in each chain-check session; without it no TIME_REQ
   * is sent. Samples whose round trip exceeds {@link MAX_TIME_RTT_MS} are dropped.
   */
  readonly onTimeSample?: (peer: string, sample: TimeSample) => void
  /** Called when a chain check found this node off the network's chain (SYNC-15), before it re-adopts. */
  readonly onOffChain?: (event: {
    key: string
    epoch: number
    ours: string | undefined
    theirs: string
  }) => void
  /** Deadline of one automatic sync, ms. Default 30 s. */
  readonly autoSyncDeadlineMs?: number
  /** Requests per peer (responder side, SYNC-10). */
  readonly rateLimit?: Partial<RateLimitOptions>
  /** Invalid requests a peer may send before we stop serving it (SYNC-10). Default 3. */
  readonly maxInvalidRequests?: number
  /**
   * Responder streams per peer over all its connections and over all peers (SYNC-14); default
   * {@link SYNC_MAX_PEER_STREAMS}, {@link SYNC_MAX_TOTAL_STREAMS}.
   */
  readonly streamCaps?: Partial<StreamCaps>
  /** Called for every inbound stream refused at a cap or the budget, or cut for an overrun (metrics, bans). */
  readonly onStreamRefused?: StreamRefusedHandler
  /** Called for every failed session (both roles). */
  readonly onReport?: (report: SyncPeerReport) => void
  /** Metrics (default: a private registry). */
  readonly metrics?: SyncMetrics
  /** Parent logger. */
  readonly logger?: Logger
  /** Clock, ms since the epoch. */
  readonly now?: () => number
}

/** Outcome of syncing one article. */
export interface SyncResult {
  /** The article. */
  readonly article: string
  /** Peers whose session completed. */
  readonly peers: string[]
  /** Bids received over all sessions (failed ones included). */
  readonly received: number
  /** Bids the book accepted (also those of a session that failed later: each was validated). */
  readonly accepted: number
  /** Bids the book ignored (expired in flight, duplicates, future-dated, book full). */
  readonly ignored: number
  /** Failed sessions: peer and code. */
  readonly failures: { peer: string; code: string }[]
  /** Snapshot outcome per match key: adopted, or the code why not. */
  readonly snapshots: Record<string, 'adopted' | string>
  /** Bytes read on the sync streams (framing included). */
  readonly bytesRead: number
  /** Bytes written on the sync streams (framing included). */
  readonly bytesWritten: number
}

/** Rounds of snapshot requests per key while enough peers answer but do not agree (an epoch straddled). */
const SNAPSHOT_ATTEMPTS = 3

/** Peers asked per chain check (SYNC-15): enough that a minority on a wrong chain is outvoted. */
export const CHAIN_CHECK_PEERS = 5

/** Clock samples with a longer round trip are dropped (SYNC-16): their error is up to half of it. */
export const MAX_TIME_RTT_MS = 1000

/** Longest chain-check interval, as a multiple of `chainCheckMs`, while the node stays on the chain. */
export const CHAIN_CHECK_MAX_FACTOR = 8

/** Peers' clocks are sampled at a chain check at most this often, ms (SYNC-16). */
export const CLOCK_SAMPLE_MS = 30_000
/**
 * A sampling with fewer answers than this (a node that had just 2 peers at its first check) is
 * repeated at the next chain check instead of after {@link CLOCK_SAMPLE_MS} (SYNC-16): the
 * network clock needs 3 peers (MARKET-18).
 */
export const CLOCK_MIN_SAMPLES = 3

/** How soon a chain check runs after a sign of disagreement, ms (SYNC-15). */
export const CHAIN_CHECK_SOON_MS = 1000

/** Default interval of chain checks, ms (SYNC-15). */
export const DEFAULT_CHAIN_CHECK_MS = 4000

/** Outcomes of a chain check of one key besides `adopted` and the sync codes (SYNC-15). */
export const ChainCheck = {
  /** The agreed snapshot equals this node's state: epoch, digest and resting bids. */
  ON_CHAIN: 'on-chain',
  /** The peers' snapshot is of another epoch than this node's last matched one: asked again later. */
  OTHER_EPOCH: 'other-epoch'
} as const

/**
 * SYNC: late joiners pull the live book (protocol/spec/sync.md). Responds on
 * {@link SYNC_PROTOCOL} with stream caps, a request rate and an invalid-request budget per
 * peer; pulls each followed article from a few peers on start, on the first connections and on
 * {@link syncNow}; optionally adopts an agreed matching snapshot.
 */
export class SyncService {
  private readonly limits: SyncLimits
  private readonly now: () => number
  private readonly log: Logger
  private readonly metrics: SyncMetrics
  private readonly rate: PeerRateLimiter
  private readonly invalid: InvalidRequestBudget
  private readonly caps: InboundStreamCaps
  private readonly peersPerSync: number
  private controller: AbortController | undefined
  private readonly streams = new Set<Stream>()
  private readonly autoPeers = new Set<string>()
  private readonly adopted = new Set<string>()
  private readonly pending = new Set<Promise<unknown>>()
  private chainTimer: ReturnType<typeof setTimeout> | undefined
  private chainDueMs = 0
  private chainRunning = false
  private chainFactor = 1
  private clockSampledMs = Number.NEGATIVE_INFINITY
  /** Samples the last sampling got: fewer than {@link CLOCK_MIN_SAMPLES} and the next check samples again. */
  private clockSamples = 0
  /** Tail of the queue of syncs per article: syncs of one article run one after another. */
  private readonly locks = new Map<string, Promise<unknown>>()
  // SYNC-13: a peer is synced automatically once identify shows it serves the sync protocol, so a
  // light client (a buyer that serves no sync) costs no session, no SYNC_UNREACHABLE and no slot.
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    if (!evt.detail.protocols.includes(SYNC_PROTOCOL)) return
    this.autoSyncWith(evt.detail.peerId.toString())
    // SYNC-15: a (re)connected peer may bring the other side of a partition
    this.checkChainsSoon()
  }

  constructor(private readonly opts: SyncServiceOptions) {
    this.limits = resolveSyncLimits(opts.limits)
    this.now = opts.now ?? Date.now
    this.log = (opts.logger ?? silentLogger()).child({ module: 'sync' })
    this.metrics = opts.metrics ?? createSyncMetrics()
    // SYNC-10: a joiner sends 2-3 requests per article and peer (plus one per 1024 missing ids);
    // a burst of 256 serves a joiner of ~80 articles at once, 50/s stops a peer that loops on us
    this.rate = new PeerRateLimiter(
      { ratePerSec: 50, burst: 256, rejectAfter: 256, ...opts.rateLimit },
      this.now
    )
    this.invalid = new InvalidRequestBudget(opts.maxInvalidRequests ?? 3, undefined, { now: this.now })
    this.caps = new InboundStreamCaps({
      perPeer: opts.streamCaps?.perPeer ?? SYNC_MAX_PEER_STREAMS,
      total: opts.streamCaps?.total ?? SYNC_MAX_TOTAL_STREAMS
    })
    this.peersPerSync = opts.peersPerSync ?? 3
  }

  /** True between start and stop. */
  get running(): boolean {
    return this.controller !== undefined
  }

  /** Registers the protocol handler and, with `autoSync`, syncs with the peers already connected. */
  async start(): Promise<void> {
    if (this.controller !== undefined) return
    this.controller = new AbortController()
    // every inbound stream (at most the protocol cap) and outbound session waits on the stop
    // signal at a few places at once: not a leak
    setMaxListeners(4 * this.caps.caps.total + 64, this.controller.signal)
    this.autoPeers.clear()
    await this.opts.libp2p.handle(
      SYNC_PROTOCOL,
      (stream, connection) => this.serve(stream, connection.remotePeer.toString()),
      {
        maxInboundStreams: SYNC_MAX_INBOUND_STREAMS,
        maxOutboundStreams: SYNC_MAX_OUTBOUND_STREAMS
      }
    )
    if (this.opts.autoSync !== false) {
      this.opts.libp2p.addEventListener('peer:identify', this.onIdentify)
      this.track(this.autoSyncConnected())
    }
    this.scheduleChainCheck()
  }

  /** Unregisters the handler, aborts every session and waits for automatic syncs to end. Idempotent. */
  async stop(): Promise<void> {
    const c = this.controller
    if (c === undefined) return
    this.controller = undefined
    if (this.chainTimer !== undefined) clearTimeout(this.chainTimer)
    this.chainTimer = undefined
    this.opts.libp2p.removeEventListener('peer:identify', this.onIdentify)
    c.abort(new BitwrkError(SyncCode.STOPPED, 'sync service stopped'))
    for (const s of this.streams) s.abort(new Error('sync service stopped'))
    this.streams.clear()
    await Promise.allSettled([...this.pending])
    await this.opts.libp2p.unhandle(SYNC_PROTOCOL).catch(() => {})
  }

  /**
   * Pulls `article` from up to `peersPerSync` connected peers (or the given `peers`), in turn,
   * then (with snapshots) asks them all for the matching snapshot and adopts an agreed one.
   * Throws `SYNC_NO_PEERS` when no peer is connected, `SYNC_STOPPED` when not running.
   */
  async syncNow(
    article: string,
    options: { signal?: AbortSignal; peers?: string[] } = {}
  ): Promise<SyncResult> {
    // one sync of an article at a time: a second one (e.g. the next peer that connected) then
    // finds equal digests for what the first one fetched instead of pulling it again
    const prev = this.locks.get(article) ?? Promise.resolve()
    const run = prev.then(() => this.syncArticle(article, options))
    const tail = run.catch(() => {})
    this.locks.set(article, tail)
    try {
      return await run
    } finally {
      if (this.locks.get(article) === tail) this.locks.delete(article)
    }
  }

  private async syncArticle(
    article: string,
    options: { signal?: AbortSignal; peers?: string[] }
  ): Promise<SyncResult> {
    const c = this.controller
    if (c === undefined) throw new BitwrkError(SyncCode.STOPPED, 'sync service is not running')
    const candidates = options.peers ?? connectedPeers(this.opts.libp2p).map(String)
    if (candidates.length === 0) throw new BitwrkError(SyncCode.NO_PEERS, 'no connected peer to sync with')
    const signal = options.signal === undefined ? c.signal : AbortSignal.any([c.signal, options.signal])
    const result = {
      article,
      peers: [] as string[],
      received: 0,
      accepted: 0,
      ignored: 0,
      failures: [] as { peer: string; code: string }[],
      snapshots: {} as Record<string, string>,
      bytesRead: 0,
      bytesWritten: 0
    }
    for (const peer of candidates) {
      if (result.peers.length >= this.peersPerSync || signal.aborted) break
      try {
        const stats: PullStats = { bucketsDiffering: 0, bidsReceived: 0, accepted: 0, ignored: 0 }
        try {
          await this.session(peer, signal, result, (ch) =>
            pullArticle(ch, article, { book: this.opts.book, limits: this.limits, now: this.now }, stats)
          )
        } finally {
          result.received += stats.bidsReceived
          result.accepted += stats.accepted
          result.ignored += stats.ignored
          this.metrics.bids.inc({ result: 'accept' }, stats.accepted)
          this.metrics.bids.inc({ result: 'ignore' }, stats.ignored)
        }
        result.peers.push(peer)
      } catch (err) {
        result.failures.push({ peer, code: toSyncError(err).code })
      }
    }
    if (this.opts.snapshots !== undefined && result.peers.length > 0)
      result.snapshots = await this.syncSnapshots(article, result.peers, signal, result)
    this.log.debug({ article, peers: result.peers.length, accepted: result.accepted }, 'article synced')
    return result
  }

  /**
   * Fetches snapshots of every key of `article` from `peers` at once and adopts agreed ones; asks
   * up to {@link SNAPSHOT_ATTEMPTS} times while enough peers answer but disagree.
   */
  private async syncSnapshots(
    article: string,
    peers: string[],
    signal: AbortSignal,
    result: { bytesRead: number; bytesWritten: number; failures: { peer: string; code: string }[] },
    check = false
  ): Promise<Record<string, string>> {
    const snaps = this.opts.snapshots
    const out: Record<string, string> = {}
    if (snaps === undefined) return out
    const quorum = this.opts.snapshotQuorum ?? 2
    for (const key of snaps.keys(article)) {
      // adopted once: from then on the node's own matching carries the chain forward, and only a
      // chain check (SYNC-15) adopts again
      if (this.adopted.has(key) && !check) continue
      if (peers.length < quorum) {
        out[key] = SyncCode.NO_AGREEMENT
        continue
      }
      // Peers close epochs on their own timers: asked near a boundary (or while one is slow),
      // one may offer epoch e and another e + 1. Then ask again, away from the next boundary.
      let chosen: PeerSnapshot | undefined
      for (let attempt = 1; attempt <= SNAPSHOT_ATTEMPTS && chosen === undefined; attempt++) {
        await sleep(snapshotDelayMs(this.now(), this.opts.epochParams ?? DEFAULT_EPOCH_PARAMS), signal)
        const offers: PeerSnapshot[] = []
        await Promise.all(
          peers.map(async (peer) => {
            try {
              await this.session(peer, signal, result, async (ch) => {
                const o = await pullSnapshot(ch, article, key, snaps, {
                  book: this.opts.book,
                  limits: this.limits,
                  now: this.now
                })
                if (o !== undefined) offers.push(o)
              })
            } catch (err) {
              result.failures.push({ peer, code: toSyncError(err).code })
            }
          })
        )
        chosen = chooseSnapshot(offers, quorum)
        // fewer offers than the quorum: asking again would not help
        if (offers.length < quorum) break
      }
      if (chosen === undefined) {
        out[key] = SyncCode.NO_AGREEMENT
        continue
      }
      if (check) {
        // SYNC-15: the same epoch, digest and resting set is on the chain; a book that matched
        // other epochs is compared later (one behind would lose its own matches of the epochs it
        // skips, one ahead would go back)
        const mine = snaps.snapshot(key)
        if (mine?.closedEpoch !== chosen.closedEpoch) {
          out[key] = ChainCheck.OTHER_EPOCH
          continue
        }
        if (
          mine.digest === chosen.digest &&
          sameIds(
            mine.resting.map((m) => m.id),
            chosen.resting
          )
        ) {
          out[key] = ChainCheck.ON_CHAIN
          continue
        }
        this.metrics.offChain.inc()
        this.log.warn(
          { key, epoch: chosen.closedEpoch, ours: mine.digest, theirs: chosen.digest },
          'off the network chain: adopting its matching state'
        )
        this.opts.onOffChain?.({ key, epoch: chosen.closedEpoch, ours: mine.digest, theirs: chosen.digest })
      }
      const snapshot = buildSnapshot(chosen, snaps)
      try {
        if (snapshot === undefined) throw new BitwrkError(SyncCode.BAD_SNAPSHOT, 'a resting bid is missing')
        snaps.adopt(snapshot, check)
        this.adopted.add(key)
        out[key] = 'adopted'
      } catch (err) {
        out[key] = isBitwrkError(err) ? err.code : SyncCode.BAD_SNAPSHOT
      }
      this.metrics.snapshots.inc({ outcome: out[key] === 'adopted' ? 'adopted' : 'refused' })
    }
    return out
  }

  /** Opens a stream to `peer`, runs `fn` on it, reports failures; throws the sync error. */
  private async session(
    peer: string,
    outer: AbortSignal,
    acc: { bytesRead: number; bytesWritten: number },
    fn: (ch: SyncChannel) => Promise<unknown>
  ): Promise<void> {
    const signal = AbortSignal.any([outer, AbortSignal.timeout(this.limits.sessionTimeoutMs)])
    let stream: Stream
    try {
      stream = await this.opts.libp2p.dialProtocol(peerIdFromString(peer), SYNC_PROTOCOL, { signal })
    } catch (err) {
      const code = signal.aborted ? SyncCode.ABORTED : SyncCode.UNREACHABLE
      this.fail('requester', peer, new BitwrkError(code, 'cannot open sync stream', { cause: String(err) }))
      throw new BitwrkError(code, 'cannot open sync stream')
    }
    this.streams.add(stream)
    const ch = new SyncChannel(stream, this.limits, signal)
    try {
      await fn(ch)
      await ch.close()
      this.metrics.sessions.inc({ role: 'requester', outcome: 'ok' })
    } catch (e) {
      const err = toSyncError(e)
      ch.abort(err)
      this.fail('requester', peer, err)
      throw err
    } finally {
      this.streams.delete(stream)
      acc.bytesRead += ch.bytesRead
      acc.bytesWritten += ch.bytesWritten
      this.metrics.bytes.inc({ direction: 'in' }, ch.bytesRead)
      this.metrics.bytes.inc({ direction: 'out' }, ch.bytesWritten)
    }
  }

  /** Responder: serves one inbound stream within the session deadline. */
  private async serve(stream: Stream, peer: string): Promise<void> {
    const c = this.controller
    const refuse = (reason: StreamGuardReason, err: BitwrkError): void => {
      this.opts.onStreamRefused?.(reason, peer)
      this.log.debug({ code: err.code, reason }, 'sync stream refused')
      stream.abort(err)
    }
    if (c === undefined) return stream.abort(new BitwrkError(SyncCode.STOPPED, 'sync service stopped'))
    // SYNC-10: a peer over its invalid-request budget is not served any more
    if (this.invalid.count(peer) >= this.invalid.maxInvalid)
      return refuse('budget', new BitwrkError(SyncCode.RATE_LIMITED, 'peer over its invalid-request budget'))
    // SYNC-14: streams per peer (over all its connections) and over all peers
    const slot = this.caps.take(peer)
    if (typeof slot === 'string')
      return refuse(
        capReason(slot),
        new BitwrkError(SyncCode.STREAM_LIMIT, 'too many sync streams', { scope: slot })
      )
    this.streams.add(stream)
    // the session deadline, cleared at the end: a timer per stream that lives no longer than it
    const session = new AbortController()
    const stop = (): void => session.abort(c.signal.reason)
    c.signal.addEventListener('abort', stop, { once: true })
    const deadline = setTimeout(
      () => session.abort(new BitwrkError(SyncCode.ABORTED, 'session deadline passed')),
      this.limits.sessionTimeoutMs
    )
    const signal = session.signal
    // SYNC-14: a requester sends one request and waits for its answer; nothing else is buffered
    const ch = new SyncChannel(stream, this.limits, signal, {
      maxUnreadBytes: MAX_VARINT_BYTES + this.limits.maxRequestBytes,
      onOverrun: () => this.opts.onStreamRefused?.('overrun', peer)
    })
    try {
      const r = await serveSession(ch, {
        book: this.opts.book,
        snapshots: this.opts.snapshots,
        limits: this.limits,
        now: this.now,
        hostNow: this.opts.hostNow ?? this.now,
        admit: () => this.rate.take(peer) === 'ok'
      })
      if (r.code === undefined) this.metrics.sessions.inc({ role: 'responder', outcome: 'ok' })
      else {
        const err = new BitwrkError(r.code, 'sync request failed')
        if (SYNC_MISBEHAVIOUR_CODES.has(err.code as never) || r.code === SyncCode.RATE_LIMITED)
          this.invalid.charge(peer)
        this.fail('responder', peer, err)
        // the read side too: nothing the peer sends after a failed session is read or kept
        ch.abort(err)
      }
    } finally {
      clearTimeout(deadline)
      c.signal.removeEventListener('abort', stop)
      slot()
      this.streams.delete(stream)
      this.metrics.bytes.inc({ direction: 'in' }, ch.bytesRead)
      this.metrics.bytes.inc({ direction: 'out' }, ch.bytesWritten)
    }
  }

  private fail(role: 'requester' | 'responder', peer: string, err: BitwrkError): void {
    const misbehaviour = SYNC_MISBEHAVIOUR_CODES.has(err.code as never)
    // a code, sanitised: a label can never carry peer data
    this.metrics.sessions.inc({ role, outcome: codeLabel(err.code) })
    this.log.debug({ role, code: err.code, misbehaviour }, 'sync session failed')
    this.opts.onReport?.({ peer, role, code: err.code, misbehaviour, details: err.details })
  }

  /** Arms the next chain check (SYNC-15) `delayMs` from now (default `chainCheckMs` ± 25 %). */
  private scheduleChainCheck(delayMs?: number): void {
    const every = this.opts.chainCheckMs ?? DEFAULT_CHAIN_CHECK_MS
    if (every <= 0 || this.controller === undefined || this.opts.snapshots?.digestAt === undefined) return
    if (this.chainTimer !== undefined) clearTimeout(this.chainTimer)
    const ms = delayMs ?? every * this.chainFactor * (0.75 + Math.random() / 2)
    this.chainDueMs = performance.now() + ms
    this.chainTimer = setTimeout(() => {
      this.chainTimer = undefined
      this.chainRunning = true
      const run = this.checkChains()
        .then((out) => {
          // on the chain everywhere: check less often; anything else: back to the base interval
          const calm = Object.values(out).every((o) => o === ChainCheck.ON_CHAIN)
          this.chainFactor = calm ? Math.min(CHAIN_CHECK_MAX_FACTOR, this.chainFactor * 2) : 1
        })
        .finally(() => {
          this.chainRunning = false
          this.scheduleChainCheck()
        })
      this.track(run)
    }, ms)
    this.chainTimer.unref?.()
  }

  /**
   * Brings the next chain check forward to within {@link CHAIN_CHECK_SOON_MS} (SYNC-15): a peer
   * (re)connected, or a transaction message named a match this node did not make. A check that
   * runs or is due sooner already covers it.
   */
  checkChainsSoon(): void {
    this.chainFactor = 1
    if (this.chainRunning || this.chainTimer === undefined) return
    if (this.chainDueMs - performance.now() <= CHAIN_CHECK_SOON_MS) return
    this.scheduleChainCheck(CHAIN_CHECK_SOON_MS)
  }

  /**
   * One chain check (SYNC-15): for every followed article, asks up to {@link CHAIN_CHECK_PEERS}
   * random connected peers that serve sync for their snapshots, and adopts an agreed one whose
   * digest differs from this node's at the same epoch.
   */
  async checkChains(): Promise<Record<string, string>> {
    const c = this.controller
    const out: Record<string, string> = {}
    if (c === undefined) return out
    const peers = shuffle(await this.servingPeers()).slice(0, CHAIN_CHECK_PEERS)
    if (peers.length < (this.opts.snapshotQuorum ?? 2)) return out
    const signal = AbortSignal.any([c.signal, AbortSignal.timeout(this.limits.sessionTimeoutMs)])
    // SYNC-16: clocks change slowly; a fresh node samples at its first check
    const due = performance.now() - this.clockSampledMs >= (this.opts.clockSampleMs ?? CLOCK_SAMPLE_MS)
    if (due || this.clockSamples < CLOCK_MIN_SAMPLES) {
      this.clockSampledMs = performance.now()
      this.clockSamples = await this.sampleClocks(peers, signal)
    }
    for (const article of this.opts.book.articles()) {
      const acc = { bytesRead: 0, bytesWritten: 0, failures: [] as { peer: string; code: string }[] }
      try {
        Object.assign(out, await this.syncSnapshots(article, peers, signal, acc, true))
      } catch (err) {
        this.log.debug({ article, code: toSyncError(err).code }, 'chain check failed')
      }
    }
    return out
  }

  /** Connected peers that identify showed serving the sync protocol (SYNC-13), base58 ids. */
  private async servingPeers(): Promise<string[]> {
    const serving: string[] = []
    for (const id of connectedPeers(this.opts.libp2p)) {
      const p = await this.opts.libp2p.peerStore.get(id).catch(() => undefined)
      if (p?.protocols.includes(SYNC_PROTOCOL) === true) serving.push(id.toString())
    }
    return serving
  }

  /** One TIME_REQ session with each of `peers` (SYNC-16), when someone wants the samples; the samples taken. */
  private async sampleClocks(peers: readonly string[], signal: AbortSignal): Promise<number> {
    const onTime = this.opts.onTimeSample
    if (onTime === undefined) return Number.POSITIVE_INFINITY
    const acc = { bytesRead: 0, bytesWritten: 0 }
    let samples = 0
    await Promise.all(
      peers.map(async (peer) => {
        try {
          await this.session(peer, signal, acc, async (ch) => {
            const t = await pullTime(ch, this.opts.hostNow ?? this.now)
            if (t.rttMs > MAX_TIME_RTT_MS) return
            samples++
            onTime(peer, t)
          })
        } catch {
          // reported by session(); a peer without an answer gives no sample
        }
      })
    )
    return samples
  }

  /** Automatic sync on start with the peers already connected that serve sync (SYNC-13). */
  private async autoSyncConnected(): Promise<void> {
    // a peer not yet identified is synced by onIdentify when identify ends
    const serving = await this.servingPeers()
    // onIdentify may have taken some of them (or slots) meanwhile
    const fresh = serving
      .filter((p) => !this.autoPeers.has(p))
      .slice(0, this.peersPerSync - this.autoPeers.size)
    if (fresh.length > 0) await this.autoSync(fresh)
  }

  /** Automatic sync with one newly connected peer, while fewer than `peersPerSync` were used. */
  private autoSyncWith(peer: string): void {
    if (this.controller === undefined || this.autoPeers.size >= this.peersPerSync || this.autoPeers.has(peer))
      return
    this.track(this.autoSync([peer]))
  }

  /** Syncs every followed article with `peers` under the auto-sync deadline. */
  private async autoSync(peers: string[]): Promise<void> {
    for (const p of peers) this.autoPeers.add(p)
    const signal = AbortSignal.timeout(this.opts.autoSyncDeadlineMs ?? 30_000)
    const queue = [...this.opts.book.articles()]
    // articles are independent: sync up to the outbound stream cap of them at once
    const worker = async (): Promise<void> => {
      for (let article = queue.shift(); article !== undefined && this.running; article = queue.shift()) {
        try {
          const r = await this.syncNow(article, { signal, peers })
          // a failed peer may be replaced by the next connection
          for (const f of r.failures) if (!r.peers.includes(f.peer)) this.autoPeers.delete(f.peer)
          // peers that connect one by one: once a quorum was synced with, ask all of them
          if (this.opts.snapshots !== undefined && peers.length < this.autoPeers.size)
            await this.syncSnapshots(article, [...this.autoPeers], signal, {
              bytesRead: 0,
              bytesWritten: 0,
              failures: []
            })
        } catch (err) {
          this.log.debug({ article, code: toSyncError(err).code }, 'automatic sync failed')
        }
      }
    }
    await Promise.all(Array.from({ length: SYNC_PARALLEL_ARTICLES }, worker))
  }

  private track(p: Promise<unknown>): void {
    const q = p.catch(() => {}).finally(() => this.pending.delete(q))
    this.pending.add(q)
  }

  /** Number of sync streams open now, both roles (tests and benchmarks wait for 0). */
  get openStreams(): number {
    return this.streams.size
  }

  /** Responder streams being served now (of `peer` only, when given). */
  servedStreams(peer?: string): number {
    return this.caps.count(peer)
  }
}

/** True when `ids` (any order) are exactly `sorted` (ascending). */
function sameIds(ids: readonly string[], sorted: readonly string[]): boolean {
  if (ids.length !== sorted.length) return false
  const a = [...ids].sort()
  return a.every((id, i) => id === sorted[i])
}

/**
 * The connected peers' ids, from the connections (which hold them already): `getPeers()` parses
 * each peer id from its string again, decompressing its secp256k1 key in pure JS (profiled: 2 %
 * of a node's CPU in the 50-node testnet, from the chain checks alone).
 */
function connectedPeers(libp2p: SyncLibp2p): PeerId[] {
  const seen = new Map<string, PeerId>()
  for (const c of libp2p.getConnections()) seen.set(c.remotePeer.toString(), c.remotePeer)
  return [...seen.values()]
}

/** A shuffled copy of `xs` (Fisher–Yates). */
function shuffle<T>(xs: readonly T[]): T[] {
  const a = [...xs]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = a[i] as T
    a[i] = a[j] as T
    a[j] = t
  }
  return a
}

/** Waits `ms` (or until `signal` fires; then throws its reason as `SYNC_ABORTED`). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(t)
      reject(new BitwrkError(SyncCode.ABORTED, 'aborted'))
    }
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
