import assert from 'node:assert/strict'
import { isBitwrkError } from '../../protocol/errors.js'
import {
  assess,
  DEFAULT_THRESHOLDS,
  type Judgement,
  judge,
  MAX_OPINIONS,
  QUORUM,
  ReputationCode,
  shouldReplicate
} from '../../protocol/reputation/index.js'
import { record } from './helpers.js'

const H1 = '11'.repeat(32)
const H2 = '22'.repeat(32)
const H3 = '33'.repeat(32)

describe('reputation replication', () => {
  it('replicates deterministic work only for sellers below the low-trust threshold', () => {
    const table: [number, boolean, boolean][] = [
      // score, deterministic, replicate
      [0, true, true],
      [0.49, true, true],
      [0.5, true, false],
      [0.9, true, false],
      [-0.5, true, true],
      [0, false, false],
      [-0.5, false, false],
      [-0.75, true, false], // blocked: not traded with at all
      [-0.9, true, false]
    ]
    for (const [score, det, want] of table) assert.equal(shouldReplicate(score, det), want, `${score} ${det}`)
  })

  it('takes an assessment and custom thresholds', () => {
    const now = 1_000
    assert.equal(shouldReplicate(assess(record({}, now), now), true), true)
    assert.equal(shouldReplicate(assess(record({ finished: 4 }, now), now), true), false)
    assert.equal(shouldReplicate(assess(record({ equivocations: 1 }, now), now), true), false)
    const strict = { ...DEFAULT_THRESHOLDS, lowTrust: 0.9 }
    assert.equal(shouldReplicate(0.8, true, strict), true)
    assert.throws(
      () => shouldReplicate(0, true, { blocked: 0, establishMin: 0, lowTrust: 0 }),
      (e) => isBitwrkError(e, ReputationCode.BAD_ARGUMENT)
    )
    assert.throws(
      () => shouldReplicate(Number.NaN, true),
      (e) => isBitwrkError(e, ReputationCode.BAD_ARGUMENT)
    )
  })

  it('judges result hashes by the third-opinion rule', () => {
    assert.equal(QUORUM, 2)
    assert.equal(MAX_OPINIONS, 3)
    const table: [string, [string, string][], Judgement][] = [
      ['one result', [['s1', H1]], { verdict: 'agree', hash: H1 }],
      [
        'two that agree',
        [
          ['s1', H1],
          ['s2', H1]
        ],
        { verdict: 'agree', hash: H1 }
      ],
      [
        'two that differ',
        [
          ['s1', H1],
          ['s2', H2]
        ],
        { verdict: 'undecided', next: 'another-opinion' }
      ],
      [
        'a third opinion with the first',
        [
          ['s1', H1],
          ['s2', H2],
          ['s3', H1]
        ],
        { verdict: 'decided', hash: H1, penalised: ['s2'] }
      ],
      [
        'a third opinion with the second',
        [
          ['s1', H1],
          ['s2', H2],
          ['s3', H2]
        ],
        { verdict: 'decided', hash: H2, penalised: ['s1'] }
      ],
      [
        'three that all differ',
        [
          ['s1', H1],
          ['s2', H2],
          ['s3', H3]
        ],
        { verdict: 'undecided', next: 'give-up' }
      ],
      [
        'a quorum among four',
        [
          ['s4', H3],
          ['s1', H1],
          ['s2', H2],
          ['s3', H1]
        ],
        { verdict: 'decided', hash: H1, penalised: ['s2', 's4'] }
      ],
      [
        'a tie among four',
        [
          ['s1', H1],
          ['s2', H2],
          ['s3', H1],
          ['s4', H2]
        ],
        { verdict: 'undecided', next: 'give-up' }
      ]
    ]
    for (const [name, results, want] of table) assert.deepEqual(judge(new Map(results)), want, name)
  })

  it('refuses no results and hashes that are not 64 lower-case hex digits', () => {
    for (const m of [
      new Map(),
      new Map([['s1', 'A'.repeat(64)]]),
      new Map([
        ['s1', H1],
        ['s2', 'x']
      ])
    ])
      assert.throws(
        () => judge(m),
        (e) => isBitwrkError(e, ReputationCode.BAD_ARGUMENT)
      )
  })
})
