import assert from 'node:assert/strict'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import {
  chainDigest,
  encodeEpochRecord,
  GENESIS_DIGEST,
  type MatchableBid,
  MatchCode,
  OrderBook
} from '../../protocol/matching/index.js'

const h = (s: string): string => bytesToHex(sha256(utf8ToBytes(s)))
const KEY = 'net.bitwrk/gorays/0:BTC'
/** 2025-11-24T16:00:00Z, an epoch boundary with the default 1 s epochs. */
const T0 = 1_764_000_000_000

/** The vector of protocol/spec/matching.md §"Test vector". */
const VECTOR_BIDS: [string, 'BUY' | 'SELL', bigint, number, string][] = [
  ['bid-a', 'BUY', 200_000n, 100, '1Alice'],
  ['bid-b', 'SELL', 100_000n, 200, '1Bob'],
  ['bid-c', 'SELL', 150_000n, 1_300, '1Carol'],
  ['bid-d', 'BUY', 180_000n, 1_400, '1Dave'],
  ['bid-e', 'SELL', 170_000n, 1_500, '1Erin'],
  ['bid-f', 'BUY', 175_000n, 1_600, '1Frank']
]
const RECORD_1 =
  '62697477726b2f6d617463682f31' +
  '0000000000000000000000000000000000000000000000000000000000000000' +
  '0017' +
  '6e65742e62697477726b2f676f726179732f303a425443' +
  '0000000069248100' +
  '00000001' +
  '2472b9de9bc552ad323a2f9a705e3003d620793479758cdf1bf6a60b2e4bca43' +
  '811a52f4fa435f9b1d2b7b98ed1ac14cd605ddbf8bfcf7808a46408ee950c9b5' +
  '0000000000030d40' +
  '00'
const DIGEST_1 = 'a2ab40dbd22aeae9af4aa33029e57f21adf457b57b091a8e5ce078e8041cd192'
const DIGEST_2 = '971bfda0ccbea65f164357cf57bba50178eb8f766d8c61be00023d49fc150e96'

/** The vector's parameters (matching.md): the defaults before issue 14 raised settleMs to 3 s. */
const VECTOR_PARAMS = { epochMs: 1000, settleMs: 1500 }

function vectorBook(): OrderBook {
  const book = new OrderBook(KEY, VECTOR_PARAMS)
  for (const [label, side, price, dt, participant] of VECTOR_BIDS) {
    const bid: MatchableBid = {
      id: h(label),
      side,
      price,
      createdMs: T0 + dt,
      expiresMs: T0 + dt + 120_000,
      participant
    }
    assert.equal(book.add(bid, T0).result, 'accept')
  }
  return book
}

describe('matching digest', () => {
  it('reproduces the spec test vector (records, digests, matches)', () => {
    const [r1, r2, ...rest] = vectorBook().advance(T0 + 3_500)
    assert.ok(r1 && r2)
    assert.equal(rest.length, 0)
    assert.equal(r1.epoch, 1_764_000_000)
    assert.ok(
      r2.matches.every((m) => m.matchedMs === T0 + 2_000 + 1_500),
      'epoch 1764000001 matches at T0 + 3500'
    )
    // MATCH-12: the match time is closesAt(epoch) = end + settleMs (1500 ms in the vector), the
    // transaction's matchedMs (TX-2) and market.md's vector (1764000002500), not the epoch's end
    assert.equal(r1.matches[0]?.matchedMs, T0 + 1_000 + 1_500, 'match time is closesAt(epoch)')
    assert.deepEqual(
      r1.matches.map((m) => [m.buyId, m.sellId, m.price, m.maker]),
      [[h('bid-a'), h('bid-b'), 200_000n, 'BUY']]
    )
    assert.deepEqual(
      r2.matches.map((m) => [m.buyId, m.sellId, m.price, m.maker, m.seq]),
      [
        [h('bid-d'), h('bid-c'), 150_000n, 'SELL', 0],
        [h('bid-f'), h('bid-e'), 170_000n, 'SELL', 1]
      ]
    )
    assert.equal(bytesToHex(encodeEpochRecord(GENESIS_DIGEST, KEY, r1.epoch, r1.matches)), RECORD_1)
    assert.equal(r1.digest, DIGEST_1)
    assert.equal(bytesToHex(sha256(hexToBytes(RECORD_1))), DIGEST_1)
    assert.equal(r2.digest, DIGEST_2)
    assert.equal(r2.digest, chainDigest(DIGEST_1, KEY, r2.epoch, r2.matches))
  })

  it('leaves the digest unchanged by an epoch without matches', () => {
    const book = vectorBook()
    book.advance(T0 + 3_500)
    book.add(
      {
        id: h('lonely'),
        side: 'BUY',
        price: 1n,
        createdMs: T0 + 5_000,
        expiresMs: T0 + 9_000,
        participant: '1Gina'
      },
      T0 + 5_000
    )
    const [r] = book.advance(T0 + 8_000)
    assert.ok(r)
    assert.deepEqual(r.matches, [])
    assert.deepEqual(r.rested, [h('lonely')])
    assert.equal(r.digest, DIGEST_2)
    assert.equal(book.digest, DIGEST_2)
  })

  it('binds the digest to the match key', () => {
    const [r] = vectorBook().advance(T0 + 2_600)
    assert.ok(r)
    assert.notEqual(chainDigest(GENESIS_DIGEST, 'other:BTC', r.epoch, r.matches), DIGEST_1)
  })

  it('refuses an empty match key', () => {
    assert.throws(() => new OrderBook(''), { code: MatchCode.BAD_PARAMS })
  })
})
