import { networkInterfaces } from 'node:os'
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import { type GossipSub, gossipsub } from '@libp2p/gossipsub'
import { type Identify, identify } from '@libp2p/identify'
import type { ConnectionGater, Libp2p } from '@libp2p/interface'
import { type KadDHT, kadDHT, passthroughMapper, removePublicAddressesMapper } from '@libp2p/kad-dht'
import { peerIdFromString } from '@libp2p/peer-id'
import { type Ping, ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { BitwrkError, isBitwrkError } from '../../protocol/errors.js'
import { GossipAdapter, type GossipAdapterOptions } from '../gossip/adapter.js'
import { DEFAULT_BAN_MS, PeerBans } from '../gossip/ban.js'
import { type GossipConfig, gossipsubOptions } from '../gossip/config.js'
import type { MessageValidator, TopicKind } from '../gossip/types.js'
import { type Logger, silentLogger } from '../logger.js'
import { createMetrics, type NodeMetrics } from '../metrics.js'
import { type AddressScope, announceable, dialable, localScopes, scopeOf, usableForDht } from './addresses.js'
import { BootstrapDialer, type BootstrapTiming } from './bootstrap.js'
import type { DirectConnections } from './direct.js'
import { directTransports, type HostDirectOptions, startDirect } from './direct-setup.js'
import { loadInternetModules } from './lazy-modules.js'
import {
  boundedYamux,
  DEFAULT_INBOUND_CONNECTION_BUDGET,
  type StreamOpenBudget,
  TokenBucket
} from './mux-guard.js'
import { type NetworkStatus, NetworkWatch } from './network.js'
import { coalescedNoise } from './noise.js'
import { libp2pAddressBook, libp2pTransportAddrs, type Reachability } from './reachability.js'
import { RelayGate, relayServerInit, throttledCircuitRelayTransport } from './relay.js'
import { prometheusMetricsTalliedPerStream } from './transfer-metrics.js'

/** The libp2p services of a bitwrk host. */
export type HostServices = {
  /** Required by GossipSub and Kad-DHT. */
  identify: Identify
  /** Required by Kad-DHT; also keeps connections honest. */
  ping: Ping
  /** GossipSub for bids and transaction messages (configured by `gossipsubOptions`). */
  pubsub: GossipSub
  /** Kad-DHT on the private protocol {@link DHT_PROTOCOL}. */
  dht: KadDHT
  /** AutoNAT v1 (NET-10); only on internet hosts (see {@link HostOptions.internet}). */
  autonat?: unknown
  /** Circuit relay v2 server (NET-12); only on internet hosts whose `relayServer` is not false. */
  relay?: CircuitRelayService
}

/** The private Kad-DHT protocol id: never the public `/ipfs/kad/1.0.0`. */
export const DHT_PROTOCOL = '/bitwrk/kad/1.0.0'

/** Host error codes (`HOST_*`). */
export const HostCode = {
  /** The private key is not 32 bytes of a valid secp256k1 scalar. */
  BAD_KEY: 'HOST_BAD_KEY',
  /** A listen or bootstrap address is not a valid multiaddr. */
  BAD_ADDRESS: 'HOST_BAD_ADDRESS',
  /** `loopbackOnly` is set but an address is not on the loopback interface. */
  NOT_LOOPBACK: 'HOST_NOT_LOOPBACK',
  /** GOSSIP-12: the reason a banned peer's connections were aborted (graylisted, or over a stream budget). */
  BANNED: 'HOST_PEER_BANNED'
} as const

/** Options of {@link createHost}. */
export interface HostOptions {
  /** The node's 32-byte secp256k1 private key: market identity and libp2p identity (invariant 2). */
  privateKey: Uint8Array
  /** Listen multiaddrs; default `/ip4/127.0.0.1/tcp/0`; any address (`/ip4/0.0.0.0/tcp/4001`, `/ip6/::/tcp/4001`). */
  listen?: string[]
  /**
   * Multiaddrs announced instead of the listen addresses (`--announce`, NET-2): the operator's
   * public address behind a port forward, a DNS name. Still subject to the scope rule (NET-4).
   */
  announce?: string[]
  /**
   * Run the internet machinery (NET-1): AutoNAT, the circuit-relay transport and server, circuit
   * reservations when private, the DHT mode following reachability. Default: on when the host is
   * not `loopbackOnly` and some listen or announce address is not loopback. Harnesses set it on
   * loopback to test relays on 127.0.0.1; it has no effect with `loopbackOnly`.
   */
  internet?: boolean
  /**
   * NET-12: serve as a circuit relay (`--relay-server`). Default (undefined): serve while the
   * node is public; true: always (harnesses, an operator who knows better than AutoNAT); false:
   * never (`--no-relay-server`, no hop protocol at all).
   */
  relayServer?: boolean
  /** Reservations the relay server holds at most (NET-13); default `RELAY_MAX_RESERVATIONS`. */
  relayMaxReservations?: number
  /**
   * NET-15: relay reservations a node without a public address keeps (default 2; 0: none). Only
   * on internet hosts with no public listen or announce address.
   */
  relayReservations?: number
  /** NET-16: how long a private node looks for relays before it warns, ms (default 30 s). */
  noRelayGraceMs?: number
  /** Multiaddrs dialled at start and kept connected (`--bootstrap`). */
  bootstrap?: string[]
  /** Refuse every non-loopback dial, inbound connection, listen and bootstrap address. */
  loopbackOnly?: boolean
  /** How long `createHost` waits for the first bootstrap dials, ms; default 10 s. */
  bootstrapDeadlineMs?: number
  /** Bootstrap dial timeout and back-off. */
  bootstrapTiming?: Partial<BootstrapTiming>
  /** One validator per topic kind (bids, tx); a kind without one cannot be subscribed. */
  validators?: Partial<Record<TopicKind, MessageValidator>>
  /** GossipSub settings (heartbeat, RPC limit, app score). */
  gossip?: GossipConfig
  /** Adapter limits (queue, rate limit, sizes, seen cache, topic score params). */
  adapter?: Omit<GossipAdapterOptions, 'pubsub' | 'validators' | 'metrics' | 'logger' | 'now'>
  /**
   * Store all DHT peer addresses (public internet deployment). Default false: a private
   * network keeps only private/loopback addresses (`removePublicAddressesMapper`).
   */
  publicDht?: boolean
  /**
   * Peers (base58 ids) to refuse in both directions: a block list, and the way tests and
   * benchmarks keep a fixed topology (Kad-DHT otherwise connects a small network completely).
   */
  denyPeer?: (peerId: string) => boolean
  /**
   * GOSSIP-12: how long a peer is disconnected and refused after its score fell below the
   * graylist threshold through messages our validators rejected, ms; default
   * {@link DEFAULT_BAN_MS}; 0 keeps such peers connected (GossipSub then only ignores them).
   */
  banMs?: number
  /**
   * Default true. False postpones Kad-DHT's self-query by an hour and lets DHT queries run
   * without waiting for it, so tests and benchmarks that dial their own topology are not
   * joined up by the self-query's dials.
   */
  dhtSelfQuery?: boolean
  /**
   * Streams a peer may open per connection (GOSSIP-13; default DEFAULT_STREAM_OPEN_BUDGET). The
   * stream fuzzers raise it: they open one stream per case on purpose, faster than any peer may.
   */
  streamOpens?: StreamOpenBudget
  /**
   * Inbound connections accepted over all remote hosts, checked before the handshake (GOSSIP-14;
   * default DEFAULT_INBOUND_CONNECTION_BUDGET); more are refused.
   */
  inboundConnections?: StreamOpenBudget
  /**
   * Harnesses only (the `agreement` bench, issue 14): an emulated one-way delay, ms, drawn per
   * batch of incoming bytes of every connection (`node/host/link-emulation.ts`); the kernel here
   * has no `netem`. Never set by the daemon.
   */
  inboundDelayMs?: () => number
  /**
   * Direct connections between NATed peers (issue 15 §1; `direct-setup.ts`): the WebRTC
   * transport, the STUN service, connection reversal. Default: none of them.
   */
  direct?: HostDirectOptions
  /** Parent logger; default silent. */
  logger?: Logger
  /**
   * Metrics; default a fresh registry. GossipSub registers its `gossipsub_*` families in the
   * same registry, so a registry serves one host.
   */
  metrics?: NodeMetrics
  /** Register libp2p's own metrics (`libp2p_*`) in the node's registry (default true). */
  libp2pMetrics?: boolean
  /** Clock, ms since the epoch. */
  now?: () => number
}

/** A running bitwrk libp2p host. */
export interface BitwrkHost {
  /** The libp2p node (for streams, DHT, connections). */
  readonly libp2p: Libp2p<HostServices>
  /** Base58 peer id (`16Uiu2…`, secp256k1). */
  readonly peerId: string
  /** The gossip adapter: subscribe, publish, `gossip:message` events. */
  readonly gossip: GossipAdapter
  /** The node's metrics. */
  readonly metrics: NodeMetrics
  /** Addresses we listen on, with `/p2p/<peerId>`. */
  multiaddrs(): Multiaddr[]
  /** Bootstrap addresses currently connected. */
  bootstrapConnected(): number
  /** NET-9: `public`, `private` or `unknown` (loopback-only hosts: `private`). */
  reachability(): Reachability
  /** NET-15: relays (base58 peer ids) holding a reservation for this node. */
  relayReservations(): string[]
  /** Reachability, relay server and reservations, connections by kind, the NET-16 warning. */
  network(): NetworkStatus
  /** The direct-connection manager (DIRECT-7, DIRECT-12), when `direct` is set. */
  readonly direct: DirectConnections | undefined
  /** The STUN service's UDP port (DIRECT-1), 0 when it does not run. */
  stunPort(): number
  /** True while `peerId` (base58) is banned for graylisted misbehaviour (GOSSIP-12). */
  isBanned(peerId: string): boolean
  /**
   * Drops `peerId`: aborts its connections and refuses it in both directions for `banMs`
   * (GOSSIP-12; TRADE-19, SYNC-14, CHUNK-15: a peer that opens streams after its
   * invalid-request budget is spent). Does nothing while it is banned, or when `banMs` is 0.
   */
  ban(peerId: string, why: string): void
  /** Stops gossip, bootstrap loops and libp2p. Idempotent; concurrent calls share one stop. */
  stop(): Promise<void>
}

/**
 * libp2p's defaults accept 5 inbound connections per second per host and 10 pending; a local
 * testnet dials every node from 127.0.0.1 at once (notes/libp2p-stack.md), so loopback hosts
 * raise both.
 */
const LOOPBACK_INBOUND_PER_SEC = 1000
const LOOPBACK_PENDING_INBOUND = 256

/**
 * How often libp2p's connection monitor pings each connection, ms (libp2p's default: 10 s).
 * Every ping is a new stream with its own multistream-select negotiation, about seven
 * encrypted frames each way; an idle node pings each peer and is pinged by it, so at 10 s a
 * node with 49 peers (the 50-node testnet, where Kad-DHT connects everyone) opens ten streams
 * a second for nothing else, and those streams were most of its idle CPU (issue 14.2,
 * measured with --cpu-prof). A dead connection is still found within a minute, and at once
 * when the remote closes it or a real stream on it fails. A ping that fails does not abort the
 * connection: on a machine short of CPU (50 daemons on 2 cores) pings time out on healthy
 * connections, and each abort made Kad-DHT's reconnect queue and the bootstrap dialer redial,
 * a handshake storm that kept the machine short of CPU (issue 14.2, same profile).
 */
export const CONNECTION_PING_INTERVAL_MS = 60_000

/**
 * How often Kad-DHT re-tags the peers closest to this node, ms (its default: 5 s). Each round
 * parses every tagged peer id from its string, decompressing its secp256k1 key in pure JS:
 * profiled at about 9 % of a 50-node testnet daemon's CPU. The tags only protect close peers
 * from the connection pruner, which a minute's delay does not hurt.
 */
export const DHT_PEER_TAG_INTERVAL_MS = 60_000

/**
 * Re-arms Kad-DHT's closest-peer tagging timer at {@link DHT_PEER_TAG_INTERVAL_MS}.
 * @libp2p/kad-dht 16 does not pass `closestPeerSetRefreshInterval` on to its routing table, so
 * the timer is replaced after start (it reaches into the DHT's internals: if a later version
 * renames them, this does nothing and the default applies; `test/node/host/host.test.ts` checks it).
 */
function slowDhtPeerTagging(dht: unknown): void {
  const tagger = (dht as { routingTable?: { closestPeerTagger?: DhtPeerTagger } }).routingTable
    ?.closestPeerTagger
  if (tagger?.timeout === undefined || typeof tagger.updatePeerTags !== 'function') return
  clearInterval(tagger.timeout)
  const t = setInterval(() => {
    tagger.updatePeerTags?.().catch(() => {})
  }, DHT_PEER_TAG_INTERVAL_MS)
  t.unref?.()
  tagger.timeout = t
}

/** The members of @libp2p/kad-dht 16's `ClosestPeers` that {@link slowDhtPeerTagging} uses. */
interface DhtPeerTagger {
  timeout?: ReturnType<typeof setInterval>
  updatePeerTags?: () => Promise<void>
}

/** Self-query delay when `dhtSelfQuery` is false: one hour, longer than any test or bench run. */
const NO_SELF_QUERY_MS = 3600 * 1000

/** True for 127.0.0.0/8 and ::1 multiaddrs. */
export function isLoopback(ma: Multiaddr): boolean {
  const first = ma.getComponents()[0]
  if (first === undefined) return false
  if (first.name === 'ip4') return first.value?.startsWith('127.') === true
  if (first.name === 'ip6') return first.value === '::1'
  return false
}

function parseAddrs(addrs: string[], loopbackOnly: boolean, what: string): Multiaddr[] {
  return addrs.map((a) => {
    let ma: Multiaddr
    try {
      ma = multiaddr(a)
    } catch {
      throw new BitwrkError(HostCode.BAD_ADDRESS, `invalid ${what} multiaddr`, { addr: a })
    }
    if (loopbackOnly && !isLoopback(ma))
      throw new BitwrkError(HostCode.NOT_LOOPBACK, `${what} address is not loopback`, { addr: a })
    return ma
  })
}

/**
 * The connection gater: with `loopbackOnly`, refuses any dial or inbound connection that is
 * not on the loopback interface; otherwise refuses dials outside the node's scopes (NET-6);
 * refuses the peers `denyPeer` names in both directions; and gates relay reservations and
 * circuits (NET-14).
 */
function connectionGater(
  loopbackOnly: boolean,
  local: ReadonlySet<AddressScope>,
  denyPeer: (peerId: string) => boolean,
  inbound: TokenBucket,
  onRefused: () => void,
  relay: RelayGate
): ConnectionGater {
  const gater: ConnectionGater = { ...relay.gaterHooks() }
  // NET-6: no dial to a loopback or private address outside the node's own scopes
  gater.denyDialMultiaddr = loopbackOnly ? (ma) => !isLoopback(ma) : (ma) => !dialable(ma, local)
  gater.denyInboundConnection = (maConn) => {
    // an inbound WebRTC connection's address is `/webrtc/p2p/<peer>`; in loopback-only mode its
    // ICE sockets are bound to 127.0.0.1 (direct-setup.ts), so it is a loopback connection
    const webrtc = maConn.remoteAddr.getComponents()[0]?.name === 'webrtc'
    if (loopbackOnly && !isLoopback(maConn.remoteAddr) && !webrtc) return true
    // GOSSIP-14: before the handshake, so a refused connection costs no signature
    if (inbound.take()) return false
    onRefused()
    return true
  }
  gater.denyDialPeer = (peer) => denyPeer(peer.toString())
  gater.denyInboundEncryptedConnection = (peer) => denyPeer(peer.toString())
  gater.denyOutboundEncryptedConnection = (peer) => denyPeer(peer.toString())
  return gater
}

/**
 * Creates and starts a bitwrk libp2p host: TCP + Noise + Yamux (bounded: `mux-guard.ts`), identify, ping, GossipSub
 * (StrictNoSign, SHA-256 message ids, bitwrk score parameters) behind the {@link GossipAdapter},
 * Kad-DHT on {@link DHT_PROTOCOL} in server mode. No public bootstrap list and no discovery
 * module: only `bootstrap` addresses are dialled, at start (waiting up to
 * `bootstrapDeadlineMs`) and again with back-off whenever they disconnect.
 */
export async function createHost(opts: HostOptions): Promise<BitwrkHost> {
  const loopbackOnly = opts.loopbackOnly ?? false
  const log = (opts.logger ?? silentLogger()).child({ module: 'host' })
  const metrics = opts.metrics ?? createMetrics()
  if (opts.privateKey.byteLength !== 32)
    throw new BitwrkError(HostCode.BAD_KEY, 'private key must be 32 bytes', {
      length: opts.privateKey.byteLength
    })
  let privateKey: ReturnType<typeof privateKeyFromRaw>
  try {
    privateKey = privateKeyFromRaw(opts.privateKey)
  } catch {
    throw new BitwrkError(HostCode.BAD_KEY, 'private key is not a valid secp256k1 key')
  }
  const listen = parseAddrs(opts.listen ?? ['/ip4/127.0.0.1/tcp/0'], loopbackOnly, 'listen')
  const announce = parseAddrs(opts.announce ?? [], loopbackOnly, 'announce')
  const bootstrap = parseAddrs(opts.bootstrap ?? [], loopbackOnly, 'bootstrap')
  const internet = !loopbackOnly && (opts.internet ?? [...listen, ...announce].some((ma) => !isLoopback(ma)))
  const local = localScopes(listen, networkInterfaces())
  const ownPublic = local.has('public') || announce.some((ma) => scopeOf(ma) === 'public')
  // NET-15: a node without a public address reserves on relays: one `/p2p-circuit` listen
  // address per wanted reservation (the transport finds relays among connected hop peers,
  // bootstrap peers first, then through a DHT random walk)
  const wantedReservations = internet && !ownPublic ? (opts.relayReservations ?? 2) : 0
  const circuitListen = Array.from(
    { length: Math.max(0, Math.floor(wantedReservations)) },
    () => '/p2p-circuit'
  )
  const relayServer: boolean | 'auto' = opts.relayServer ?? 'auto'
  const gossipCfg: GossipConfig = {
    // GossipSub's own metrics go to the node's registry unless the caller chose otherwise
    metricsRegistry: metrics.registry,
    ...opts.gossip,
    // every testnet node shares 127.0.0.1: exempt it from the IP-colocation penalty (P6)
    ipColocationWhitelist: [
      ...(opts.gossip?.ipColocationWhitelist ?? []),
      ...(loopbackOnly ? ['127.0.0.1', '::1'] : [])
    ]
  }

  // GOSSIP-12: graylisted peers, refused by the gater like `denyPeer`'s
  const bans = new PeerBans(opts.now ?? Date.now, opts.banMs ?? DEFAULT_BAN_MS)
  const deny = (peer: string): boolean => bans.isBanned(peer) || (opts.denyPeer?.(peer) ?? false)
  // set once libp2p exists: the gate asks the watch whether the node serves reservations now
  let watch: NetworkWatch | undefined
  const relayGate = new RelayGate({
    deny,
    // budgets on the monotonic clock (TokenBucket's default), not the market clock `opts.now`
    serving: () => watch?.relayServing() ?? false,
    onRefused: (reason) => metrics.relayRefused.inc({ reason })
  })
  // NET-4: announce only the widest scope the node has; `getConnections` is read at call time
  let connectionsNow: () => { remoteAddr: Multiaddr }[] = () => []
  const announceFilter = (addrs: Multiaddr[]): Multiaddr[] =>
    announceable(addrs, {
      loopbackOnly,
      publicContact: ownPublic || connectionsNow().some((c) => scopeOf(c.remoteAddr) === 'public')
    })

  // issue 15 §1: WebRTC (+ circuit-relay client for its signalling) when `direct.webrtc` is set
  const directPlan = await directTransports(opts.direct, loopbackOnly, internet)
  // relay and AutoNAT only on internet hosts: loaded here, not by every daemon (idle RSS, issue 14)
  const net = internet ? await loadInternetModules() : undefined
  const libp2p = await createLibp2p<HostServices>({
    privateKey,
    addresses: {
      listen: [...listen.map((m) => m.toString()), ...circuitListen, ...directPlan.listen],
      ...(announce.length > 0 ? { announce: announce.map((m) => m.toString()) } : {}),
      announceFilter
    },
    // NET-15: circuit relay v2 as a transport on internet hosts (dial and listen through relays);
    // DIRECT-4: WebRTC (its signalling over those circuits) when `direct.webrtc` is set
    transports: [
      tcp(),
      ...(net !== undefined
        ? [
            throttledCircuitRelayTransport(net.circuitRelayTransport, {
              reservationConcurrency: Math.max(1, circuitListen.length)
            })
          ]
        : []),
      ...directPlan.transports
    ],
    connectionEncrypters: [coalescedNoise()],
    // Yamux with windows capped and oversized frames refused before they are buffered (invariant 10)
    streamMuxers: [
      boundedYamux({
        ...(opts.streamOpens !== undefined ? { streamOpens: opts.streamOpens } : {}),
        ...(opts.inboundDelayMs !== undefined ? { inboundDelayMs: opts.inboundDelayMs } : {})
      })
    ],
    // libp2p's own metrics (connections, streams, protocol bytes, …) share the node's registry,
    // so `/metrics` is one scrape; no default process metrics (several nodes share a process)
    ...(opts.libp2pMetrics === false
      ? {}
      : {
          // byte counts kept per stream, not per message (`transfer-metrics.ts`, issue 14)
          metrics: prometheusMetricsTalliedPerStream({
            registry: metrics.registry,
            collectDefaultMetrics: false
          })
        }),
    connectionGater: connectionGater(
      loopbackOnly,
      local,
      deny,
      new TokenBucket(opts.inboundConnections ?? DEFAULT_INBOUND_CONNECTION_BUDGET),
      () => metrics.inboundRefused.inc(),
      relayGate
    ),
    connectionMonitor: { pingInterval: CONNECTION_PING_INTERVAL_MS, abortConnectionOnPingFailure: false },
    connectionManager: loopbackOnly
      ? {
          inboundConnectionThreshold: LOOPBACK_INBOUND_PER_SEC,
          maxIncomingPendingConnections: LOOPBACK_PENDING_INBOUND
        }
      : {},
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub(gossipsubOptions(gossipCfg)),
      // NET-10: AutoNAT v1 asks peers to dial our public addresses back (internet hosts only)
      ...(net !== undefined ? { autonat: net.autoNAT() } : {}),
      // NET-12: the relay server, gated by `relayGate` (public or forced on; no banned peers)
      ...(net !== undefined && relayServer !== false
        ? { relay: net.circuitRelayServer(relayServerInit(opts.relayMaxReservations)) }
        : {}),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        // explicit: left undefined, kad-dht 16 switches on libp2p's `isPrivate`, which counts
        // 198.18.0.0/15 private; NetworkWatch moves the mode with our reachability (NET-11)
        clientMode: false,
        // NET-7: loopback hosts keep loopback/private addresses (as before issue 15); internet
        // hosts keep what they may dial (public, relays, their own scopes)
        peerInfoMapper:
          opts.publicDht === true
            ? passthroughMapper
            : loopbackOnly
              ? removePublicAddressesMapper
              : (peer) => ({ ...peer, multiaddrs: usableForDht(peer.multiaddrs, local) }),
        // the default 1 s delay of the first self-query slows every first DHT operation
        ...(opts.dhtSelfQuery === false
          ? {
              initialQuerySelfInterval: NO_SELF_QUERY_MS,
              querySelfInterval: NO_SELF_QUERY_MS,
              allowQueryWithZeroPeers: true
            }
          : { initialQuerySelfInterval: 0 })
      })
    }
  })

  /** Bans and disconnects `peer` (GOSSIP-12 and the stream budgets) unless it is banned already. */
  const banPeer = (peer: string, why: string): void => {
    if (opts.banMs === 0 || bans.isBanned(peer)) return
    bans.ban(peer)
    log.warn({ peer, why }, 'peer disconnected and banned')
    // aborted, not closed: a graceful close would wait on the flooding peer
    for (const c of libp2p.getConnections(peerIdFromString(peer)))
      c.abort(new BitwrkError(HostCode.BANNED, `peer banned (${why})`))
  }
  // GOSSIP-13: a peer whose connection the muxer guard cut (oversized frame, stream flood) is banned
  libp2p.addEventListener('connection:open', (e) => {
    const conn = e.detail
    conn.addEventListener(
      'close',
      (ce) => {
        const err: unknown = (ce as Event & { error?: unknown }).error
        if (isBitwrkError(err) && err.code.startsWith('HOST_MUX_'))
          banPeer(conn.remotePeer.toString(), err.code)
      },
      { once: true }
    )
  })
  const gossip = new GossipAdapter({
    ...opts.adapter,
    pubsub: libp2p.services.pubsub,
    validators: opts.validators ?? {},
    metrics,
    logger: opts.logger ?? silentLogger(),
    ...(opts.now !== undefined ? { now: opts.now } : {}),
    ...(opts.banMs === 0
      ? {}
      : {
          onGraylisted: (peer: string) => banPeer(peer, 'GOSSIP-12')
        })
  })
  metrics.setPeerSource(() => libp2p.getPeers().length)
  connectionsNow = () => libp2p.getConnections()
  const networkWatch = new NetworkWatch({
    libp2p,
    ...(loopbackOnly ? {} : { dht: libp2p.services.dht }),
    addressBook: libp2pAddressBook(libp2p),
    ownAddrs: libp2pTransportAddrs(libp2p),
    internet,
    wantedReservations,
    relayServer: internet ? relayServer : false,
    ...(opts.noRelayGraceMs !== undefined ? { noRelayGraceMs: opts.noRelayGraceMs } : {}),
    log,
    metrics,
    // wall-clock time: libp2p's address book stamps `expires` with Date.now(), whatever `opts.now` says
    now: Date.now
  })
  watch = networkWatch
  networkWatch.start()
  slowDhtPeerTagging(libp2p.services.dht)
  const dialer = new BootstrapDialer(libp2p, bootstrap, log, metrics, opts.bootstrapTiming)
  directPlan.bind(libp2p)
  let direct: Awaited<ReturnType<typeof startDirect>>
  try {
    // DIRECT-1: the STUN socket binds the configured TCP listen host (e.g. 0.0.0.0), not a resolved one
    const tcpHost = listen
      .map((m) => m.getComponents())
      .find((c) => c[0]?.name === 'ip4' && c[1]?.name === 'tcp')?.[0]?.value
    direct = await startDirect(libp2p, opts.direct, {
      registry: metrics.registry,
      logger: log,
      ...(tcpHost !== undefined ? { listenHost: tcpHost } : {})
    })
  } catch (err) {
    gossip.stop()
    await libp2p.stop()
    await directPlan.release()
    throw err
  }
  log.info({ peerId: libp2p.peerId.toString(), listen: libp2p.getMultiaddrs().map(String) }, 'host started')

  let stopping: Promise<void> | undefined
  const host: BitwrkHost = {
    libp2p,
    peerId: libp2p.peerId.toString(),
    gossip,
    metrics,
    multiaddrs: () => libp2p.getMultiaddrs(),
    bootstrapConnected: () => dialer.connectedCount(),
    reachability: () => networkWatch.reachability(),
    relayReservations: () => networkWatch.relayReservations(),
    network: () => networkWatch.status(),
    direct: direct.manager,
    stunPort: () => direct.stun?.port ?? 0,
    isBanned: (peer) => bans.isBanned(peer),
    ban: banPeer,
    stop() {
      stopping ??= (async () => {
        gossip.stop()
        networkWatch.stop()
        await dialer.stop()
        await direct.stop()
        await libp2p.stop()
        await directPlan.release()
        log.info({}, 'host stopped')
      })()
      return stopping
    }
  }
  try {
    await dialer.start(opts.bootstrapDeadlineMs ?? 10_000)
  } catch (err) {
    await host.stop()
    throw err
  }
  return host
}
