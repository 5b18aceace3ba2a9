import type { EpochParams, MatchableBid, MatchableCancel } from '../../protocol/matching/index.js'

/** A cancel as the tests feed it. */
export type TestCancel = MatchableCancel

/** Outcome of the naive model: the matches as tuples and the final bid sets. */
export interface ModelOutcome {
  matches: [epoch: number, buyId: string, sellId: string, price: bigint][]
  resting: string[]
  expired: string[]
  cancelled: string[]
}

function canonical(a: MatchableBid, b: MatchableBid): number {
  if (a.createdMs !== b.createdMs) return a.createdMs - b.createdMs
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/** True when `a` has priority over `b` on the same side (MATCH-7), by plain bigint comparison. */
function better(a: MatchableBid, b: MatchableBid): boolean {
  if (a.price !== b.price) return a.side === 'BUY' ? a.price > b.price : a.price < b.price
  return canonical(a, b) < 0
}

/**
 * Independent O(n²) reading of protocol/spec/matching.md (no heaps, no number fast path): every
 * epoch up to `lastEpoch`, cancels first, then expiry, then incoming bids in canonical order,
 * each scanning the whole opposite side for the best crossing bid of another participant.
 */
export function naiveMatch(
  bids: readonly MatchableBid[],
  cancels: readonly TestCancel[],
  params: EpochParams,
  lastEpoch: number
): ModelOutcome {
  const epochOf = (ms: number): number => Math.floor(ms / params.epochMs)
  const out: ModelOutcome = { matches: [], resting: [], expired: [], cancelled: [] }
  let resting: MatchableBid[] = []
  const pending = new Map<string, MatchableBid>(bids.map((b) => [b.id, b]))
  for (let e = 0; e <= lastEpoch; e++) {
    const end = (e + 1) * params.epochMs
    for (const c of cancels) {
      if (epochOf(c.createdMs) !== e) continue
      const r = resting.find((b) => b.id === c.bidId && b.createdMs === c.bidCreatedMs)
      if (r) {
        resting = resting.filter((b) => b !== r)
        out.cancelled.push(r.id)
        continue
      }
      const p = pending.get(c.bidId)
      if (p && p.createdMs === c.bidCreatedMs && epochOf(p.createdMs) === e) {
        pending.delete(p.id)
        out.cancelled.push(p.id)
      }
    }
    for (const b of resting.filter((b) => b.expiresMs <= end)) out.expired.push(b.id)
    resting = resting.filter((b) => b.expiresMs > end)
    const incoming = [...pending.values()].filter((b) => epochOf(b.createdMs) === e).sort(canonical)
    for (const b of incoming) {
      pending.delete(b.id)
      if (b.expiresMs <= end) {
        out.expired.push(b.id)
        continue
      }
      let best: MatchableBid | undefined
      for (const r of resting) {
        if (r.side === b.side || r.participant === b.participant) continue
        const crosses = b.side === 'BUY' ? b.price >= r.price : r.price >= b.price
        if (crosses && (!best || better(r, best))) best = r
      }
      if (best) {
        const chosen = best
        resting = resting.filter((r) => r !== chosen)
        const [buy, sell] = b.side === 'BUY' ? [b, chosen] : [chosen, b]
        out.matches.push([e, buy.id, sell.id, chosen.price])
      } else resting.push(b)
    }
  }
  out.resting = resting.map((b) => b.id)
  return out
}
