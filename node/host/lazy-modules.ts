/**
 * The libp2p modules only some hosts need, loaded on first use: circuit relay v2 and AutoNAT
 * (internet hosts, NET-10 … NET-15) and WebRTC (`--webrtc`, DIRECT-4, whose native
 * node-datachannel binding alone maps ~20 MiB). A loopback daemon, the testnet's and most
 * tests', never loads them, which keeps its idle resident memory within issue 14's 80 MiB.
 * Everything else refers to these packages by type only.
 */

/** The relay and AutoNAT factories of an internet host. */
export interface InternetModules {
  readonly circuitRelayTransport: typeof import('@libp2p/circuit-relay-v2').circuitRelayTransport
  readonly circuitRelayServer: typeof import('@libp2p/circuit-relay-v2').circuitRelayServer
  readonly autoNAT: typeof import('@libp2p/autonat').autoNAT
}

/** Loads circuit relay v2 and AutoNAT (cached by the module loader after the first call). */
export async function loadInternetModules(): Promise<InternetModules> {
  const [relay, autonat] = await Promise.all([import('@libp2p/circuit-relay-v2'), import('@libp2p/autonat')])
  return {
    circuitRelayTransport: relay.circuitRelayTransport,
    circuitRelayServer: relay.circuitRelayServer,
    autoNAT: autonat.autoNAT
  }
}

/** `@libp2p/webrtc`'s transport factory. */
export type WebRTCFactory = typeof import('@libp2p/webrtc').webRTC

/** Loads `@libp2p/webrtc` (and with it node-datachannel's native binding). */
export async function loadWebRTC(): Promise<WebRTCFactory> {
  return (await import('@libp2p/webrtc')).webRTC
}
