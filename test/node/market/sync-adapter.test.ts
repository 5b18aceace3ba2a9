import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import { BidBook, createMarketMetrics, silentLogger } from '../../../node/index.js'
import { bookSyncAdapters } from '../../../node/market/sync-adapter.js'
import { type Bid, encodeSigned, randomBidNonce, signBid } from '../../../protocol/bid/index.js'
import type { Identity } from '../../../protocol/identity/index.js'
import { epochClosesAtMs, epochOf } from '../../../protocol/matching/index.js'
import { money } from '../../../protocol/money/index.js'
import { ARTICLE, newIdentity, PARAMS, random } from './helpers.js'

const T0 = 1_764_000_000_000
const KEY = `${ARTICLE}:BTC`

function book(): BidBook {
  const b = new BidBook({
    params: PARAMS,
    maxClockSkewMs: 2000,
    maxBids: 100,
    maxBidsPerParticipant: 10,
    metrics: createMarketMetrics(new Registry()),
    logger: silentLogger()
  })
  b.follow(ARTICLE)
  return b
}

function bid(who: Identity, side: 'BUY' | 'SELL', price: bigint, createdMs: number): Bid {
  return signBid(who, {
    article: ARTICLE,
    type: side,
    price: money('BTC', price),
    nonce: randomBidNonce(random),
    createdMs,
    expiresMs: createdMs + 100_000
  })
}

describe('node/market/sync-adapter (book sync adapters)', () => {
  it('lets a late joiner pull the live bids and the snapshot and then match like the network', () => {
    const old = book()
    const resting = [bid(newIdentity(), 'SELL', 300n, T0), bid(newIdentity(), 'BUY', 100n, T0 + 1)]
    for (const b of resting) old.addBidBytes(encodeSigned(b), T0 + 5, ARTICLE)
    const closed = epochClosesAtMs(epochOf(T0, PARAMS), PARAMS)
    old.advance(closed)

    // The joiner arrives later: gossip would call these bids late; sync holds them.
    const now = closed + 5000
    const joiner = book()
    const from = bookSyncAdapters(old, { maxClockSkewMs: 2000, clock: () => now })
    const to = bookSyncAdapters(joiner, { maxClockSkewMs: 2000, clock: () => now })
    for (const e of from.book.liveBids(ARTICLE, now))
      assert.deepEqual(to.book.addBid(ARTICLE, e.bytes, now), { result: 'accept' })
    assert.deepEqual(to.book.addBid(ARTICLE, encodeSigned(resting[0] as Bid), now), {
      result: 'ignore',
      code: 'BID_DUPLICATE'
    })
    assert.deepEqual(from.snapshots.keys(ARTICLE), [KEY])
    const snap = from.snapshots.snapshot(KEY)
    assert.ok(snap !== undefined)
    for (const m of snap.resting) assert.deepEqual(to.snapshots.matchable(KEY, m.id), m)
    to.snapshots.adopt(snap)
    assert.equal(joiner.matcher.book(KEY).digest, old.matcher.book(KEY).digest)
    assert.deepEqual(
      joiner.liveBids(ARTICLE).map((l) => l.bid.id),
      old.liveBids(ARTICLE).map((l) => l.bid.id)
    )

    // A crossing bid now matches identically on both books.
    const taker = bid(newIdentity(), 'BUY', 400n, now)
    for (const b of [old, joiner])
      assert.equal(b.addBidBytes(encodeSigned(taker), now + 5, ARTICLE).result, 'accept')
    const at = epochClosesAtMs(epochOf(now, PARAMS), PARAMS)
    const [a] = old.advance(at)
    const [b] = joiner.advance(at)
    assert.equal(a?.matches[0]?.sell.bid.id, resting[0]?.id)
    assert.equal(b?.result.digest, a?.result.digest)
  })

  it('refuses a snapshot that names a bid the joiner does not hold', () => {
    const old = book()
    old.addBidBytes(encodeSigned(bid(newIdentity(), 'SELL', 300n, T0)), T0 + 5, ARTICLE)
    old.advance(epochClosesAtMs(epochOf(T0, PARAMS), PARAMS))
    const snap = old.matcher.book(KEY).snapshot()
    const to = bookSyncAdapters(book(), { maxClockSkewMs: 2000, clock: () => T0 + 10_000 })
    assert.throws(() => to.snapshots.adopt(snap), { code: 'MATCH_BAD_SNAPSHOT' })
  })
})
