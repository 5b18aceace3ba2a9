import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  assess,
  GOSSIP_APP_SCORE,
  gossipAppScore,
  HALF_LIFE_MS,
  judge,
  REPUTATION_COUNTERS,
  scoreOf
} from '../../protocol/reputation/index.js'
import { record } from './helpers.js'

const countersArb = fc.record(
  Object.fromEntries(
    REPUTATION_COUNTERS.map((n) => [n, fc.nat({ max: n === 'equivocations' ? 1 : 1_000_000 })])
  ) as Record<(typeof REPUTATION_COUNTERS)[number], fc.Arbitrary<number>>
)
const T0 = 1_700_000_000_000
const elapsedArb = fc.integer({ min: -HALF_LIFE_MS, max: 100 * HALF_LIFE_MS })

describe('reputation properties', () => {
  it('keeps every score in [-1, 1] and every app score in [blocked, max]', () => {
    fc.assert(
      fc.property(countersArb, elapsedArb, (c, dt) => {
        const r = record(c, T0)
        const s = scoreOf(r, T0 + dt)
        assert.ok(s >= -1 && s <= 1, String(s))
        const app = gossipAppScore([assess(r, T0 + dt)])
        assert.ok(app >= GOSSIP_APP_SCORE.blocked && app <= GOSSIP_APP_SCORE.max, String(app))
      }),
      { numRuns: 500 }
    )
  })

  it('decays monotonically towards neutral: a later score lies between 0 and an earlier one', () => {
    fc.assert(
      fc.property(countersArb, elapsedArb, fc.nat({ max: 50 * HALF_LIFE_MS }), (c, dt, more) => {
        const r = record(c, T0)
        const early = scoreOf(r, T0 + dt)
        const late = scoreOf(r, T0 + dt + more)
        if (early >= 0) assert.ok(late >= 0 && late <= early, `${early} -> ${late}`)
        else assert.ok(late <= 0 && late >= early, `${early} -> ${late}`)
      }),
      { numRuns: 500 }
    )
  })

  it('never lowers a score by adding a finished transaction, never raises it by adding a failure', () => {
    fc.assert(
      fc.property(countersArb, elapsedArb, fc.constantFrom(...REPUTATION_COUNTERS), (c, dt, n) => {
        const before = scoreOf(record(c, T0), T0 + dt)
        const after = scoreOf(record({ ...c, [n]: c[n] + 1 }, T0), T0 + dt)
        if (n === 'finished') assert.ok(after >= before)
        else assert.ok(after <= before, `${n}: ${before} -> ${after}`)
      }),
      { numRuns: 500 }
    )
  })

  it('judges independently of the order of the results', () => {
    const hash = fc.constantFrom('11'.repeat(32), '22'.repeat(32), '33'.repeat(32))
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.constantFrom('s1', 's2', 's3', 's4', 's5', 's6'), hash), {
          minLength: 1,
          maxLength: 5,
          selector: ([s]) => s
        }),
        (results) => {
          assert.deepEqual(judge(new Map(results)), judge(new Map([...results].reverse())))
        }
      ),
      { numRuns: 300 }
    )
  })
})
