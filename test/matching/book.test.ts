import assert from 'node:assert/strict'
import {
  checkEpochParams,
  DEFAULT_EPOCH_PARAMS,
  epochClosesAtMs,
  epochEndMs,
  epochOf,
  expiryEpochOf,
  isLate,
  lastClosedEpoch,
  type MatchableBid,
  MatchCode,
  Matcher,
  OrderBook
} from '../../protocol/matching/index.js'
import { cx, idOf, mkBid } from './helpers.js'

const KEY = 'net.bitwrk/gorays/0:BTC'
/** The timings below were written for a 1.5 s settle delay (the default until issue 14). */
const P = { epochMs: 1000, settleMs: 1500 }

describe('matching epochs', () => {
  it('cuts time into epochs and closes each after the settle delay', () => {
    assert.deepEqual(DEFAULT_EPOCH_PARAMS, { epochMs: 1000, settleMs: 3000 })
    assert.equal(epochOf(0), 0)
    assert.equal(epochOf(999), 0)
    assert.equal(epochOf(1000), 1)
    assert.equal(epochEndMs(0), 1000)
    assert.equal(epochClosesAtMs(0), 4000)
    assert.equal(lastClosedEpoch(3999), -1)
    assert.equal(lastClosedEpoch(4000), 0)
    assert.equal(lastClosedEpoch(4999), 0)
    assert.equal(lastClosedEpoch(5000), 1)
    assert.equal(expiryEpochOf(1000), 0)
    assert.equal(expiryEpochOf(1001), 1)
    const p = { epochMs: 250, settleMs: 0 }
    assert.equal(epochOf(600, p), 2)
    assert.equal(epochClosesAtMs(2, p), 750)
  })

  it('calls a bid late from the moment its epoch may be matched', () => {
    assert.equal(isLate(999, 3999), false)
    assert.equal(isLate(999, 4000), true)
    assert.equal(isLate(1000, 4000), false)
    assert.equal(isLate(5000, 0), false, 'future bids are the validator’s business')
  })

  it('refuses bad epoch parameters', () => {
    for (const bad of [
      { epochMs: 0 },
      { epochMs: -1 },
      { epochMs: 1.5 },
      { settleMs: -1 },
      { settleMs: NaN }
    ])
      assert.throws(() => checkEpochParams(bad), { code: MatchCode.BAD_PARAMS })
    assert.deepEqual(checkEpochParams({ settleMs: 0 }), { epochMs: 1000, settleMs: 0 })
  })
})

describe('matching book', () => {
  it('ignores a bid whose epoch is closed by the clock or already matched', () => {
    const book = new OrderBook(KEY, P)
    assert.deepEqual(book.add(mkBid(1, 'BUY', 1, 0), 2500), { result: 'ignore', code: MatchCode.LATE })
    book.advance(5000)
    assert.equal(book.closedEpoch, 2)
    // The clock of this call went backwards, but epoch 2 is matched already.
    assert.deepEqual(book.add(mkBid(2, 'BUY', 1, 2999), 0), { result: 'ignore', code: MatchCode.LATE })
    assert.deepEqual(book.add(mkBid(3, 'BUY', 1, 3000), 0), { result: 'accept' })
  })

  it('ignores a second copy of a pending or resting bid', () => {
    const book = new OrderBook(KEY, P)
    const b = mkBid(1, 'BUY', 1, 0)
    assert.equal(book.add(b, 0).result, 'accept')
    assert.deepEqual(book.add(b, 0), { result: 'ignore', code: MatchCode.DUPLICATE })
    assert.equal(book.status(b.id, b.createdMs), 'pending')
    book.advance(2500)
    assert.equal(book.status(b.id, b.createdMs), 'resting')
    assert.equal(book.add(b, 2400).result, 'ignore')
  })

  it('throws MATCH_BAD_BID for bids that break MATCH-3', () => {
    const good = mkBid(1, 'BUY', 5, 0)
    const bad: [string, Partial<Record<keyof MatchableBid, unknown>>][] = [
      ['short id', { id: 'ab' }],
      ['upper-case id', { id: 'A'.repeat(64) }],
      ['side', { side: 'buy' }],
      ['number price', { price: 5 }],
      ['negative price', { price: -1n }],
      ['price 2^63', { price: 1n << 63n }],
      ['fractional time', { createdMs: 1.5 }],
      ['negative time', { createdMs: -1 }],
      ['NaN expiry', { expiresMs: NaN }],
      ['empty participant', { participant: '' }]
    ]
    const book = new OrderBook(KEY, P)
    for (const [what, patch] of bad)
      assert.throws(
        () => book.add({ ...good, ...patch } as MatchableBid, 0),
        { code: MatchCode.BAD_BID },
        what
      )
    assert.equal(book.add({ ...good, price: (1n << 63n) - 1n }, 0).result, 'accept')
    assert.throws(() => book.cancel({ bidId: 'xyz', bidCreatedMs: 0, createdMs: 0 }, 0), {
      code: MatchCode.BAD_BID
    })
  })

  it('emits results only for epochs where something happened', () => {
    const book = new OrderBook(KEY, P)
    book.add(mkBid(1, 'SELL', 100, 0, 'p1', 5_500), 0)
    book.add(mkBid(2, 'BUY', 50, 3_000), 0)
    const results = book.advance(20_000)
    assert.deepEqual(
      results.map((r) => [r.epoch, r.rested, r.expired]),
      [
        [0, [idOf(1)], []],
        [3, [idOf(2)], []],
        [5, [], [idOf(1)]]
      ]
    )
    assert.equal(book.closedEpoch, 17)
    assert.deepEqual(book.advance(20_000), [])
  })

  it('tells when the next epoch has work', () => {
    const book = new OrderBook(KEY, P)
    assert.equal(book.nextWorkAtMs(), undefined)
    book.add(mkBid(1, 'SELL', 100, 1_200, 'p1', 4_200), 0)
    assert.equal(book.nextWorkAtMs(), 3_500)
    book.advance(3_500)
    assert.equal(book.nextWorkAtMs(), epochClosesAtMs(expiryEpochOf(4_200, P), P))
    assert.equal(book.nextWorkAtMs(), 6_500)
    assert.deepEqual(book.advance(6_499), [])
    assert.deepEqual(book.advance(6_500)[0]?.expired, [idOf(1)])
    assert.equal(book.nextWorkAtMs(), undefined)
  })

  it('reports the best resting bid per side', () => {
    const book = new OrderBook(KEY, P)
    book.add(mkBid(1, 'SELL', 100, 0), 0)
    book.add(mkBid(2, 'SELL', 90, 10), 0)
    book.add(mkBid(3, 'BUY', 10, 10), 0)
    book.advance(2_500)
    assert.equal(book.best('SELL')?.id, idOf(2))
    assert.equal(book.best('BUY')?.id, idOf(3))
    assert.deepEqual(
      book.resting('SELL').map((b) => b.id),
      [idOf(2), idOf(1)]
    )
    assert.equal(book.restingCount, 3)
  })
})

describe('matching cancels', () => {
  it('removes a resting bid when the cancel’s epoch is matched', () => {
    const book = new OrderBook(KEY, P)
    book.add(mkBid(1, 'SELL', 100, 0, 'alice'), 0)
    book.advance(2_500)
    assert.equal(book.cancel(cx(1, 0, 1_100), 2_500).result, 'accept')
    assert.deepEqual(book.cancel(cx(1, 0, 1_100), 2_500), {
      result: 'ignore',
      code: MatchCode.DUPLICATE
    })
    // A BUY of the same epoch as the cancel no longer finds the SELL: cancels go first.
    book.add(mkBid(2, 'BUY', 200, 1_050, 'bob'), 2_500)
    const [r] = book.advance(3_500)
    assert.deepEqual(r?.cancelled, [idOf(1)])
    assert.deepEqual(r?.matches, [])
    assert.equal(book.status(idOf(1), 0), undefined)
  })

  it('cancels a pending bid of the same epoch before it can match', () => {
    const book = new OrderBook(KEY, P)
    book.add(mkBid(1, 'SELL', 100, 0), 0)
    book.add(mkBid(2, 'BUY', 200, 500), 0)
    book.cancel(cx(2, 500, 400), 0)
    const [r] = book.advance(2_500)
    assert.deepEqual(r?.cancelled, [idOf(2)])
    assert.deepEqual(r?.matches, [])
    assert.deepEqual(r?.rested, [idOf(1)])
    assert.equal(book.pendingCount, 0)
  })

  it('does nothing to a bid of a later epoch or to a matched bid', () => {
    const book = new OrderBook(KEY, P)
    book.add(mkBid(1, 'SELL', 100, 0), 0)
    book.add(mkBid(2, 'BUY', 200, 10), 0)
    book.add(mkBid(3, 'BUY', 200, 1_500), 0)
    book.cancel(cx(2, 10, 900), 0)
    book.cancel(cx(3, 1_500, 900), 0)
    book.cancel(cx(1, 0, 100), 0)
    const results = book.advance(5_000)
    assert.deepEqual(
      results.flatMap((r) => r.cancelled),
      [idOf(1), idOf(2)]
    )
    assert.deepEqual(
      book.resting('BUY').map((b) => b.id),
      [idOf(3)]
    )
  })

  it('does nothing when the cancel names another creation time for the bid', () => {
    const book = new OrderBook(KEY, P)
    book.add(mkBid(1, 'SELL', 100, 0), 0)
    assert.equal(book.cancel(cx(1, 1_000, 900), 0).result, 'accept')
    assert.equal(book.cancel(cx(1, 5, 900), 0).result, 'accept', 'a different target time is another cancel')
    const [r] = book.advance(2_500)
    assert.deepEqual(r?.cancelled, [])
    assert.equal(book.status(idOf(1), 0), 'resting')
  })

  it('counts a bid cancelled in the epoch it expires as cancelled', () => {
    const book = new OrderBook(KEY, P)
    book.add(mkBid(1, 'SELL', 100, 0, 'p1', 2_000), 0)
    book.cancel(cx(1, 0, 1_500), 0)
    const results = book.advance(5_000)
    assert.deepEqual(
      results.flatMap((r) => r.cancelled),
      [idOf(1)]
    )
    assert.deepEqual(
      results.flatMap((r) => r.expired),
      []
    )
  })

  it('ignores a late cancel', () => {
    const book = new OrderBook(KEY, P)
    assert.deepEqual(book.cancel(cx(1, 0, 0), 2_500), { result: 'ignore', code: MatchCode.LATE })
  })

  it('stays correct while most resting bids are cancelled (heap compaction)', () => {
    const book = new OrderBook(KEY, P)
    const n = 5_000
    for (let i = 0; i < n; i++) book.add(mkBid(i + 1, 'SELL', 1_000 + i, 0), 0)
    book.advance(2_500)
    for (let i = 0; i < n - 1; i++) book.cancel(cx(i + 1, 0, 1_000), 2_500)
    const [r1] = book.advance(3_500)
    assert.equal(r1?.cancelled.length, n - 1)
    assert.equal(book.restingCount, 1)
    book.add(mkBid(n + 1, 'BUY', 1_000_000, 2_000), 3_500)
    const [r2] = book.advance(4_500)
    assert.deepEqual(
      r2?.matches.map((m) => [m.sellId, m.price]),
      [[idOf(n), BigInt(1_000 + n - 1)]]
    )
    assert.equal(book.restingCount, 0)
    assert.equal(book.best('SELL'), undefined)
  })
})

describe('matching matcher', () => {
  it('keeps the books of different match keys apart', () => {
    const m = new Matcher(P)
    const btc = 'net.bitwrk/gorays/0:BTC'
    const eur = 'net.bitwrk/gorays/0:EUR'
    m.add(btc, mkBid(1, 'SELL', 100, 0), 0)
    m.add(eur, mkBid(2, 'BUY', 200, 10), 0)
    m.add(eur, mkBid(3, 'SELL', 150, 1_200), 0)
    assert.equal(m.nextWorkAtMs(), 2_500)
    const results = m.advance(5_000)
    assert.deepEqual(
      results.map((r) => [r.epoch, r.key, r.matches.length]),
      [
        [0, btc, 0],
        [0, eur, 0],
        [1, eur, 1]
      ]
    )
    assert.deepEqual(m.keys(), [btc, eur])
    assert.equal(m.book(btc).restingCount, 1)
    assert.equal(m.cancel(btc, cx(1, 0, 0), 5_000).result, 'ignore')
  })
})

describe('matching snapshots', () => {
  function busyBook(): OrderBook {
    const book = new OrderBook(KEY, P)
    book.add(mkBid(1, 'SELL', 100, 0, 'alice'), 0)
    book.add(mkBid(2, 'BUY', 150, 10, 'alice'), 0)
    book.add(mkBid(3, 'SELL', 160, 20, 'bob'), 0)
    book.add(mkBid(4, 'BUY', 130, 30, 'carol'), 0)
    book.add(mkBid(5, 'BUY', 90, 40, 'dave', 6_000), 0)
    book.advance(2_500)
    return book
  }

  it('restores a book that continues exactly like the original', () => {
    const a = busyBook()
    const snap = a.snapshot()
    assert.equal(snap.closedEpoch, 0)
    assert.notEqual(snap.digest, '0'.repeat(64))
    assert.deepEqual(
      snap.resting.map((b) => b.id),
      [idOf(2), idOf(5), idOf(3)]
    )
    const b = OrderBook.fromSnapshot(snap, P)
    assert.deepEqual(b.snapshot(), snap)
    for (const book of [a, b]) {
      book.add(mkBid(6, 'SELL', 80, 1_200, 'erin'), 2_500)
      book.add(mkBid(7, 'BUY', 100, 1_300, 'frank'), 2_500)
    }
    assert.deepEqual(b.advance(10_000), a.advance(10_000))
    assert.equal(b.digest, a.digest)
  })

  it('ignores bids of epochs the snapshot has closed', () => {
    const book = OrderBook.fromSnapshot(busyBook().snapshot(), P)
    assert.deepEqual(book.add(mkBid(9, 'BUY', 1, 500), 0), { result: 'ignore', code: MatchCode.LATE })
  })

  it('refuses inconsistent snapshots', () => {
    const good = busyBook().snapshot()
    const cases: [string, typeof good][] = [
      ['crossed', { ...good, resting: [...good.resting, mkBid(8, 'SELL', 140, 50, 'zed')] }],
      ['duplicate', { ...good, resting: [...good.resting, good.resting[0] as MatchableBid] }],
      ['open epoch', { ...good, resting: [...good.resting, mkBid(8, 'SELL', 999, 1_000, 'zed')] }],
      ['expired', { ...good, resting: [...good.resting, mkBid(8, 'SELL', 999, 50, 'zed', 1_000)] }],
      ['digest', { ...good, digest: 'xyz' }],
      ['closed epoch', { ...good, closedEpoch: -2 }]
    ]
    for (const [what, snap] of cases)
      assert.throws(() => OrderBook.fromSnapshot(snap, P), { code: MatchCode.BAD_SNAPSHOT }, what)
    // Crossed only between one participant's own bids is a valid book (MATCH-9).
    const own = { ...good, resting: [...good.resting, mkBid(8, 'SELL', 140, 50, 'alice')] }
    assert.equal(OrderBook.fromSnapshot(own, P).restingCount, 4)
  })

  it('refuses a clock that is not a number', () => {
    const book = new OrderBook(KEY, P)
    assert.throws(() => book.advance(Number.NaN), { code: MatchCode.BAD_PARAMS })
    assert.throws(() => book.add(mkBid(1, 'BUY', 1, 0), Number.NaN), { code: MatchCode.BAD_PARAMS })
  })
})
