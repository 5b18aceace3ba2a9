/**
 * The libp2p modules only some hosts need, loaded on first use: circuit relay v2 and AutoNAT
 * (internet hosts, NET-10 … NET-15) and WebRTC (`--webrtc`, DIRECT-4, whose native
 * node-datachannel binding alone maps ~20 MiB; idle RSS 81.8 MiB when every daemon loads it). A loopback daemon, the testnet's and most
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

/** Hosts of this process that use WebRTC and have not stopped. */
let webrtcHosts = 0

/**
 * Loads `@libp2p/webrtc` (and with it node-datachannel's native binding) for one more host; pair
 * it with {@link releaseWebRTC} when that host stops.
 */
export async function acquireWebRTC(): Promise<WebRTCFactory> {
  const { webRTC } = await import('@libp2p/webrtc')
  webrtcHosts++
  return webRTC
}

/**
 * A host that used WebRTC stopped. When it was the last one, node-datachannel's threads are
 * stopped (`cleanup()`; the library starts them again when it is next used): once loaded
 * with `import()`, they kept the process from exiting.
 */
export async function releaseWebRTC(): Promise<void> {
  if (webrtcHosts === 0) return
  webrtcHosts--
  if (webrtcHosts === 0) (await import('node-datachannel')).cleanup()
}
