import assert from 'node:assert/strict'
import { DEFAULT_NETWORK_CLOCK, NetworkClock } from '../../../node/market/network-clock.js'

/** A clock whose host time the test sets. */
function clockAt(start: number): { now: () => number; set: (t: number) => void } {
  let t = start
  return {
    now: () => t,
    set: (x) => {
      t = x
    }
  }
}

describe('network clock (MARKET-18)', () => {
  const T = 1_764_000_000_000

  it('corrects a host clock 2 s fast to the median of its peers', () => {
    const host = clockAt(T + 2000)
    const changes: number[] = []
    const c = new NetworkClock({
      ...DEFAULT_NETWORK_CLOCK,
      raw: host.now,
      onChange: (e) => changes.push(e.correctionMs)
    })
    // three peers on the true time, timed within ±40 ms (SYNC-16 samples)
    c.sample('p1', -2000)
    c.sample('p2', -2040)
    assert.equal(c.correctionMs, 0, 'fewer than 3 peers: no correction')
    c.sample('p3', -1980)
    assert.equal(c.correctionMs, -2000)
    assert.deepEqual(changes, [-2000])
    assert.equal(c.now(), T)
  })

  it('leaves a clock within the allowance alone, and one lying peer cannot move it', () => {
    const c = new NetworkClock({ ...DEFAULT_NETWORK_CLOCK, raw: clockAt(T).now })
    c.sample('p1', -300)
    c.sample('p2', 250)
    c.sample('p3', -150)
    assert.equal(c.correctionMs, 0)
    c.sample('liar', 4900)
    assert.equal(c.correctionMs, 0)
    assert.equal(c.peers(), 4)
  })

  it('bounds the correction and forgets stale samples', () => {
    const host = clockAt(T)
    const c = new NetworkClock({ ...DEFAULT_NETWORK_CLOCK, maxCorrectionMs: 1000, raw: host.now })
    for (const p of ['a', 'b', 'c']) c.sample(p, 4000)
    assert.equal(c.correctionMs, 1000)
    host.set(T + DEFAULT_NETWORK_CLOCK.sampleTtlMs + 1)
    assert.equal(c.peers(), 0)
    // one fresh peer is not enough to change anything
    c.sample('d', 0)
    assert.equal(c.correctionMs, 1000)
  })
})
