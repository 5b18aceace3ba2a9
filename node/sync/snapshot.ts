import type { BookSnapshot, EpochParams, MatchableBid } from '../../protocol/matching/index.js'
import type { SyncSnapshots } from './book.js'
import type { PeerSnapshot } from './pull.js'

/**
 * Snapshot adoption rule (SYNC-11): a joiner adopts a peer's matching state only when at least
 * `minAgree` (default 2) of the peers it asked offered the identical snapshot — same closed
 * epoch, same chained digest, same set of resting bid ids. Among several agreeing groups the
 * largest wins, then the later epoch, then the smaller digest (every joiner decides alike).
 * Without agreement the node matches from its own view; its digests may differ from the
 * network's until the bids of the differing epochs have expired.
 */
export function chooseSnapshot(offers: readonly PeerSnapshot[], minAgree = 2): PeerSnapshot | undefined {
  const groups = new Map<string, PeerSnapshot[]>()
  for (const o of offers) {
    const k = `${o.key}|${o.closedEpoch}|${o.digest}|${o.resting.join(',')}`
    const g = groups.get(k)
    if (g === undefined) groups.set(k, [o])
    else g.push(o)
  }
  let best: PeerSnapshot[] | undefined
  for (const g of groups.values()) {
    if (g.length < minAgree) continue
    const a = g[0] as PeerSnapshot
    const b = best?.[0]
    if (
      best === undefined ||
      b === undefined ||
      g.length > best.length ||
      (g.length === best.length &&
        (a.closedEpoch > b.closedEpoch || (a.closedEpoch === b.closedEpoch && a.digest < b.digest)))
    )
      best = g
  }
  return best?.[0]
}

/**
 * The {@link BookSnapshot} of an agreed offer, with each resting bid taken from our own
 * validated copy (never from the responder's word); undefined when one is missing.
 */
export function buildSnapshot(offer: PeerSnapshot, snapshots: SyncSnapshots): BookSnapshot | undefined {
  const resting: MatchableBid[] = []
  for (const id of offer.resting) {
    const m = snapshots.matchable(offer.key, id)
    if (m === undefined) return undefined
    resting.push(m)
  }
  return { key: offer.key, closedEpoch: offer.closedEpoch, digest: offer.digest, resting }
}

/**
 * Wait before asking several peers for snapshots at once (SYNC-11): peers match epoch `e` at
 * `(e + 1) · epochMs + settleMs`, so asking half an epoch after such an instant gives every
 * peer the same closed epoch, whatever their small clock and scheduling differences.
 */
export function snapshotDelayMs(nowMs: number, params: EpochParams): number {
  const phase = (((nowMs - params.settleMs) % params.epochMs) + params.epochMs) % params.epochMs
  return (Math.floor(params.epochMs / 2) - phase + params.epochMs) % params.epochMs
}
