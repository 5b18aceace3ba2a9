import { evictOldest } from '../../protocol/util/index.js'
/**
 * GOSSIP-12: a peer whose messages our validators reject until its GossipSub score is below
 * the graylist threshold is disconnected and refused for a while. GossipSub alone only
 * ignores a graylisted peer's RPCs, and it still has to decrypt, demultiplex and decode each
 * one first: measured in the `invalid-bid-flood` drill, a flooding peer kept costing the
 * honest nodes about 30 µs of CPU per message after it was graylisted.
 */

/**
 * GOSSIP-12: how long a graylisted peer is refused, ms. Four rejects put a peer at −160 and the
 * count halves every 10 min (GOSSIP-9): after 10 min it is back above the graylist threshold
 * and may reconnect; a peer that misbehaves again is banned again at once.
 */
export const DEFAULT_BAN_MS = 10 * 60_000

/** GOSSIP-12: most banned peers remembered; the oldest ban is forgotten first (bounded, invariant 10). */
export const MAX_BANNED_PEERS = 4096

/** Banned peers (base58 ids) with the time their ban ends. */
export class PeerBans {
  private readonly until = new Map<string, number>()

  constructor(
    private readonly now: () => number,
    private readonly banMs: number = DEFAULT_BAN_MS,
    private readonly maxEntries: number = MAX_BANNED_PEERS
  ) {}

  /** Bans `peer` from now for the ban time (a renewed ban starts again). */
  ban(peer: string): void {
    this.until.delete(peer)
    this.until.set(peer, this.now() + this.banMs)
    evictOldest(this.until, this.maxEntries)
  }

  /** True while `peer`'s ban lasts (an ended ban is forgotten here). */
  isBanned(peer: string): boolean {
    const t = this.until.get(peer)
    if (t === undefined) return false
    if (t > this.now()) return true
    this.until.delete(peer)
    return false
  }

  /** Peers banned now. */
  size(): number {
    for (const p of [...this.until.keys()]) this.isBanned(p)
    return this.until.size
  }
}
