/** Fixtures of the direct-connection tests: a circuit-relay v2 host on 127.0.0.1 and host options. */
import { circuitRelayServer } from '@libp2p/circuit-relay-v2'
import { identify } from '@libp2p/identify'
import type { Connection, Libp2p, PeerId } from '@libp2p/interface'
import { noise } from '@libp2p/noise'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { type BitwrkHost, createHost, type HostOptions } from '../../../node/host/host.js'
import { randomPrivateKey, waitFor } from '../../../node/testing.js'

/**
 * A relay on 127.0.0.1 (the test's own libp2p, not a bitwrk host: the relay server belongs to
 * the nethost branch), with `limits` for relayed connections (bytes, seconds).
 */
export async function createRelay(limits?: { data?: bigint; duration?: number }): Promise<Libp2p> {
  return createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: (ma) => !ma.toString().startsWith('/ip4/127.0.0.1/') },
    services: {
      identify: identify(),
      relay: circuitRelayServer({
        reservations: {
          ...(limits?.data !== undefined ? { defaultDataLimit: limits.data } : {}),
          ...(limits?.duration !== undefined ? { defaultDurationLimit: limits.duration } : {})
        }
      })
    }
  })
}

/** Connects `host` to the relay and waits until it holds a reservation (a `/p2p-circuit` address). */
export async function reserveOn(host: BitwrkHost, relay: Libp2p): Promise<Multiaddr> {
  await host.libp2p.dial(relay.getMultiaddrs()[0] as Multiaddr, { signal: AbortSignal.timeout(5000) })
  let circuit: Multiaddr | undefined
  await waitFor(
    () => {
      circuit = host.libp2p
        .getMultiaddrs()
        .find((ma) => ma.toString().includes('/p2p-circuit') && !ma.toString().includes('/webrtc'))
      return circuit !== undefined
    },
    { timeoutMs: 10_000, what: 'a relay reservation' }
  )
  return circuit as Multiaddr
}

/** Dials `target`'s circuit address from `from` and returns the (limited) relayed connection. */
export async function relayedConnection(from: BitwrkHost, circuit: Multiaddr): Promise<Connection> {
  const conn = await from.libp2p.dial(circuit, { signal: AbortSignal.timeout(5000) })
  return conn
}

/** The open connections of `host` to `peer`, as `direct`/`limited` flags with their address. */
export function connectionsTo(host: BitwrkHost, peer: PeerId): { limited: boolean; addr: string }[] {
  return host.libp2p
    .getConnections(peer)
    .filter((c) => c.status === 'open')
    .map((c) => ({ limited: c.limits !== undefined, addr: c.remoteAddr.toString() }))
}

/** Hosts and relays of one test, stopped in reverse order by `cleanup()` (call it in `afterEach`). */
export interface DirectFixture {
  /** A loopback-only bitwrk host with `opts`. */
  host(opts: Partial<HostOptions>): Promise<BitwrkHost>
  /** A relay ({@link createRelay}). */
  relay(limits?: Parameters<typeof createRelay>[0]): Promise<Libp2p>
  /** Registers another teardown step. */
  defer(step: () => Promise<void>): void
  /** Runs every teardown step, last registered first. */
  cleanup(): Promise<void>
}

/** A {@link DirectFixture}. */
export function directFixture(): DirectFixture {
  const steps: (() => Promise<void>)[] = []
  return {
    async host(opts) {
      const h = await createHost({ privateKey: randomPrivateKey(), loopbackOnly: true, ...opts })
      steps.push(() => h.stop())
      return h
    },
    async relay(limits) {
      const r = await createRelay(limits)
      steps.push(async () => {
        await r.stop()
      })
      return r
    },
    defer: (step) => {
      steps.push(step)
    },
    async cleanup() {
      for (const s of steps.splice(0).reverse()) await s()
    }
  }
}
