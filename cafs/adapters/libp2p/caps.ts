/**
 * Inbound stream caps of one protocol per remote peer and over all peers (DESIGN.md invariant
 * 10; CHUNK-15, SYNC-14, TRADE-19). libp2p's `maxInboundStreams` counts per connection, and a
 * peer may hold several connections (and identities are free), so the services count streams
 * by peer id themselves.
 */

/** The caps of one protocol. */
export interface StreamCaps {
  /** Concurrent inbound streams of one remote peer, over all its connections. */
  readonly perPeer: number
  /** Concurrent inbound streams over all peers. */
  readonly total: number
}

/** Which cap refused a stream: the peer's or the protocol's. */
export type StreamCapScope = 'peer' | 'protocol'

/**
 * Why a protocol refused or cut an inbound stream, for metrics (a bounded label): its peer's
 * or the protocol's stream cap was full, the peer is over its invalid-request budget, or it
 * sent more than the step allows (XFER-23).
 */
export type StreamGuardReason = 'peer_cap' | 'protocol_cap' | 'budget' | 'overrun'

/**
 * Told of every inbound stream a protocol refused or cut, with the remote peer (never a metric
 * label): the node counts it and drops a peer that keeps opening streams over its budget.
 */
export type StreamRefusedHandler = (reason: StreamGuardReason, peer: string) => void

/** The metric label of a full cap. */
export function capReason(scope: StreamCapScope): StreamGuardReason {
  return scope === 'peer' ? 'peer_cap' : 'protocol_cap'
}

/** Counts the open inbound streams of one protocol; at most `total` peers are tracked. */
export class InboundStreamCaps {
  private readonly perPeer = new Map<string, number>()
  private open = 0

  constructor(readonly caps: StreamCaps) {}

  /**
   * Takes a slot for a stream of `peer`: a release function (idempotent), or the scope of the
   * cap that is full. A `reserved` stream (one the protocol expects, e.g. from the buyer of a
   * transaction being sold) is held to the per-peer cap only: strangers cannot crowd it out.
   */
  take(peer: string, reserved = false): (() => void) | StreamCapScope {
    const mine = this.perPeer.get(peer) ?? 0
    if (mine >= this.caps.perPeer) return 'peer'
    if (!reserved && this.open >= this.caps.total) return 'protocol'
    this.perPeer.set(peer, mine + 1)
    this.open++
    let released = false
    return () => {
      if (released) return
      released = true
      this.open--
      const n = (this.perPeer.get(peer) ?? 1) - 1
      if (n <= 0) this.perPeer.delete(peer)
      else this.perPeer.set(peer, n)
    }
  }

  /** Open streams of `peer`, or of all peers without an argument. */
  count(peer?: string): number {
    return peer === undefined ? this.open : (this.perPeer.get(peer) ?? 0)
  }
}
