import assert from 'node:assert/strict'
import { COUNTER_NAMES } from '../../node/store/reputation.js'
import { isBitwrkError } from '../../protocol/errors.js'
import {
  assess,
  checkThresholds,
  DEFAULT_THRESHOLDS,
  decayFactor,
  EVENT_SCOPE,
  EVENT_WEIGHTS,
  GOSSIP_APP_SCORE,
  gossipAppScore,
  HALF_LIFE_MS,
  POSITIVE_CAP,
  REPUTATION_COUNTERS,
  ReputationCode,
  type ReputationCounter,
  SCORE_PRIOR,
  scoreOf
} from '../../protocol/reputation/index.js'
import { counters, record } from './helpers.js'

const NOW = 1_700_000_000_000
const H = HALF_LIFE_MS

/** The score of one event of each kind, just recorded: w / (|w| + 4), written out. */
const ONE_EVENT: Record<ReputationCounter, number> = {
  finished: 1 / 5,
  noShows: -2 / 6,
  latePhases: -4 / 8,
  rejectedWork: -3 / 7,
  rejectedResults: -3 / 7,
  wrongChunks: -5 / 9,
  invalidGossip: -2 / 6,
  equivocations: -1
}

describe('reputation score', () => {
  it('keeps the counter names and order of the node store', () => {
    assert.deepEqual([...REPUTATION_COUNTERS], [...COUNTER_NAMES])
  })

  it('gives every counter a weight and a scope', () => {
    assert.deepEqual(Object.keys(EVENT_WEIGHTS).sort(), [...REPUTATION_COUNTERS].sort())
    assert.deepEqual(Object.keys(EVENT_SCOPE).sort(), [...REPUTATION_COUNTERS].sort())
    assert.equal(SCORE_PRIOR, 4)
    assert.equal(H, 604_800_000)
  })

  for (const n of REPUTATION_COUNTERS)
    it(`scores one fresh ${n} event as ${ONE_EVENT[n].toFixed(4)}`, () => {
      assert.equal(scoreOf(record({ [n]: 1 }, NOW), NOW), ONE_EVENT[n])
    })

  it('scores a subject without evidence as neutral 0', () => {
    assert.equal(scoreOf(record({}, NOW), NOW), 0)
    assert.equal(scoreOf(record({}, 0), NOW), 0)
  })

  it('halves the evidence exactly at each half-life', () => {
    const table: [number, number][] = [
      [-1, 1],
      [0, 1],
      [H, 0.5],
      [2 * H, 0.25],
      [10 * H, 2 ** -10]
    ]
    for (const [elapsed, f] of table) assert.equal(decayFactor(elapsed), f, `elapsed ${elapsed}`)
    assert.ok(decayFactor(H - 1) > 0.5)
    assert.ok(decayFactor(H + 1) < 0.5)
    assert.throws(
      () => decayFactor(Number.NaN),
      (e) => isBitwrkError(e, ReputationCode.BAD_ARGUMENT)
    )
  })

  it('applies decay to the weights since the last update: one late phase after one half-life is -2/6', () => {
    const r = record({ latePhases: 1 }, NOW)
    assert.equal(scoreOf(r, NOW + H), -2 / 6)
    assert.equal(scoreOf(r, NOW + 2 * H), -1 / 5)
    assert.equal(scoreOf(record({ finished: 4 }, NOW), NOW + H), 2 / 6)
  })

  it('does not let a clock behind the record grow the evidence', () => {
    const r = record({ latePhases: 1, finished: 2 }, NOW)
    assert.equal(scoreOf(r, NOW - H), scoreOf(r, NOW))
  })

  it('caps the banked positive weight at POSITIVE_CAP finished transactions', () => {
    assert.equal(POSITIVE_CAP, 20)
    assert.equal(scoreOf(record({ finished: 1000 }, NOW), NOW), 20 / 24)
    assert.equal(
      scoreOf(record({ finished: 1000, latePhases: 3 }, NOW), NOW),
      scoreOf(record({ finished: 20, latePhases: 3 }, NOW), NOW)
    )
    assert.equal(scoreOf(record({ finished: 20, latePhases: 5 }, NOW), NOW), 0)
  })

  it('pins an equivocator at -1 and blocks it for ever', () => {
    const r = record({ finished: 20, equivocations: 1 }, NOW)
    for (const t of [NOW, NOW + H, NOW + 100 * H]) {
      const a = assess(r, t)
      assert.deepEqual(a, {
        score: -1,
        equivocated: true,
        blocked: true,
        canEstablish: false,
        lowTrust: true
      })
    }
  })

  it('applies the default thresholds at their boundaries', () => {
    assert.deepEqual(DEFAULT_THRESHOLDS, { blocked: -0.75, establishMin: -0.5, lowTrust: 0.5 })
    const table: [Partial<Record<ReputationCounter, number>>, number, boolean, boolean, boolean][] = [
      // counters, score, blocked, canEstablish, lowTrust
      [{}, 0, false, true, true],
      [{ finished: 3 }, 3 / 7, false, true, true],
      [{ finished: 4 }, 0.5, false, true, false],
      [{ latePhases: 1 }, -0.5, false, true, true],
      [{ noShows: 3 }, -0.6, false, false, true],
      [{ latePhases: 2 }, -8 / 12, false, false, true],
      [{ latePhases: 3 }, -0.75, true, false, true],
      [{ wrongChunks: 4 }, -20 / 24, true, false, true]
    ]
    for (const [c, score, blocked, canEstablish, lowTrust] of table) {
      const a = assess(record(c, NOW), NOW)
      assert.deepEqual(a, { score, equivocated: false, blocked, canEstablish, lowTrust }, JSON.stringify(c))
    }
  })

  it('lets a blocked subject return after its evidence decays', () => {
    const r = record({ latePhases: 3 }, NOW)
    assert.equal(assess(r, NOW).blocked, true)
    assert.equal(assess(r, NOW + H).blocked, false)
    assert.equal(assess(r, NOW + H).canEstablish, false)
    assert.equal(assess(r, NOW + 2 * H).canEstablish, true)
  })

  it('refuses thresholds out of order or range', () => {
    for (const t of [
      { blocked: -0.5, establishMin: -0.5, lowTrust: 0.5 },
      { blocked: -0.75, establishMin: 0.6, lowTrust: 0.5 },
      { blocked: -1.5, establishMin: -0.5, lowTrust: 0.5 },
      { blocked: -0.75, establishMin: -0.5, lowTrust: 1.5 },
      { blocked: Number.NaN, establishMin: -0.5, lowTrust: 0.5 }
    ])
      assert.throws(
        () => checkThresholds(t),
        (e) => isBitwrkError(e, ReputationCode.BAD_ARGUMENT)
      )
    const ok = { blocked: -1, establishMin: 0, lowTrust: 0 }
    assert.equal(checkThresholds(ok), ok)
  })

  it('refuses counters and times that are not safe non-negative integers', () => {
    const bad: unknown[] = [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '1', undefined]
    for (const v of bad)
      assert.throws(
        () => scoreOf({ counters: { ...counters(), finished: v as number }, lastUpdatedMs: NOW }, NOW),
        (e) => isBitwrkError(e, ReputationCode.BAD_ARGUMENT),
        String(v)
      )
    assert.throws(
      () => scoreOf(record({}, NOW), 1.5),
      (e) => isBitwrkError(e, ReputationCode.BAD_ARGUMENT)
    )
    assert.throws(
      () => scoreOf(record({}, -1), NOW),
      (e) => isBitwrkError(e, ReputationCode.BAD_ARGUMENT)
    )
  })

  it('maps assessments to a bounded GossipSub application score, the worst subject counting', () => {
    const a = (c: Partial<Record<ReputationCounter, number>>) => assess(record(c, NOW), NOW)
    assert.equal(gossipAppScore([]), 0)
    assert.equal(gossipAppScore([a({})]), 0)
    assert.equal(gossipAppScore([a({ finished: 1 })]), 1)
    assert.equal(gossipAppScore([a({ latePhases: 1 })]), -20)
    assert.equal(gossipAppScore([a({ equivocations: 1 })]), GOSSIP_APP_SCORE.blocked)
    assert.equal(gossipAppScore([a({ latePhases: 3 })]), -100)
    assert.equal(gossipAppScore([a({ finished: 4 }), a({ invalidGossip: 1 })]), (-2 / 6) * 40)
    assert.equal(gossipAppScore([a({ finished: 1000 })]), (20 / 24) * 5)
    // Blocked is below GossipSub's graylist even with the full topic credit (+10 < -80 + 100 - 10).
    assert.ok(GOSSIP_APP_SCORE.blocked + 10 < -80)
  })
})
