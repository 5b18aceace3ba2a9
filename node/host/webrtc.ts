/**
 * The WebRTC transport of a bitwrk host (DIRECT-4 … DIRECT-6, protocol/spec/network-direct.md):
 * `@libp2p/webrtc`'s private-to-private transport, whose SDP travels over a relayed connection
 * (`/webrtc-signaling/0.0.1`) and whose ICE punches UDP through the NATs. Its ICE servers are
 * the STUN services of the node's own public peers, never a public STUN server:
 *
 * - the operator's `--stun` entries (`host:port`, `stun:host:port` or `/ip4|ip6/…/udp/P`), and
 * - every connected peer that announces {@link STUN_PROTOCOL} over identify (DIRECT-5): by the
 *   well-known rule of DIRECT-1 it runs STUN on the UDP port with the number of its TCP port,
 *   so the ICE server is the IP and TCP port *this node dialled* on a direct connection;
 *   nothing a peer says about itself becomes a STUN destination.
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { BitwrkError } from '../../protocol/errors.js'
import type { WebRTCFactory } from './lazy-modules.js'

/**
 * Announced (through identify's protocol list) by a node that runs the STUN service on the UDP
 * port number of its TCP listen port (DIRECT-1, DIRECT-5). A stream on it is reset unread: the
 * announcement is the whole protocol.
 */
export const STUN_PROTOCOL = '/bitwrk/stun/1.0.0'

/** Most ICE servers handed to one peer connection (DIRECT-5): each costs a Binding round trip per candidate. */
export const MAX_ICE_SERVERS = 4

/** WebRTC error codes (`WEBRTC_*`). */
export const WebRtcCode = {
  /** A `--stun` entry is neither `host:port`, `stun:host:port` nor a `/udp/` multiaddr. */
  BAD_STUN_SERVER: 'WEBRTC_BAD_STUN_SERVER'
} as const

/**
 * Normalises one `--stun` entry to an ICE server URL `stun:<host>:<port>`; throws
 * `WEBRTC_BAD_STUN_SERVER` for anything else.
 */
export function stunUrl(entry: string): string {
  const bad = (): BitwrkError => new BitwrkError(WebRtcCode.BAD_STUN_SERVER, 'invalid STUN server', { entry })
  if (entry.startsWith('/')) {
    let ma: Multiaddr
    try {
      ma = multiaddr(entry)
    } catch {
      throw bad()
    }
    const [ip, udp] = ma.getComponents()
    if (
      (ip?.name !== 'ip4' && ip?.name !== 'ip6' && ip?.name !== 'dns4' && ip?.name !== 'dns6') ||
      udp?.name !== 'udp'
    )
      throw bad()
    return `stun:${ip.name === 'ip6' ? `[${ip.value}]` : ip.value}:${udp.value}`
  }
  const m = /^(?:stun:)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry)
  const port = Number(m?.[2])
  if (m?.[1] === undefined || !(port > 0 && port < 65536)) throw bad()
  return `stun:${m[1]}:${port}`
}

/**
 * The ICE server URL of a peer that announces {@link STUN_PROTOCOL}, from the remote address of a
 * direct TCP connection to it (DIRECT-5), or undefined (relayed, WebRTC or not IP/TCP).
 */
export function stunUrlOfConnection(remoteAddr: Multiaddr): string | undefined {
  const [ip, tcp, ...rest] = remoteAddr.getComponents()
  if (rest.some((c) => c.name === 'p2p-circuit')) return undefined
  if ((ip?.name !== 'ip4' && ip?.name !== 'ip6') || tcp?.name !== 'tcp' || ip.value === undefined)
    return undefined
  return `stun:${ip.name === 'ip6' ? `[${ip.value}]` : ip.value}:${tcp.value}`
}

/** Options of the WebRTC transport. */
export interface WebRtcOptions {
  /** The operator's STUN servers (`--stun`, repeatable). */
  readonly stun?: readonly string[]
  /**
   * Binds ICE's UDP sockets to this address (node-datachannel's `bindAddress`). Loopback-only
   * hosts use 127.0.0.1 so that ICE gathers no candidate outside the loopback interface.
   */
  readonly bindAddress?: string
  /** Whether STUN servers are also learnt from connected peers (DIRECT-5); default true. */
  readonly discoverStun?: boolean
}

/** The part of libp2p the STUN discovery reads. */
export type StunDiscoveryLibp2p = Pick<Libp2p, 'getConnections' | 'peerStore'>

/**
 * ICE servers for the next peer connection: the configured ones first, then those of connected
 * peers announcing {@link STUN_PROTOCOL} over direct connections this node dialled; at most
 * {@link MAX_ICE_SERVERS}.
 */
export async function iceServers(
  configured: readonly string[],
  libp2p: StunDiscoveryLibp2p | undefined
): Promise<string[]> {
  const urls = new Set(configured)
  if (libp2p !== undefined) {
    for (const conn of libp2p.getConnections()) {
      if (urls.size >= MAX_ICE_SERVERS) break
      // only a connection this node dialled has the peer's listen port as remote port
      if (conn.limits !== undefined || conn.direction !== 'outbound') continue
      const url = stunUrlOfConnection(conn.remoteAddr)
      if (url === undefined || urls.has(url)) continue
      const peer = await libp2p.peerStore.get(conn.remotePeer).catch(() => undefined)
      if (peer?.protocols.includes(STUN_PROTOCOL) === true) urls.add(url)
    }
  }
  return [...urls].slice(0, MAX_ICE_SERVERS)
}

/**
 * `@libp2p/webrtc`'s `webRTC()` transport with ICE servers from {@link iceServers}, computed per
 * peer connection (`rtcConfiguration` as a function), so servers learnt after start are used.
 * `libp2p()` gives the node once it exists (the transport is built before it). `webRTC` is the
 * package's factory ({@link loadWebRTC}: loaded only by hosts that use it).
 */
export function bitwrkWebRTC(
  webRTC: WebRTCFactory,
  opts: WebRtcOptions,
  libp2p: () => StunDiscoveryLibp2p | undefined
): ReturnType<WebRTCFactory> {
  const configured = (opts.stun ?? []).map(stunUrl)
  return webRTC({
    rtcConfiguration: async () => {
      const urls = await iceServers(configured, opts.discoverStun === false ? undefined : libp2p())
      // node-datachannel reads `bindAddress` from the configuration it is given (not a DOM field)
      const config: RTCConfiguration & { bindAddress?: string } = {
        iceServers: urls.map((u) => ({ urls: u }))
      }
      if (opts.bindAddress !== undefined) config.bindAddress = opts.bindAddress
      return config
    }
  })
}

/** Resets a stream on {@link STUN_PROTOCOL} unread: the protocol is an announcement only. */
export function refuseStunStream(stream: Stream): void {
  stream.abort(new BitwrkError('WEBRTC_STUN_ANNOUNCE_ONLY', 'the STUN protocol carries no data'))
}
