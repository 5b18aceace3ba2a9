import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import { BidBook, BookCode, createMarketMetrics, silentLogger } from '../../../node/index.js'
import { type Bid, encodeSigned, randomBidNonce, signBid, signCancel } from '../../../protocol/bid/index.js'
import type { Identity } from '../../../protocol/identity/index.js'
import { epochClosesAtMs, epochOf } from '../../../protocol/matching/index.js'
import { money } from '../../../protocol/money/index.js'
import { ARTICLE, count, newIdentity, PARAMS, random } from './helpers.js'

const T0 = 1_764_000_000_000

function book(limits: { maxBids?: number; maxBidsPerParticipant?: number } = {}): BidBook {
  const b = new BidBook({
    params: PARAMS,
    maxClockSkewMs: 2000,
    maxBids: limits.maxBids ?? 100,
    maxBidsPerParticipant: limits.maxBidsPerParticipant ?? 10,
    metrics: createMarketMetrics(new Registry()),
    logger: silentLogger()
  })
  b.follow(ARTICLE)
  return b
}

function bid(who: Identity, side: 'BUY' | 'SELL', price: bigint, createdMs = T0, article = ARTICLE): Bid {
  return signBid(who, {
    article,
    type: side,
    price: money('BTC', price),
    nonce: randomBidNonce(random),
    createdMs,
    expiresMs: createdMs + 60_000
  })
}

describe('node/market/book', () => {
  it('admits valid bids once and ignores duplicates and unfollowed articles', () => {
    const b = book()
    const x = bid(newIdentity(), 'SELL', 100n)
    assert.deepEqual(b.addBidBytes(encodeSigned(x), T0 + 10, ARTICLE), { result: 'accept', bid: x })
    assert.deepEqual(b.addBidBytes(encodeSigned(x), T0 + 20, ARTICLE), {
      result: 'ignore',
      code: 'BID_DUPLICATE'
    })
    const other = bid(newIdentity(), 'SELL', 100n, T0, 'net.bitwrk/other/0')
    assert.deepEqual(b.addBidBytes(encodeSigned(other), T0 + 10), {
      result: 'ignore',
      code: BookCode.NOT_FOLLOWED
    })
    assert.equal(b.size, 1)
  })

  it('rejects a bid on another article topic', () => {
    const b = book()
    b.follow('net.bitwrk/other/0')
    const other = bid(newIdentity(), 'SELL', 100n, T0, 'net.bitwrk/other/0')
    assert.deepEqual(b.addBidBytes(encodeSigned(other), T0 + 10, ARTICLE), {
      result: 'reject',
      code: BookCode.WRONG_TOPIC
    })
  })

  it('bounds the book and each participant with an ignore code and a metric', async () => {
    const metrics = createMarketMetrics(new Registry())
    const b = new BidBook({
      params: PARAMS,
      maxClockSkewMs: 2000,
      maxBids: 3,
      maxBidsPerParticipant: 2,
      metrics,
      logger: silentLogger()
    })
    b.follow(ARTICLE)
    const p = newIdentity()
    const add = (x: Bid) => b.addBidBytes(encodeSigned(x), T0 + 10, ARTICLE)
    assert.equal(add(bid(p, 'SELL', 100n)).result, 'accept')
    assert.equal(add(bid(p, 'SELL', 101n)).result, 'accept')
    assert.deepEqual(add(bid(p, 'SELL', 102n)), { result: 'ignore', code: BookCode.PARTICIPANT_LIMIT })
    assert.equal(add(bid(newIdentity(), 'SELL', 103n)).result, 'accept')
    assert.deepEqual(add(bid(newIdentity(), 'SELL', 104n)), { result: 'ignore', code: BookCode.FULL })
    assert.equal(await count(metrics.bids, { result: 'ignore', code: BookCode.FULL }), 1)
    assert.equal((await metrics.bookSize.get()).values[0]?.value, 3)
  })

  it('applies a signed cancel of the bidder at its epoch and refuses one of someone else', () => {
    const b = book()
    const p = newIdentity()
    const x = bid(p, 'SELL', 100n)
    b.addBidBytes(encodeSigned(x), T0 + 10, ARTICLE)
    const forged = signCancel(newIdentity(), { bidId: x.id, createdMs: T0 + 20 })
    assert.deepEqual(b.addBidBytes(encodeSigned(forged), T0 + 30, ARTICLE), {
      result: 'reject',
      code: BookCode.NOT_OWNER
    })
    const cancel = signCancel(p, { bidId: x.id, createdMs: T0 + 20 })
    assert.equal(b.addBidBytes(encodeSigned(cancel), T0 + 30, ARTICLE).result, 'accept')
    const results = b.advance(epochClosesAtMs(epochOf(T0 + 20, PARAMS), PARAMS))
    assert.deepEqual(
      results.flatMap((r) => r.result.cancelled),
      [x.id]
    )
    assert.equal(b.get(x.id), undefined)
    const unknown = signCancel(p, { bidId: x.id, createdMs: T0 + 300 })
    assert.deepEqual(b.addBidBytes(encodeSigned(unknown), T0 + 310, ARTICLE), {
      result: 'ignore',
      code: BookCode.UNKNOWN_BID
    })
  })

  it('hands matched bids out with the match and forgets them', () => {
    const b = book()
    const s = bid(newIdentity(), 'SELL', 100n, T0)
    const y = bid(newIdentity(), 'BUY', 150n, T0 + 5)
    b.addBidBytes(encodeSigned(s), T0 + 10, ARTICLE)
    b.addBidBytes(encodeSigned(y), T0 + 10, ARTICLE)
    const [e] = b.advance(epochClosesAtMs(epochOf(T0, PARAMS), PARAMS))
    assert.equal(e?.article, ARTICLE)
    assert.equal(e?.matches.length, 1)
    assert.equal(e?.matches[0]?.buy.bid.id, y.id)
    assert.equal(e?.matches[0]?.sell.bid.id, s.id)
    assert.equal(e?.matches[0]?.match.price, 100n)
    assert.equal(b.size, 0)
  })

  it('serves its live set for sync: same bids, same digest, whatever the order', () => {
    const one = book()
    const two = book()
    const bids = [
      bid(newIdentity(), 'SELL', 300n),
      bid(newIdentity(), 'BUY', 100n),
      bid(newIdentity(), 'SELL', 200n)
    ]
    for (const x of bids) one.addBidBytes(encodeSigned(x), T0 + 10, ARTICLE)
    // the joiner pulls the live bytes and offers them through the same validation
    for (const l of one.liveBids(ARTICLE).reverse())
      assert.equal(two.addBidBytes(l.bytes, T0 + 20, ARTICLE).result, 'accept')
    assert.equal(two.liveDigest(ARTICLE), one.liveDigest(ARTICLE))
    assert.notEqual(book().liveDigest(ARTICLE), one.liveDigest(ARTICLE))
  })
})
