import assert from 'node:assert/strict'
import { type MatchableBid, OrderBook, type Side } from '../../protocol/matching/index.js'
import { idOf, mkBid } from './helpers.js'

const KEY = 'net.bitwrk/gorays/0:BTC'
/** Late enough that every epoch of the table's bids is matched (default params). */
const LATER = 10_000
const P62 = 1n << 62n
const P53 = 1n << 53n

interface Case {
  name: string
  bids: MatchableBid[]
  /** Expected matches in order: [buy n, sell n, price, maker]. */
  matches: [number, number, bigint, Side][]
  /** Expected resting bids (numbers), any order. */
  resting: number[]
  /** Expected expired bids, any order. */
  expired?: number[]
  /** When to advance (default LATER). */
  nowMs?: number
}

const CASES: Case[] = [
  {
    name: 'earlier BUY 200 + later SELL 100 trade at 200 (CONCEPTS)',
    bids: [mkBid(1, 'BUY', 200, 0), mkBid(2, 'SELL', 100, 10)],
    matches: [[1, 2, 200n, 'BUY']],
    resting: []
  },
  {
    name: 'earlier SELL 100 + later BUY 200 trade at 100 (CONCEPTS)',
    bids: [mkBid(1, 'SELL', 100, 0), mkBid(2, 'BUY', 200, 10)],
    matches: [[2, 1, 100n, 'SELL']],
    resting: []
  },
  {
    name: 'BUY 100 vs SELL 200 do not trade (CONCEPTS)',
    bids: [mkBid(1, 'BUY', 100, 0), mkBid(2, 'SELL', 200, 10)],
    matches: [],
    resting: [1, 2]
  },
  {
    name: 'equal prices trade at that price',
    bids: [mkBid(1, 'SELL', 150, 0), mkBid(2, 'BUY', 150, 10)],
    matches: [[2, 1, 150n, 'SELL']],
    resting: []
  },
  {
    name: 'zero prices trade (free work)',
    bids: [mkBid(1, 'BUY', 0, 0), mkBid(2, 'SELL', 0, 10)],
    matches: [[1, 2, 0n, 'BUY']],
    resting: []
  },
  {
    name: 'same created time: the smaller id is processed first and sets the price',
    bids: [mkBid(2, 'BUY', 200, 500), mkBid(1, 'SELL', 100, 500)],
    matches: [[2, 1, 100n, 'SELL']],
    resting: []
  },
  {
    name: 'same price and created time: the resting bid with the smaller id is taken',
    bids: [mkBid(7, 'SELL', 100, 0), mkBid(5, 'SELL', 100, 0), mkBid(9, 'BUY', 100, 10)],
    matches: [[9, 5, 100n, 'SELL']],
    resting: [7]
  },
  {
    name: 'same price: the earlier created resting bid is taken before a smaller id',
    bids: [mkBid(7, 'SELL', 100, 0), mkBid(5, 'SELL', 100, 1), mkBid(9, 'BUY', 100, 10)],
    matches: [[9, 7, 100n, 'SELL']],
    resting: [5]
  },
  {
    name: 'better price beats earlier time',
    bids: [mkBid(1, 'SELL', 110, 0), mkBid(2, 'SELL', 100, 50), mkBid(3, 'BUY', 200, 100)],
    matches: [[3, 2, 100n, 'SELL']],
    resting: [1]
  },
  {
    name: 'a BUY takes the highest resting BUY side first when a SELL arrives',
    bids: [mkBid(1, 'BUY', 120, 0), mkBid(2, 'BUY', 130, 5), mkBid(3, 'SELL', 100, 10)],
    matches: [[2, 3, 130n, 'BUY']],
    resting: [1]
  },
  {
    name: 'self-trade: own resting SELL is passed over and stays resting',
    bids: [
      mkBid(1, 'SELL', 100, 0, 'alice'),
      mkBid(2, 'SELL', 120, 5, 'bob'),
      mkBid(3, 'BUY', 150, 10, 'alice')
    ],
    matches: [[3, 2, 120n, 'SELL']],
    resting: [1]
  },
  {
    name: 'self-trade only: crossed bids of one participant both rest',
    bids: [mkBid(1, 'SELL', 100, 0, 'alice'), mkBid(2, 'BUY', 150, 10, 'alice')],
    matches: [],
    resting: [1, 2]
  },
  {
    name: 'self-trade: passed-over bid still trades with a later other participant',
    bids: [
      mkBid(1, 'SELL', 100, 0, 'alice'),
      mkBid(2, 'BUY', 150, 10, 'alice'),
      mkBid(3, 'BUY', 100, 20, 'bob'),
      mkBid(4, 'SELL', 140, 30, 'carol')
    ],
    matches: [
      [3, 1, 100n, 'SELL'],
      [2, 4, 150n, 'BUY']
    ],
    resting: []
  },
  {
    name: 'partial depth walk: each BUY takes the next best SELL until none crosses',
    bids: [
      mkBid(1, 'SELL', 100, 0),
      mkBid(2, 'SELL', 110, 1),
      mkBid(3, 'SELL', 120, 2),
      mkBid(4, 'BUY', 115, 10),
      mkBid(5, 'BUY', 115, 11),
      mkBid(6, 'BUY', 115, 12)
    ],
    matches: [
      [4, 1, 100n, 'SELL'],
      [5, 2, 110n, 'SELL']
    ],
    resting: [3, 6]
  },
  {
    name: 'a bid is matched at most once',
    bids: [mkBid(1, 'SELL', 100, 0), mkBid(2, 'BUY', 200, 10), mkBid(3, 'BUY', 200, 20)],
    matches: [[2, 1, 100n, 'SELL']],
    resting: [3]
  },
  {
    name: 'cross-epoch resting: a SELL of epoch 0 trades with a BUY of epoch 3',
    bids: [mkBid(1, 'SELL', 100, 0), mkBid(2, 'BUY', 150, 3_500)],
    matches: [[2, 1, 100n, 'SELL']],
    resting: []
  },
  {
    name: 'expiry: a bid expiring at its epoch end never enters the book',
    bids: [mkBid(1, 'SELL', 100, 0, 'p1', 1_000), mkBid(2, 'BUY', 150, 10)],
    matches: [],
    resting: [2],
    expired: [1]
  },
  {
    name: 'expiry: a resting bid expiring at or before the epoch end is dropped before matching',
    bids: [mkBid(1, 'SELL', 100, 0, 'p1', 2_000), mkBid(2, 'BUY', 150, 1_200)],
    matches: [],
    resting: [2],
    expired: [1]
  },
  {
    name: 'expiry: a resting bid live past the epoch end still trades',
    bids: [mkBid(1, 'SELL', 100, 0, 'p1', 2_001), mkBid(2, 'BUY', 150, 1_200)],
    matches: [[2, 1, 100n, 'SELL']],
    resting: []
  },
  {
    name: 'prices above 2^53 compare exactly (no match one unit apart)',
    bids: [mkBid(1, 'BUY', P62 + 1n, 0), mkBid(2, 'SELL', P62 + 2n, 10), mkBid(3, 'SELL', P53 + 1n, 20)],
    matches: [[1, 3, P62 + 1n, 'BUY']],
    resting: [2]
  },
  {
    name: 'prices above 2^53 that round to one double keep exact priority',
    bids: [mkBid(1, 'SELL', P53 + 1n, 0), mkBid(2, 'SELL', P53, 5), mkBid(3, 'BUY', P53, 10)],
    matches: [[3, 2, P53, 'SELL']],
    resting: [1]
  }
]

describe('matching price rules', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const book = new OrderBook(KEY)
      for (const b of c.bids) assert.deepEqual(book.add(b, 0), { result: 'accept' })
      const results = book.advance(c.nowMs ?? LATER)
      const matches = results.flatMap((r) => r.matches)
      assert.deepEqual(
        matches.map((m) => [m.buyId, m.sellId, m.price, m.maker]),
        c.matches.map(([b, s, p, mk]) => [idOf(b), idOf(s), p, mk])
      )
      const resting = [...book.resting('BUY'), ...book.resting('SELL')].map((b) => b.id).sort()
      assert.deepEqual(resting, c.resting.map(idOf).sort())
      assert.deepEqual(results.flatMap((r) => r.expired).sort(), (c.expired ?? []).map(idOf).sort())
    })
  }
})
