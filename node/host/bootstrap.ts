import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from '../logger.js'
import type { NodeMetrics } from '../metrics.js'

/** Timing of {@link BootstrapDialer}. */
export interface BootstrapTiming {
  /** Deadline of one dial attempt, ms. */
  dialTimeoutMs: number
  /** First back-off after a failed dial, ms; doubles up to `maxBackoffMs`. */
  minBackoffMs: number
  /** Longest back-off between attempts, ms. */
  maxBackoffMs: number
}

/**
 * Defaults: a dial on a LAN or loopback completes in milliseconds; 10 s covers a slow WAN
 * handshake. Back-off 1 s doubling to 1 min keeps a dead bootstrap peer from costing more
 * than one dial a minute.
 */
export const DEFAULT_BOOTSTRAP_TIMING: BootstrapTiming = {
  dialTimeoutMs: 10_000,
  minBackoffMs: 1000,
  maxBackoffMs: 60_000
}

interface Target {
  readonly addr: Multiaddr
  peer: string | undefined
  connected: boolean
}

/**
 * Dials the configured `--bootstrap` multiaddrs at start and keeps them connected: when a
 * bootstrap peer disconnects (or a dial fails) it is dialled again with exponential back-off.
 * No public bootstrap list exists anywhere in bitwrk; only these addresses are dialled.
 */
export class BootstrapDialer {
  private readonly targets: Target[]
  private readonly stopController = new AbortController()
  private readonly loops: Promise<void>[] = []
  private readonly firstAttempts: Promise<void>[] = []
  private readonly timing: BootstrapTiming
  private readonly wake = new EventTarget()
  private readonly onDisconnect = (evt: CustomEvent<PeerId>): void => {
    const id = evt.detail.toString()
    for (const t of this.targets)
      if (t.peer === id) {
        t.connected = false
        this.wake.dispatchEvent(new Event('wake'))
      }
  }

  constructor(
    private readonly libp2p: Libp2p,
    addrs: Multiaddr[],
    private readonly log: Logger,
    private readonly metrics: NodeMetrics,
    timing: Partial<BootstrapTiming> = {}
  ) {
    this.timing = { ...DEFAULT_BOOTSTRAP_TIMING, ...timing }
    const self = libp2p.peerId.toString()
    // a node given its own address (a shared testnet list) would dial itself forever
    const others = addrs.filter((a) => a.getComponents().find((c) => c.name === 'p2p')?.value !== self)
    this.targets = others.map((addr) => ({
      addr,
      peer: addr.getComponents().find((c) => c.name === 'p2p')?.value,
      connected: false
    }))
  }

  /**
   * Starts one dial loop per address and resolves once every first attempt has settled or
   * `deadlineMs` has passed, whichever is first. Never throws: failures are logged and retried.
   */
  async start(deadlineMs: number): Promise<void> {
    if (this.targets.length === 0) return
    this.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
    for (const t of this.targets) {
      let first!: () => void
      this.firstAttempts.push(new Promise<void>((r) => (first = r)))
      this.loops.push(this.loop(t, first))
    }
    const deadline = AbortSignal.any([AbortSignal.timeout(deadlineMs), this.stopController.signal])
    await Promise.race([Promise.all(this.firstAttempts), abortPromise(deadline)])
  }

  /** Number of bootstrap addresses currently connected. */
  connectedCount(): number {
    return this.targets.filter((t) => t.connected).length
  }

  /** Stops all loops (pending dials are aborted). Idempotent; waits for the loops to end. */
  async stop(): Promise<void> {
    if (!this.stopController.signal.aborted) {
      this.stopController.abort()
      this.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
    }
    await Promise.all(this.loops)
  }

  private async loop(t: Target, first: () => void): Promise<void> {
    const stop = this.stopController.signal
    let backoff = this.timing.minBackoffMs
    while (!stop.aborted) {
      if (t.connected) {
        await this.sleepUntilWoken(stop)
        continue
      }
      try {
        const conn = await this.libp2p.dial(t.addr, {
          signal: AbortSignal.any([AbortSignal.timeout(this.timing.dialTimeoutMs), stop])
        })
        t.peer = conn.remotePeer.toString()
        t.connected = true
        backoff = this.timing.minBackoffMs
        this.metrics.bootstrapDials.inc({ outcome: 'ok' })
        this.log.debug({ addr: t.addr.toString() }, 'bootstrap peer connected')
      } catch (err) {
        if (stop.aborted) break
        this.metrics.bootstrapDials.inc({ outcome: 'error' })
        this.log.warn(
          { addr: t.addr.toString(), err: String(err), retryMs: backoff },
          'bootstrap dial failed'
        )
        first()
        await sleep(backoff, stop)
        backoff = Math.min(this.timing.maxBackoffMs, backoff * 2)
        continue
      }
      first()
    }
    first()
  }

  private sleepUntilWoken(stop: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.wake.removeEventListener('wake', done)
        stop.removeEventListener('abort', done)
        resolve()
      }
      this.wake.addEventListener('wake', done)
      stop.addEventListener('abort', done)
    })
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done)
  })
}

function abortPromise(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })
}
