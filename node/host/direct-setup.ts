/**
 * The host's hook for direct connections (issue 15 §1): what `createHost` adds when
 * `HostOptions.direct` is set — the WebRTC and circuit-relay client transports and their listen
 * addresses, the STUN service (DIRECT-1) with its announcement, and the
 * {@link DirectConnections} manager. Kept out of `host.ts` so that file only calls in here.
 */
import type { Libp2p } from '@libp2p/interface'
import { Counter, type Registry } from 'prom-client'
import { type Logger, silentLogger } from '../logger.js'
import { DirectConnections, type DirectOptions } from './direct.js'
import { acquireWebRTC, loadInternetModules, releaseWebRTC } from './lazy-modules.js'
import { STUN_DEFAULT_PORT, type StunLimits, StunServer } from './stun.js'
import {
  bitwrkWebRTC,
  refuseStunStream,
  STUN_PROTOCOL,
  type StunDiscoveryLibp2p,
  type WebRtcOptions
} from './webrtc.js'

/** `HostOptions.direct`: direct connections between NATed peers (protocol/spec/network-direct.md). */
export interface HostDirectOptions {
  /**
   * The WebRTC transport (DIRECT-4), listening on `/webrtc`; its signalling uses the
   * circuit-relay client transport that every `direct` host has. `true` uses the defaults.
   */
  readonly webrtc?: boolean | WebRtcOptions
  /**
   * The STUN service (DIRECT-1; `--stun-port`): `'tcp'` binds UDP on the port number of the
   * host's first IPv4 TCP listen address and announces {@link STUN_PROTOCOL} (peers derive the
   * server from the TCP address, DIRECT-5); a number binds that port and announces nothing
   * unless it equals the TCP port (peers then need `--stun`). Unset: no STUN service.
   */
  readonly stunPort?: number | 'tcp'
  /** STUN limits (DIRECT-3). */
  readonly stunLimits?: Partial<StunLimits>
  /** Whether reversal is asked for and answered (DIRECT-9); default true. */
  readonly reversal?: boolean
  /** Manager limits (timeouts, reversal rates, relay policy). */
  readonly manager?: Omit<DirectOptions, 'webrtc' | 'reversal'>
}

/** The transports and listen addresses the hook adds before libp2p is created. */
export interface DirectTransportPlan {
  /** Extra transports. */
  readonly transports: (
    | ReturnType<typeof bitwrkWebRTC>
    | ReturnType<Awaited<ReturnType<typeof loadInternetModules>>['circuitRelayTransport']>
  )[]
  /** Extra listen addresses (`/p2p-circuit`, `/webrtc`). */
  readonly listen: string[]
  /** Called with the node once it exists (STUN discovery reads its connections). */
  bind(libp2p: StunDiscoveryLibp2p): void
  /** Called once the node stopped (or failed to start): lets go of what the transports loaded. */
  release(): Promise<void>
}

/**
 * The transports for `opts`: none without `direct` (or with neither WebRTC nor reversal); the
 * circuit-relay client (listening on `/p2p-circuit`: reservations on the relays it is connected
 * to) unless `hostHasRelay` says the host adds its own (internet hosts do, NET-15: one relay
 * transport per host, whose circuits carry reversal requests and WebRTC's signalling); WebRTC
 * (listening on `/webrtc`) when `webrtc` is set. With `loopbackOnly`, ICE binds to 127.0.0.1 so
 * no candidate leaves the loopback interface. The packages are loaded here, only when used.
 */
export async function directTransports(
  opts: HostDirectOptions | undefined,
  loopbackOnly: boolean,
  hostHasRelay = false
): Promise<DirectTransportPlan> {
  let node: StunDiscoveryLibp2p | undefined
  const bind = (l: StunDiscoveryLibp2p): void => {
    node = l
  }
  const webrtcOn = opts?.webrtc !== undefined && opts.webrtc !== false
  const none = async (): Promise<void> => {}
  if (opts === undefined || (!webrtcOn && opts.reversal === false))
    return { transports: [], listen: [], bind, release: none }
  const relay = hostHasRelay ? [] : [(await loadInternetModules()).circuitRelayTransport()]
  const relayListen = hostHasRelay ? [] : ['/p2p-circuit']
  if (opts.webrtc === undefined || opts.webrtc === false)
    return { transports: relay, listen: relayListen, bind, release: none }
  const w: WebRtcOptions = opts.webrtc === true ? {} : opts.webrtc
  const webrtc = bitwrkWebRTC(
    await acquireWebRTC(),
    loopbackOnly && w.bindAddress === undefined ? { ...w, bindAddress: '127.0.0.1' } : w,
    () => node
  )
  let released = false
  const release = async (): Promise<void> => {
    if (released) return
    released = true
    await releaseWebRTC()
  }
  return { transports: [webrtc, ...relay], listen: [...relayListen, '/webrtc'], bind, release }
}

/** What {@link startDirect} started; `stop()` undoes it (idempotent). */
export interface DirectRuntime {
  readonly manager: DirectConnections | undefined
  readonly stun: StunServer | undefined
  stop(): Promise<void>
}

/** The TCP port number and IPv4 address of the host's first IPv4 TCP listen address. */
function tcpListen(libp2p: Libp2p): { host: string; port: number } | undefined {
  for (const ma of libp2p.getMultiaddrs()) {
    const [ip, tcp, ...rest] = ma.getComponents()
    if (
      ip?.name === 'ip4' &&
      tcp?.name === 'tcp' &&
      !rest.some((c) => c.name === 'p2p-circuit') &&
      ip.value !== undefined
    )
      return { host: ip.value, port: Number(tcp.value) }
  }
  return undefined
}

/**
 * Starts the STUN service and the manager for `opts` on a running `libp2p`. `listenHost` is
 * the address the STUN socket binds (the TCP listen host, e.g. 0.0.0.0 or 127.0.0.1).
 */
export async function startDirect(
  libp2p: Libp2p,
  opts: HostDirectOptions | undefined,
  deps: { registry?: Registry; logger?: Logger; listenHost?: string }
): Promise<DirectRuntime> {
  const log = deps.logger ?? silentLogger()
  let stun: StunServer | undefined
  let manager: DirectConnections | undefined
  let announced = false
  const stop = async (): Promise<void> => {
    await manager?.stop()
    if (announced) await libp2p.unhandle(STUN_PROTOCOL).catch(() => {})
    await stun?.stop()
  }
  if (opts === undefined) return { manager, stun, stop }
  try {
    if (opts.stunPort !== undefined) {
      const tcp = tcpListen(libp2p)
      const port = opts.stunPort === 'tcp' ? (tcp?.port ?? STUN_DEFAULT_PORT) : opts.stunPort
      const registry = deps.registry
      const answers =
        registry === undefined
          ? undefined
          : counter(registry, 'bitwrk_stun_answers_total', 'STUN Binding answers sent (DIRECT-2)', [])
      const drops =
        registry === undefined
          ? undefined
          : counter(
              registry,
              'bitwrk_stun_dropped_total',
              'STUN datagrams dropped unanswered, by reason (DIRECT-2, DIRECT-3)',
              ['reason']
            )
      stun = new StunServer({
        port,
        host: deps.listenHost ?? tcp?.host ?? '0.0.0.0',
        ...(opts.stunLimits !== undefined ? { limits: opts.stunLimits } : {}),
        logger: log,
        onAnswer: () => answers?.inc(),
        onDrop: (reason) => drops?.inc({ reason })
      })
      await stun.start()
      // DIRECT-5: announced only when the well-known rule (same port number as TCP) holds
      if (tcp !== undefined && stun.port === tcp.port) {
        await libp2p.handle(STUN_PROTOCOL, (stream) => refuseStunStream(stream), {
          maxInboundStreams: 1,
          maxOutboundStreams: 1
        })
        announced = true
      }
    }
    const webrtc = opts.webrtc !== undefined && opts.webrtc !== false
    const reversal = opts.reversal ?? true
    if (webrtc || reversal) {
      manager = new DirectConnections(
        libp2p,
        { ...opts.manager, webrtc, reversal },
        {
          ...(deps.registry !== undefined ? { registry: deps.registry } : {}),
          logger: log
        }
      )
      await manager.start()
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { manager, stun, stop }
}

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: L[]
): Counter<L> {
  const existing = registry.getSingleMetric(name)
  if (existing instanceof Counter) return existing as Counter<L>
  return new Counter({ name, help, labelNames, registers: [registry] })
}
