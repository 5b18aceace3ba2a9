/**
 * Circuit relay v2 (protocol/spec/network.md NET-12 … NET-17): the limits a bitwrk relay grants,
 * the gate that keeps banned, blocked and greedy peers out, and the client side's view of its
 * reservations. The relay is for control traffic (identify, the trade protocol's small
 * messages, WebRTC signalling) and small trades, never a free bulk pipe.
 */
import { setTimeout as delay } from 'node:timers/promises'
import type {
  CircuitRelayServerInit,
  CircuitRelayTransportComponents,
  CircuitRelayTransportInit
} from '@libp2p/circuit-relay-v2'
import type { AbortOptions, ConnectionGater, PeerId, PeerInfo, Transport } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { isCircuit, relayPeerOf } from './addresses.js'
import type { InternetModules } from './lazy-modules.js'
import { type StreamOpenBudget, TokenBucket } from './mux-guard.js'

/**
 * NET-13: reservations one relay holds at once. Each costs the relay a kept-alive connection and
 * little else; 32 private peers per public node is enough for a market whose public nodes are a
 * few percent of all nodes (the default of @libp2p/circuit-relay-v2 is 15).
 */
export const RELAY_MAX_RESERVATIONS = 32

/**
 * NET-13: bytes one relayed connection may carry (both directions together) before the relay
 * resets it. 1 MiB holds identify, a trade's control messages and a small work or result (the
 * demo's scenes are tens of KiB) and the SDP of a WebRTC upgrade many times over, while a
 * stranger can move at most 1 MiB per circuit through somebody else's uplink (libp2p's default:
 * 128 KiB, too small for a small trade).
 */
export const RELAY_DATA_LIMIT_BYTES = 1n << 20n

/**
 * NET-13: how long one relayed connection may stay open, ms: 2 minutes, libp2p's default, long
 * enough for a direct-connection upgrade and a small trade, short enough that a circuit is not a
 * standing tunnel.
 */
export const RELAY_DURATION_LIMIT_MS = 2 * 60 * 1000

/**
 * NET-13: how long a reservation lasts before the client must refresh it, ms: 1 hour (libp2p's
 * default is 2 h). Clients refresh 5 min before expiry, so a slot of a peer that went away is
 * free again within an hour.
 */
export const RELAY_RESERVATION_TTL_MS = 60 * 60 * 1000

/**
 * NET-14: circuits one source peer may open through the relay: 8 at once, then one every
 * 15 s. An honest buyer opens one circuit per seller it trades with and upgrades it to a direct
 * connection; a peer that wants more is using the relay as a pipe.
 */
export const RELAY_CIRCUITS_PER_PEER: StreamOpenBudget = { burst: 8, perSecond: 1 / 15 }

/** Peers whose circuit budget is remembered; the oldest is forgotten beyond this. */
const MAX_TRACKED_SOURCES = 1024

/** The relay server's settings (NET-13): {@link circuitRelayServer}'s `init`. */
export function relayServerInit(maxReservations = RELAY_MAX_RESERVATIONS): CircuitRelayServerInit {
  return {
    reservations: {
      maxReservations,
      reservationTtl: RELAY_RESERVATION_TTL_MS,
      applyDefaultLimit: true,
      defaultDataLimit: RELAY_DATA_LIMIT_BYTES,
      defaultDurationLimit: RELAY_DURATION_LIMIT_MS
    },
    // hop streams are one request each; 16 at once per connection is ample (libp2p: 32)
    maxInboundHopStreams: 16
  }
}

/** What {@link RelayGate} asks the host. */
export interface RelayGateOptions {
  /** Banned (GOSSIP-12) or blocked (`denyPeer`) peers: no reservation, no circuit either way. */
  readonly deny: (peerId: string) => boolean
  /** Whether the node serves reservations now (NET-12: public, or `--relay-server` forced on). */
  readonly serving: () => boolean
  /** Circuits per source peer; default {@link RELAY_CIRCUITS_PER_PEER}. */
  readonly circuitsPerPeer?: StreamOpenBudget
  /** Clock for the budgets, ms. */
  readonly now?: () => number
  /** Called with the reason of every refusal (for the metric). */
  readonly onRefused?: (reason: 'denied' | 'not_serving' | 'budget') => void
}

/**
 * The relay server's gate (NET-14): the `denyInboundRelayReservation` and
 * `denyOutboundRelayedConnection` hooks of the connection gater, which the relay server asks
 * before it grants a reservation or connects a circuit.
 */
export class RelayGate {
  private readonly budgets = new Map<string, TokenBucket>()

  constructor(private readonly opts: RelayGateOptions) {}

  /** True refuses `peer` a reservation. */
  denyReservation(peer: PeerId): boolean {
    if (this.opts.deny(peer.toString())) return this.refuse('denied')
    if (!this.opts.serving()) return this.refuse('not_serving')
    return false
  }

  /** True refuses a circuit from `source` to `destination` through this relay. */
  denyCircuit(source: PeerId, destination: PeerId): boolean {
    if (this.opts.deny(source.toString()) || this.opts.deny(destination.toString()))
      return this.refuse('denied')
    const key = source.toString()
    let bucket = this.budgets.get(key)
    if (bucket === undefined) {
      if (this.budgets.size >= MAX_TRACKED_SOURCES) {
        const oldest = this.budgets.keys().next().value
        if (oldest !== undefined) this.budgets.delete(oldest)
      }
      bucket = new TokenBucket(this.opts.circuitsPerPeer ?? RELAY_CIRCUITS_PER_PEER, this.opts.now)
      this.budgets.set(key, bucket)
    }
    return bucket.take() ? false : this.refuse('budget')
  }

  /** The hooks to merge into the host's connection gater. */
  gaterHooks(): Pick<ConnectionGater, 'denyInboundRelayReservation' | 'denyOutboundRelayedConnection'> {
    return {
      denyInboundRelayReservation: (peer) => this.denyReservation(peer),
      denyOutboundRelayedConnection: (source, destination) => this.denyCircuit(source, destination)
    }
  }

  private refuse(reason: 'denied' | 'not_serving' | 'budget'): true {
    this.opts.onRefused?.(reason)
    return true
  }
}

/**
 * The relays this node holds reservations on (base58 peer ids, sorted, unique): the relay part
 * of its own circuit listen addresses, which the circuit-relay transport adds when a
 * reservation is made and removes when it ends.
 */
export function reservationRelays(ownAddrs: readonly Multiaddr[]): string[] {
  const relays = new Set<string>()
  for (const ma of ownAddrs) {
    if (!isCircuit(ma)) continue
    const relay = relayPeerOf(ma)
    if (relay !== undefined) relays.add(relay)
  }
  return [...relays].sort()
}

/**
 * NET-15: the shortest gap between two peers the relay discovery takes from the DHT random walk,
 * ms. @libp2p/circuit-relay-v2 4.2 walks until it holds enough reservations and skips every peer
 * it is connected to already without a pause: with fewer reachable relays than wanted (a small
 * network, one relay for two wanted) two idle nodes spent more than a core on DHT queries
 * (measured: 6.9 s of CPU in 5 s). One peer every 5 s finds a relay in a network of hundreds
 * within minutes at the cost of one DHT query per 5 s; relays among the connected peers
 * (bootstrap first) are found at once, without the walk.
 */
export const RELAY_WALK_GAP_MS = 5_000

/** What the relay discovery reads of libp2p's random walk. */
interface RandomWalkLike {
  walk(options?: AbortOptions): AsyncGenerator<PeerInfo>
}

/** `inner`'s walk, yielding at most one peer per `gapMs` (abortable through `options.signal`). */
export function throttledRandomWalk(inner: RandomWalkLike, gapMs: number): RandomWalkLike {
  return {
    async *walk(options?: AbortOptions): AsyncGenerator<PeerInfo> {
      let last = Number.NEGATIVE_INFINITY
      for await (const peer of inner.walk(options)) {
        const wait = last + gapMs - Date.now()
        if (wait > 0)
          await delay(wait, undefined, options?.signal !== undefined ? { signal: options.signal } : {})
        last = Date.now()
        yield peer
      }
    }
  }
}

/**
 * The circuit-relay transport (NET-15) whose relay discovery walks the DHT through
 * {@link throttledRandomWalk}; every other component is libp2p's own. `circuitRelayTransport` is
 * the package's factory (`loadInternetModules`: loaded only by hosts that use it).
 */
export function throttledCircuitRelayTransport(
  circuitRelayTransport: InternetModules['circuitRelayTransport'],
  init: CircuitRelayTransportInit,
  gapMs = RELAY_WALK_GAP_MS
): (components: CircuitRelayTransportComponents) => Transport {
  const factory = circuitRelayTransport(init)
  return (components) =>
    factory(
      Object.create(components, {
        randomWalk: { value: throttledRandomWalk(components.randomWalk, gapMs), enumerable: true }
      }) as CircuitRelayTransportComponents
    )
}
