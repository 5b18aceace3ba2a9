/**
 * Direct connections for bulk data (DIRECT-6 … DIRECT-13, protocol/spec/network-direct.md).
 * When the only connection to a peer is relayed (libp2p 3 marks it limited: `conn.limits`), and
 * bulk data must move (trade work and result, chunk fetches), {@link DirectConnections} tries to
 * replace it with a direct one:
 *
 * 1. **Connection reversal** (when this node is public): over the relayed connection it asks the
 *    private peer on {@link REVERSE_PROTOCOL} to dial it back. The request is one byte, authenticated by
 *    the connection (Noise end to end through the relay): the private side dials only the
 *    requester's own public-scope TCP addresses from its peer store, never an address in the
 *    request, and only within its rate limits.
 * 2. **WebRTC** via the relay (`<relay>/p2p-circuit/webrtc/p2p/<peer>`): SDP over the relayed
 *    connection, ICE through the NATs with the STUN services of DIRECT-1.
 *
 * {@link DirectConnections.bulkConnection} applies the bulk-data policy (DIRECT-12): a direct
 * connection; else the relayed one only when its limits allow the transfer; else the error
 * `DIRECT_NO_PATH` with the reason, within the caller's deadline.
 */
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { Counter, type Registry } from 'prom-client'
import { BitwrkError } from '../../protocol/errors.js'
import { type Logger, silentLogger } from '../logger.js'
import { scopeOf } from './addresses.js'

/** The connection-reversal protocol (DIRECT-9). */
export const REVERSE_PROTOCOL = '/bitwrk/reverse/1.0.0'

/** The one request byte of {@link REVERSE_PROTOCOL}, version 1 (DIRECT-9). */
export const REVERSE_REQUEST = 0x01

/** Answer bytes of {@link REVERSE_PROTOCOL} (DIRECT-9). */
export const ReverseStatus = {
  /** A direct connection to the requester is open. */
  OK: 0x00,
  /** The requester has no public-scope TCP address in the answerer's peer store. */
  NO_ADDRESS: 0x01,
  /** Over the answerer's rate (per peer, or concurrent reversals). */
  RATE_LIMITED: 0x02,
  /** The answerer dialled the requester's addresses and none connected. */
  DIAL_FAILED: 0x03,
  /** The request came over a direct connection: there is nothing to reverse. */
  NOT_RELAYED: 0x04,
  /** The request was not exactly the byte {@link REVERSE_REQUEST}. */
  BAD_REQUEST: 0x05
} as const

/** Direct-connection error codes (`DIRECT_*`). */
export const DirectCode = {
  /**
   * No direct connection to the peer could be made and its relayed connection's limits do not
   * allow the transfer (`details.reason`: `no-direct-path` | `relay-limit`; `details.attempts`).
   */
  NO_PATH: 'DIRECT_NO_PATH',
  /** A reversal was refused or failed (`details.status`, the answer byte's name). */
  REVERSE_FAILED: 'DIRECT_REVERSE_FAILED'
} as const

/** Which method made (or failed to make) a direct connection (metric label). */
export type DirectMethod = 'webrtc' | 'reversal'

/** Limits and switches of the direct-connection manager. */
export interface DirectOptions {
  /** Whether WebRTC upgrades are attempted (the host has the WebRTC transport). */
  readonly webrtc: boolean
  /** Whether reversal is asked for (when this node has a public-scope address) and answered. */
  readonly reversal: boolean
  /**
   * Tests only: loopback addresses count as public scope, for the reversal protocol only
   * (DIRECT-10), so a reversal can be tested on 127.0.0.1. Never set by the daemon.
   */
  readonly loopbackIsPublicForReversal?: boolean
  /** Deadline of one upgrade attempt (each method), ms; default 10 s (TRADE-12's dial timeout). */
  readonly attemptTimeoutMs?: number
  /** Reversals answered per peer per window; default 1 per 30 s (DIRECT-11). */
  readonly reversePerPeerWindowMs?: number
  /** Reversal dials running at once; default 4 (DIRECT-11). */
  readonly maxConcurrentReversals?: number
  /** Peers remembered for the per-peer rate; default 1024 (DIRECT-11). */
  readonly maxReversePeers?: number
  /**
   * Bytes a relayed transfer must leave free beyond the declared bytes (the result of a trade,
   * unknown in advance); default 64 KiB (DIRECT-12).
   */
  readonly relayReserveBytes?: number
  /** Least duration a relayed connection must grant for a bulk transfer, s; default 30 (DIRECT-12). */
  readonly relayMinSeconds?: number
}

const DEFAULTS = {
  attemptTimeoutMs: 10_000,
  reversePerPeerWindowMs: 30_000,
  maxConcurrentReversals: 4,
  maxReversePeers: 1024,
  relayReserveBytes: 64 * 1024,
  relayMinSeconds: 30
}

/** How long the answerer waits for the request byte, ms (DIRECT-9). */
const REVERSE_READ_TIMEOUT_MS = 5_000

/** Addresses of the requester a reversal dials at most (DIRECT-10). */
const MAX_REVERSE_ADDRS = 4

/** The part of libp2p the manager uses. */
export type DirectLibp2p = Pick<
  Libp2p,
  | 'peerId'
  | 'getConnections'
  | 'dial'
  | 'dialProtocol'
  | 'handle'
  | 'unhandle'
  | 'peerStore'
  | 'getMultiaddrs'
>

/**
 * True for an address a peer on the internet can dial (DIRECT-10): public scope by the address
 * rules of NET-3 (`scopeOf`, node/host/addresses.ts; 198.18.0.0/15 counts as public, the
 * emulated internet's range). DNS names are not public scope here (a reversal never resolves a
 * peer-supplied name).
 */
export function isPublicScope(ma: Multiaddr): boolean {
  const ip = ma.getComponents()[0]?.name
  return (ip === 'ip4' || ip === 'ip6') && scopeOf(ma) === 'public'
}

/** IP/TCP addresses without a relay hop. */
function isDirectTcp(ma: Multiaddr): boolean {
  const cs = ma.getComponents()
  return (
    (cs[0]?.name === 'ip4' || cs[0]?.name === 'ip6') &&
    cs[1]?.name === 'tcp' &&
    !cs.some((c) => c.name === 'p2p-circuit')
  )
}

/** The `direct_upgrades` metric family, registered once per registry. */
function upgradesCounter(registry: Registry | undefined): Counter<'method' | 'result'> {
  const name = 'bitwrk_direct_upgrades_total'
  const existing = registry?.getSingleMetric(name)
  if (existing instanceof Counter) return existing as Counter<'method' | 'result'>
  return new Counter({
    name,
    help: 'Relayed connections replaced by direct ones (DIRECT-8), by method and result',
    labelNames: ['method', 'result'],
    registers: registry === undefined ? [] : [registry]
  })
}

/** One upgrade attempt's outcome, for the error details and logs. */
interface Attempt {
  method: DirectMethod
  ok: boolean
  why?: string
}

/** Options of one bulk-connection request. */
export interface BulkOptions {
  /** Aborts the upgrade attempts (the caller's deadline). */
  readonly signal?: AbortSignal
  /** Bytes the caller knows it will send (a relayed connection must grant them plus the reserve). */
  readonly bytes?: number
}

/**
 * The direct-connection manager: upgrades relayed connections (reversal, WebRTC), answers
 * reversal requests, and applies the bulk-data policy. `start()` registers the reversal
 * handler, `stop()` removes it and aborts running attempts (idempotent).
 */
export class DirectConnections {
  private readonly o: DirectOptions & typeof DEFAULTS
  private readonly upgrades: Counter<'method' | 'result'>
  private readonly inflight = new Map<
    string,
    { promise: Promise<Connection | undefined>; attempts: Attempt[] }
  >()
  private readonly lastReverse = new Map<string, number>()
  private reversalsRunning = 0
  private stopper = new AbortController()
  private started = false
  private readonly log: Logger
  private readonly now: () => number

  constructor(
    private readonly libp2p: DirectLibp2p,
    opts: DirectOptions,
    deps: { registry?: Registry; logger?: Logger; now?: () => number } = {}
  ) {
    this.o = { ...DEFAULTS, ...opts }
    this.upgrades = upgradesCounter(deps.registry)
    this.log = (deps.logger ?? silentLogger()).child({ module: 'direct' })
    this.now = deps.now ?? Date.now
  }

  /** Serves {@link REVERSE_PROTOCOL} (when `reversal` is on). */
  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    this.stopper = new AbortController()
    if (this.o.reversal)
      await this.libp2p.handle(REVERSE_PROTOCOL, (stream, conn) => this.answerReverse(stream, conn), {
        // the request comes over the relayed connection by design
        runOnLimitedConnection: true,
        maxInboundStreams: 1,
        maxOutboundStreams: 1
      })
  }

  /** Stops answering and aborts running attempts. Idempotent. */
  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    this.stopper.abort(
      new BitwrkError(DirectCode.NO_PATH, 'direct connections stopped', { reason: 'stopped' })
    )
    if (this.o.reversal) await this.libp2p.unhandle(REVERSE_PROTOCOL).catch(() => {})
    this.inflight.clear()
    this.lastReverse.clear()
  }

  /** An open connection to `peer` that is not limited (direct), if any. */
  directConnection(peer: PeerId): Connection | undefined {
    return this.libp2p.getConnections(peer).find((c) => c.status === 'open' && c.limits === undefined)
  }

  /**
   * Tries to replace the relayed connection to `peer` with a direct one (DIRECT-7): reversal
   * first when this node is public, then WebRTC. Resolves with the direct connection, or
   * undefined when every method failed or none applies; concurrent calls for one peer share one
   * attempt. Never throws for a failed attempt.
   */
  async upgrade(peer: PeerId, options: { signal?: AbortSignal } = {}): Promise<Connection | undefined> {
    return (await this.upgradeWithAttempts(peer, options)).conn
  }

  private async upgradeWithAttempts(
    peer: PeerId,
    options: { signal?: AbortSignal }
  ): Promise<{ conn?: Connection; attempts: Attempt[] }> {
    const direct = this.directConnection(peer)
    if (direct !== undefined) return { conn: direct, attempts: [] }
    const key = peer.toString()
    let run = this.inflight.get(key)
    if (run === undefined) {
      const attempts: Attempt[] = []
      const promise = this.runUpgrade(peer, attempts, options.signal).finally(() => this.inflight.delete(key))
      run = { promise, attempts }
      this.inflight.set(key, run)
    }
    const conn = await run.promise
    return conn === undefined ? { attempts: run.attempts } : { conn, attempts: run.attempts }
  }

  private async runUpgrade(
    peer: PeerId,
    attempts: Attempt[],
    signal?: AbortSignal
  ): Promise<Connection | undefined> {
    const relayed = this.libp2p
      .getConnections(peer)
      .find((c) => c.status === 'open' && c.limits !== undefined)
    if (relayed === undefined || !this.started) return undefined
    const methods: [DirectMethod, () => Promise<Connection>][] = []
    if (this.o.reversal && this.weArePublic())
      methods.push(['reversal', () => this.askReversal(peer, signal)])
    if (this.o.webrtc) methods.push(['webrtc', () => this.dialWebRTC(peer, relayed, signal)])
    for (const [method, run] of methods) {
      if (signal?.aborted === true || !this.started) break
      try {
        const conn = await run()
        attempts.push({ method, ok: true })
        this.upgrades.inc({ method, result: 'ok' })
        this.log.info({ peer: peer.toString(), method }, 'relayed connection upgraded to a direct one')
        return conn
      } catch (err) {
        attempts.push({ method, ok: false, why: err instanceof BitwrkError ? err.code : String(err) })
        this.upgrades.inc({ method, result: 'failed' })
        this.log.debug({ peer: peer.toString(), method, err: String(err) }, 'direct upgrade failed')
      }
    }
    return undefined
  }

  /**
   * The bulk-data policy (DIRECT-12): a direct connection to `peer` when one exists or an
   * upgrade makes one; else its relayed connection when the relay's limits grant `bytes` plus
   * the reserve and at least `relayMinSeconds`; else `DIRECT_NO_PATH` (`details.reason`
   * `relay-limit` when a relayed connection exists, `no-direct-path` when none does).
   * Resolves undefined when there is no connection to `peer` at all (the caller dials as usual).
   */
  async bulkConnection(peer: PeerId, options: BulkOptions = {}): Promise<Connection | undefined> {
    const open = this.libp2p.getConnections(peer).filter((c) => c.status === 'open')
    if (open.length === 0) return undefined
    const signal = AbortSignal.any([
      this.stopper.signal,
      ...(options.signal !== undefined ? [options.signal] : [])
    ])
    const { conn, attempts } = await this.upgradeWithAttempts(peer, { signal })
    if (conn !== undefined) return conn
    const relayed = this.libp2p
      .getConnections(peer)
      .find((c) => c.status === 'open' && c.limits !== undefined)
    const tried = attempts.map((a) => `${a.method}:${a.ok ? 'ok' : (a.why ?? 'failed')}`)
    if (relayed === undefined)
      throw new BitwrkError(DirectCode.NO_PATH, 'no connection to the peer', {
        reason: 'no-direct-path',
        attempts: tried
      })
    if (this.relayAllows(relayed, options.bytes ?? 0)) return relayed
    throw new BitwrkError(
      DirectCode.NO_PATH,
      'no direct path to the peer and the relay limits do not allow the transfer',
      {
        reason: 'relay-limit',
        attempts: tried,
        limitBytes: relayed.limits?.bytes?.toString(),
        limitSeconds: relayed.limits?.seconds
      }
    )
  }

  /** DIRECT-12: the relayed connection's granted limits cover `bytes` + reserve and the least duration. */
  relayAllows(conn: Connection, bytes: number): boolean {
    const l = conn.limits
    if (l === undefined) return true
    if (l.bytes !== undefined && l.bytes < BigInt(bytes + this.o.relayReserveBytes)) return false
    if (l.seconds !== undefined && l.seconds < this.o.relayMinSeconds) return false
    return true
  }

  /** True when this node listens on a public-scope TCP address (DIRECT-10) and may ask for reversal. */
  private weArePublic(): boolean {
    return this.libp2p.getMultiaddrs().some((ma) => isDirectTcp(ma) && this.reversalScope(ma))
  }

  private reversalScope(ma: Multiaddr): boolean {
    return isPublicScope(ma) || (this.o.loopbackIsPublicForReversal === true && scopeOf(ma) === 'loopback')
  }

  private attemptSignal(signal?: AbortSignal): AbortSignal {
    return AbortSignal.any([
      this.stopper.signal,
      AbortSignal.timeout(this.o.attemptTimeoutMs),
      ...(signal !== undefined ? [signal] : [])
    ])
  }

  /** WebRTC through the relay of the limited connection (DIRECT-6). */
  private async dialWebRTC(peer: PeerId, relayed: Connection, signal?: AbortSignal): Promise<Connection> {
    // `/ip4/…/tcp/…/p2p/<relay>/p2p-circuit/p2p/<peer>` → `…/p2p-circuit/webrtc/p2p/<peer>`
    const circuit = relayed.remoteAddr.getComponents()
    const at = circuit.findIndex((c) => c.name === 'p2p-circuit')
    if (at < 0)
      throw new BitwrkError(DirectCode.NO_PATH, 'the limited connection is not a relay circuit', {
        reason: 'no-direct-path'
      })
    const base = multiaddr(circuit.slice(0, at + 1))
    const target = base.encapsulate(`/webrtc/p2p/${peer.toString()}`)
    const conn = await this.libp2p.dial(target, { signal: this.attemptSignal(signal) })
    if (conn.limits !== undefined)
      throw new BitwrkError(DirectCode.NO_PATH, 'WebRTC connection is limited', { reason: 'no-direct-path' })
    return conn
  }

  /** Asks `peer` over the relay to dial us (DIRECT-9); resolves with the direct connection. */
  private async askReversal(peer: PeerId, signal?: AbortSignal): Promise<Connection> {
    const s = this.attemptSignal(signal)
    const stream = await this.libp2p.dialProtocol(peer, REVERSE_PROTOCOL, {
      signal: s,
      runOnLimitedConnection: true
    })
    try {
      stream.send(Uint8Array.of(REVERSE_REQUEST))
      await stream.close({ signal: s })
      const status = await readOneByte(stream, s)
      if (status !== ReverseStatus.OK)
        throw new BitwrkError(DirectCode.REVERSE_FAILED, 'reversal refused', { status: statusName(status) })
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
    const conn = this.directConnection(peer)
    if (conn === undefined)
      throw new BitwrkError(DirectCode.REVERSE_FAILED, 'no direct connection after the reversal', {
        status: 'OK'
      })
    return conn
  }

  /** Answers one reversal request (DIRECT-9 … DIRECT-11). */
  private async answerReverse(stream: Stream, conn: Connection): Promise<void> {
    const peer = conn.remotePeer
    const reply = async (status: number): Promise<void> => {
      try {
        stream.send(Uint8Array.of(status))
        await stream.close({ signal: AbortSignal.timeout(REVERSE_READ_TIMEOUT_MS) })
      } catch {
        stream.abort(new Error('reverse reply failed'))
      }
    }
    let req: number | undefined
    try {
      req = await readOneByte(
        stream,
        AbortSignal.any([this.stopper.signal, AbortSignal.timeout(REVERSE_READ_TIMEOUT_MS)]),
        true
      )
    } catch {
      req = undefined
    }
    if (req !== REVERSE_REQUEST) return reply(ReverseStatus.BAD_REQUEST)
    if (conn.limits === undefined) return reply(ReverseStatus.NOT_RELAYED)
    // DIRECT-11: one answer per peer per window, a bounded table, a few dials at once
    const now = this.now()
    const last = this.lastReverse.get(peer.toString())
    if (last !== undefined && now - last < this.o.reversePerPeerWindowMs)
      return reply(ReverseStatus.RATE_LIMITED)
    if (this.reversalsRunning >= this.o.maxConcurrentReversals) return reply(ReverseStatus.RATE_LIMITED)
    if (!this.rememberReverse(peer.toString(), now)) return reply(ReverseStatus.RATE_LIMITED)
    // DIRECT-10: the requester's own addresses (identify's signed record), public scope, TCP, no relay
    const info = await this.libp2p.peerStore.get(peer).catch(() => undefined)
    const addrs = (info?.addresses ?? [])
      .map((a) => a.multiaddr)
      .filter((ma) => isDirectTcp(ma) && this.reversalScope(ma))
      .slice(0, MAX_REVERSE_ADDRS)
      .map((ma) => ma.encapsulate(`/p2p/${peer.toString()}`))
    if (addrs.length === 0) return reply(ReverseStatus.NO_ADDRESS)
    this.reversalsRunning++
    try {
      const direct = await this.libp2p.dial(addrs, { signal: this.attemptSignal() })
      if (direct.limits !== undefined || !direct.remotePeer.equals(peer))
        return reply(ReverseStatus.DIAL_FAILED)
      this.upgrades.inc({ method: 'reversal', result: 'ok' })
      return reply(ReverseStatus.OK)
    } catch (err) {
      this.log.debug({ peer: peer.toString(), err: String(err) }, 'reversal dial failed')
      this.upgrades.inc({ method: 'reversal', result: 'failed' })
      return reply(ReverseStatus.DIAL_FAILED)
    } finally {
      this.reversalsRunning--
    }
  }

  /** Records a reversal answer time; false when the table is full of peers still inside their window. */
  private rememberReverse(peer: string, now: number): boolean {
    if (this.lastReverse.size >= this.o.maxReversePeers) {
      for (const [k, t] of this.lastReverse)
        if (now - t >= this.o.reversePerPeerWindowMs) this.lastReverse.delete(k)
      if (this.lastReverse.size >= this.o.maxReversePeers) return false
    }
    this.lastReverse.set(peer, now)
    return true
  }
}

/**
 * Reads exactly one byte from `stream`; with `exact`, more bytes are an error (DIRECT-9: the
 * request is one byte). Returns undefined when the stream ends first.
 */
async function readOneByte(stream: Stream, signal: AbortSignal, exact = false): Promise<number | undefined> {
  signal.throwIfAborted()
  const onAbort = (): void => stream.abort(new Error('timed out'))
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    let got: number | undefined
    for await (const chunk of stream) {
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray()
      if (bytes.byteLength === 0) continue
      if (got !== undefined || bytes.byteLength > 1) {
        if (exact)
          throw new BitwrkError(DirectCode.REVERSE_FAILED, 'request longer than one byte', {
            status: 'BAD_REQUEST'
          })
        return got ?? bytes[0]
      }
      got = bytes[0]
      if (!exact) return got
    }
    return got
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

function statusName(status: number | undefined): string {
  for (const [k, v] of Object.entries(ReverseStatus)) if (v === status) return k
  return status === undefined ? 'NO_ANSWER' : 'UNKNOWN'
}

/** The part of libp2p the chunk exchange uses (`cafs/adapters/libp2p`'s `ExchangeLibp2p`). */
export type ChunkLibp2p = Pick<Libp2p, 'peerId' | 'handle' | 'unhandle' | 'dialProtocol' | 'contentRouting'>

/**
 * The chunk exchange's view of `libp2p` with the bulk-data policy for chunk fetches
 * (DIRECT-13): before a chunk stream is opened to a peer reachable only through a relay, the
 * relayed connection is upgraded when it can be; chunk streams never opt in to a limited
 * connection, so without an upgrade the dial fails (`CHUNK_DIAL_FAILED`) and the fetch goes on
 * with other providers. CAFS stays free of this policy.
 */
export function withDirectChunkDials(
  libp2p: ChunkLibp2p,
  direct: DirectConnections | undefined
): ChunkLibp2p {
  if (direct === undefined) return libp2p
  return {
    peerId: libp2p.peerId,
    contentRouting: libp2p.contentRouting,
    handle: (protocol, handler, options) => libp2p.handle(protocol, handler, options),
    unhandle: (protocol, options) => libp2p.unhandle(protocol, options),
    dialProtocol: async (peer, protocols, options) => {
      if (!Array.isArray(peer) && !isMultiaddrLike(peer)) await direct.upgrade(peer as PeerId, options ?? {})
      return libp2p.dialProtocol(peer, protocols, options)
    }
  }
}

function isMultiaddrLike(x: unknown): boolean {
  return typeof x === 'object' && x !== null && 'getComponents' in x
}
