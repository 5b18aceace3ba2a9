/**
 * The host's view of its place on the network (protocol/spec/network.md): reachability (NET-9),
 * the DHT mode that follows it (NET-11), relay reservations (NET-15) and the warning of a private
 * node without a relay (NET-16), sampled for status, the API and `/metrics`.
 */
import type { Connection, Libp2p } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'
import { isCircuit, scopeOf } from './addresses.js'
import { type AddressRecord, type Reachability, reachabilityOf } from './reachability.js'
import { reservationRelays } from './relay.js'

/** Whether a connection runs through a circuit relay (NET-17) or directly. */
export type ConnectionKind = 'direct' | 'relayed'

/**
 * The kind of `conn`: relayed when libp2p marks it limited (a relay's data and duration limits
 * apply) or its remote address goes through `/p2p-circuit`.
 */
export function connectionKind(conn: Pick<Connection, 'limits' | 'remoteAddr'>): ConnectionKind {
  return conn.limits !== undefined || isCircuit(conn.remoteAddr) ? 'relayed' : 'direct'
}

/** The network part of the node's status (`/api/v1/status`, `/api/v1/identity`, the dashboard). */
export interface NetworkStatus {
  /** NET-9. Loopback-only nodes report `private`. */
  readonly reachability: Reachability
  /** Whether this node grants relay reservations now (NET-12). */
  readonly relayServer: boolean
  /** Relays this node holds reservations on (base58 peer ids; NET-15). */
  readonly relayReservations: readonly string[]
  /** Open connections by kind. */
  readonly connections: { readonly direct: number; readonly relayed: number }
  /** NET-16: set (`NO_RELAY`) while a private node that wants reservations holds none. */
  readonly warning: 'NO_RELAY' | null
}

/**
 * How long a private node looks for relays before it warns that it has none, ms: a reservation
 * needs a bootstrap dial (10 s deadline) and identify, or a DHT walk.
 */
export const NO_RELAY_GRACE_MS = 30_000

/** How often the watch re-evaluates, ms, besides on address and connection events. */
const CHECK_INTERVAL_MS = 5_000

/** What {@link NetworkWatch} needs. */
export interface NetworkWatchOptions {
  readonly libp2p: Libp2p
  /** The DHT whose mode follows reachability; undefined for loopback-only hosts (always server). */
  readonly dht?: KadDHT
  /** The address book (reachability.ts `libp2pAddressBook`). */
  readonly addressBook: () => AddressRecord[]
  /** The node's own transport addresses, circuit ones included. */
  readonly ownAddrs: () => Multiaddr[]
  /** Internet machinery on (AutoNAT, relays); false for loopback hosts. */
  readonly internet: boolean
  /** Reservations the node wants when private (0: none). */
  readonly wantedReservations: number
  /** NET-12: the relay server is configured: forced on (`true`), or automatic (`'auto'`: when public). */
  readonly relayServer: boolean | 'auto'
  /** How long before a private node without a relay warns, ms; default {@link NO_RELAY_GRACE_MS}. */
  readonly noRelayGraceMs?: number
  readonly log: Logger
  readonly metrics: NodeMetrics
  readonly now: () => number
}

/** Watches reachability and relays; start()/stop() with the host. */
export class NetworkWatch {
  private timer: ReturnType<typeof setInterval> | undefined
  private readonly startedMs: number
  private warned = false
  private lastReachability: Reachability | undefined
  private dhtMode: 'client' | 'server' = 'server'
  private readonly onEvent = (): void => this.check()

  constructor(private readonly opts: NetworkWatchOptions) {
    this.startedMs = opts.now()
  }

  /** Samples the metrics from this watch and re-evaluates on address and connection changes. */
  start(): void {
    this.opts.metrics.setNetworkSource(() => {
      const s = this.status()
      return { reachability: s.reachability, ...s.connections, reservations: s.relayReservations.length }
    })
    if (!this.opts.internet) return
    for (const e of ['self:peer:update', 'connection:open', 'connection:close'] as const)
      this.opts.libp2p.addEventListener(e, this.onEvent)
    this.timer = setInterval(this.onEvent, CHECK_INTERVAL_MS)
    this.timer.unref?.()
    this.check()
  }

  /** Stops listening. Idempotent. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    for (const e of ['self:peer:update', 'connection:open', 'connection:close'] as const)
      this.opts.libp2p.removeEventListener(e, this.onEvent)
  }

  /** NET-9 now. */
  reachability(): Reachability {
    if (!this.opts.internet) return 'private'
    return reachabilityOf(this.opts.addressBook(), this.opts.now())
  }

  /** Relays holding a reservation for us. */
  relayReservations(): string[] {
    return this.opts.internet ? reservationRelays(this.opts.ownAddrs()) : []
  }

  /** NET-12: reservations are granted now. */
  relayServing(): boolean {
    if (!this.opts.internet || this.opts.relayServer === false) return false
    return this.opts.relayServer === true || this.reachability() === 'public'
  }

  /** The DHT mode chosen by NET-11. */
  dhtModeNow(): 'client' | 'server' {
    return this.dhtMode
  }

  /** The whole network status. */
  status(): NetworkStatus {
    const reachability = this.reachability()
    const relayReservations = this.relayReservations()
    let direct = 0
    let relayed = 0
    for (const c of this.opts.libp2p.getConnections())
      if (connectionKind(c) === 'relayed') relayed++
      else direct++
    return {
      reachability,
      relayServer: this.relayServing(),
      relayReservations,
      connections: { direct, relayed },
      warning: this.noRelay(reachability, relayReservations.length) ? 'NO_RELAY' : null
    }
  }

  private noRelay(reachability: Reachability, reservations: number): boolean {
    return (
      this.opts.internet &&
      this.opts.wantedReservations > 0 &&
      reachability === 'private' &&
      reservations === 0 &&
      this.opts.now() - this.startedMs >= (this.opts.noRelayGraceMs ?? NO_RELAY_GRACE_MS)
    )
  }

  /** Re-evaluates: logs reachability changes, moves the DHT mode, warns once per relay loss. */
  private check(): void {
    const reachability = this.reachability()
    if (reachability !== this.lastReachability) {
      this.opts.log.info({ reachability }, 'reachability')
      this.lastReachability = reachability
    }
    // NET-11: a private node that is part of a network with public peers runs the DHT as a
    // client; everything else serves it (a LAN of private nodes has nobody else to serve it)
    const publicPeers = this.opts.libp2p
      .getConnections()
      .some((c) => connectionKind(c) === 'direct' && scopeOf(c.remoteAddr) === 'public')
    const mode = reachability === 'private' && publicPeers ? 'client' : 'server'
    if (mode !== this.dhtMode && this.opts.dht !== undefined) {
      this.dhtMode = mode
      this.opts.dht.setMode(mode).catch((err: unknown) => {
        this.opts.log.warn({ err: String(err), mode }, 'DHT mode change failed')
      })
    }
    const reservations = this.relayReservations().length
    if (this.noRelay(reachability, reservations)) {
      if (!this.warned)
        this.opts.log.warn(
          { code: 'NO_RELAY', wanted: this.opts.wantedReservations },
          'private node without a relay reservation: peers cannot reach it, it can still buy'
        )
      this.warned = true
    } else if (reservations > 0) this.warned = false
  }
}
