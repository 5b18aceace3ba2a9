import type { Bid } from '../bid/index.js'
import type { MatchableBid } from './types.js'

/** The matching engine's view of a validated bid (MATCH-3): side, price in smallest units, participant. */
export function matchableOf(bid: Bid): MatchableBid {
  return {
    id: bid.id,
    side: bid.type,
    price: bid.price.amount,
    createdMs: bid.createdMs,
    expiresMs: bid.expiresMs,
    participant: bid.address
  }
}
