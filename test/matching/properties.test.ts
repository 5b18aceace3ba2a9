import assert from 'node:assert/strict'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import {
  type EpochParams,
  type EpochResult,
  epochClosesAtMs,
  epochOf,
  type MatchableBid,
  Matcher,
  type OrderBook
} from '../../protocol/matching/index.js'
import { prng, serialize } from './helpers.js'
import { naiveMatch, type TestCancel } from './model.js'

const PARAMS: EpochParams = { epochMs: 1000, settleMs: 1500 }
const KEYS = ['a/0:BTC', 'b/0:BTC'] as const
/** After every epoch of the generated bids and cancels is closed (created < 9 s). */
const FINAL_MS = 12_000
const P62 = 1n << 62n

interface Scenario {
  bids: { key: string; bid: MatchableBid }[]
  cancels: { key: string; cancel: TestCancel }[]
}

/** Small books with many ties: few participants, few prices, created times on a 100 ms grid. */
const scenarioArb: fc.Arbitrary<Scenario> = fc
  .array(
    fc.record({
      key: fc.constantFrom(...KEYS),
      side: fc.constantFrom('BUY' as const, 'SELL' as const),
      price: fc.oneof(
        { weight: 9, arbitrary: fc.bigInt(0n, 8n) },
        { weight: 1, arbitrary: fc.bigInt(P62, P62 + 3n) }
      ),
      created: fc.integer({ min: 0, max: 59 }).map((t) => t * 100),
      lifetime: fc.oneof(fc.integer({ min: 0, max: 4000 }), fc.constant(120_000)),
      participant: fc.constantFrom('p1', 'p2', 'p3', 'p4'),
      cancelAfter: fc.option(fc.integer({ min: 0, max: 3000 }), { freq: 5 }),
      // Now and then a cancel names a wrong creation time for its bid: it must do nothing.
      cancelSkew: fc.constantFrom(0, 0, 0, 0, 0, 0, 0, 1000)
    }),
    { minLength: 1, maxLength: 40 }
  )
  .map((rows) => {
    const s: Scenario = { bids: [], cancels: [] }
    rows.forEach((r, i) => {
      const id = bytesToHex(sha256(utf8ToBytes(`bid-${i}`)))
      s.bids.push({
        key: r.key,
        bid: {
          id,
          side: r.side,
          price: r.price,
          createdMs: r.created,
          expiresMs: r.created + r.lifetime,
          participant: r.participant
        }
      })
      if (r.cancelAfter !== null)
        s.cancels.push({
          key: r.key,
          cancel: { bidId: id, bidCreatedMs: r.created + r.cancelSkew, createdMs: r.created + r.cancelAfter }
        })
    })
    return s
  })

/** Feeds everything at time 0, then advances once: the reference output. */
function reference(s: Scenario): { results: EpochResult[]; matcher: Matcher } {
  const m = new Matcher(PARAMS)
  for (const k of KEYS) m.book(k)
  for (const { key, bid } of s.bids) assert.equal(m.add(key, bid, 0).result, 'accept')
  for (const { key, cancel } of s.cancels) m.cancel(key, cancel, 0)
  return { results: m.advance(FINAL_MS), matcher: m }
}

type Event = { at: number; tie: number; run: (m: Matcher, now: number) => void }

/**
 * Delivers every bid and cancel at a random time before its epoch closes (so epochs interleave),
 * in a random order among equal times, some twice (gossip duplicates), advancing the clock
 * before every delivery; returns the concatenated results and checks the book on the way.
 */
function simulate(s: Scenario, seed: number, onAdvance?: (m: Matcher) => void): EpochResult[] {
  const rnd = prng(seed)
  const events: Event[] = []
  const arrival = (createdMs: number): number =>
    Math.floor(rnd() * epochClosesAtMs(epochOf(createdMs, PARAMS), PARAMS))
  for (const { key, bid } of s.bids) {
    const copies = rnd() < 0.2 ? 2 : 1
    let delivered = false
    for (let c = 0; c < copies; c++)
      events.push({
        at: arrival(bid.createdMs),
        tie: rnd(),
        run: (m, now) => {
          // The first delivery is accepted, a repeat is ignored (duplicate, or late once closed).
          assert.equal(m.add(key, bid, now).result, delivered ? 'ignore' : 'accept')
          delivered = true
        }
      })
  }
  for (const { key, cancel } of s.cancels)
    events.push({
      at: arrival(cancel.createdMs),
      tie: rnd(),
      run: (m, now) => {
        m.cancel(key, cancel, now)
      }
    })
  events.sort((a, b) => a.at - b.at || a.tie - b.tie)
  const m = new Matcher(PARAMS)
  for (const k of KEYS) m.book(k)
  const out: EpochResult[] = []
  for (const ev of events) {
    out.push(...m.advance(ev.at))
    onAdvance?.(m)
    ev.run(m, ev.at)
  }
  out.push(...m.advance(FINAL_MS))
  onAdvance?.(m)
  // Matcher.advance sorts one call's results by (epoch, key); across calls each key stays ordered.
  return out
}

/** Results per key, in order: the arrival-independent view (one chain per book). */
function perKey(results: readonly EpochResult[]): string {
  return KEYS.map((k) => serialize(results.filter((r) => r.key === k))).join('\n')
}

function assertNotCrossed(book: OrderBook): void {
  const buys = book.resting('BUY')
  const sells = book.resting('SELL')
  for (const b of buys)
    for (const s of sells)
      if (b.participant !== s.participant)
        assert.ok(b.price < s.price, `crossed book: buy ${b.price} >= sell ${s.price}`)
}

describe('matching properties', () => {
  it('gives byte-identical results for any arrival order (100 scenarios x 10 shuffles)', () => {
    fc.assert(
      fc.property(scenarioArb, fc.array(fc.integer(), { minLength: 10, maxLength: 10 }), (s, seeds) => {
        const ref = perKey(reference(s).results)
        for (const seed of seeds) assert.equal(perKey(simulate(s, seed)), ref)
      }),
      { numRuns: 100 }
    )
  })

  it('never leaves the book crossed between different participants after an epoch', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer(), (s, seed) => {
        simulate(s, seed, (m) => {
          for (const k of KEYS) assertNotCrossed(m.book(k))
        })
      }),
      { numRuns: 200 }
    )
  })

  it('pairs each bid at most once, a BUY with a SELL of the same key at the resting price', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const byId = new Map(s.bids.map((x) => [x.bid.id, x]))
        const seen = new Set<string>()
        for (const r of reference(s).results)
          for (const m of r.matches) {
            for (const id of [m.buyId, m.sellId]) {
              assert.ok(!seen.has(id), 'bid matched twice')
              seen.add(id)
            }
            const buy = byId.get(m.buyId)
            const sell = byId.get(m.sellId)
            assert.ok(buy && sell)
            assert.equal(buy.bid.side, 'BUY')
            assert.equal(sell.bid.side, 'SELL')
            assert.equal(buy.key, r.key)
            assert.equal(sell.key, r.key)
            assert.ok(buy.bid.price >= sell.bid.price)
            assert.notEqual(buy.bid.participant, sell.bid.participant)
            const maker = m.maker === 'BUY' ? buy.bid : sell.bid
            const taker = m.maker === 'BUY' ? sell.bid : buy.bid
            assert.equal(m.price, maker.price)
            assert.ok(
              maker.createdMs < taker.createdMs ||
                (maker.createdMs === taker.createdMs && maker.id < taker.id),
              'the resting bid is the earlier one'
            )
          }
      }),
      { numRuns: 300 }
    )
  })

  it('accounts for every bid exactly once: matched, resting, expired or cancelled', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { results, matcher } = reference(s)
        const seen = new Map<string, string>()
        const put = (id: string, what: string): void => {
          assert.equal(seen.get(id), undefined, `${id} is ${seen.get(id)} and ${what}`)
          seen.set(id, what)
        }
        for (const r of results) {
          for (const m of r.matches) {
            put(m.buyId, 'matched')
            put(m.sellId, 'matched')
          }
          for (const id of r.expired) put(id, 'expired')
          for (const id of r.cancelled) put(id, 'cancelled')
        }
        for (const k of KEYS) {
          const book = matcher.book(k)
          assert.equal(book.pendingCount, 0)
          for (const b of [...book.resting('BUY'), ...book.resting('SELL')]) put(b.id, 'resting')
          assert.equal(book.restingCount, book.resting('BUY').length + book.resting('SELL').length)
        }
        assert.deepEqual([...seen.keys()].sort(), s.bids.map((x) => x.bid.id).sort())
      }),
      { numRuns: 300 }
    )
  })

  it('continues identically from a snapshot taken at any epoch (late joiner, restart)', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 0, max: 7 }), (s, cutEpoch) => {
        const cutMs = cutEpoch * PARAMS.epochMs
        const atCut = cutMs + PARAMS.settleMs // closes exactly the epochs before cutEpoch
        const feed = (m: Matcher, before: boolean, now: number): void => {
          for (const { key, bid } of s.bids) if (bid.createdMs < cutMs === before) m.add(key, bid, now)
          for (const { key, cancel } of s.cancels)
            if (cancel.createdMs < cutMs === before) m.cancel(key, cancel, now)
        }
        const original = new Matcher(PARAMS)
        for (const k of KEYS) original.book(k)
        feed(original, true, 0)
        const first = original.advance(atCut)
        const restored = new Matcher(PARAMS)
        for (const k of KEYS) restored.restore(original.book(k).snapshot())
        feed(original, false, atCut)
        feed(restored, false, atCut)
        const rest = original.advance(FINAL_MS)
        assert.equal(serialize(restored.advance(FINAL_MS)), serialize(rest))
        assert.equal(perKey([...first, ...rest]), perKey(reference(s).results))
      }),
      { numRuns: 200 }
    )
  })

  it('agrees with an independent O(n^2) model of the rules', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { results, matcher } = reference(s)
        for (const k of KEYS) {
          const model = naiveMatch(
            s.bids.filter((x) => x.key === k).map((x) => x.bid),
            s.cancels.filter((x) => x.key === k).map((x) => x.cancel),
            PARAMS,
            Math.floor((FINAL_MS - PARAMS.settleMs) / PARAMS.epochMs) - 1
          )
          const mine = results.filter((r) => r.key === k)
          assert.deepEqual(
            mine.flatMap((r) => r.matches.map((m) => [m.epoch, m.buyId, m.sellId, m.price])),
            model.matches
          )
          const book = matcher.book(k)
          const resting = [...book.resting('BUY'), ...book.resting('SELL')].map((b) => b.id)
          assert.deepEqual(resting.sort(), model.resting.sort())
          assert.deepEqual(mine.flatMap((r) => r.expired).sort(), model.expired.sort())
          assert.deepEqual(mine.flatMap((r) => r.cancelled).sort(), model.cancelled.sort())
        }
      }),
      { numRuns: 300 }
    )
  })
})
