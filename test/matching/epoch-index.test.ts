import assert from 'node:assert/strict'
import { EpochIndex } from '../../protocol/matching/epoch-index.js'
import { BidState, Entry } from '../../protocol/matching/order.js'
import { idOf, mkBid } from './helpers.js'

describe('matching epoch index', () => {
  it('refuses a second entry with the same id in one epoch', () => {
    const index = new EpochIndex()
    assert.equal(index.insert(new Entry(mkBid(1, 'BUY', 1, 0), 0)), true)
    assert.equal(index.insert(new Entry(mkBid(1, 'BUY', 1, 0), 0)), false)
    assert.equal(index.insert(new Entry(mkBid(1, 'BUY', 1, 1_000), 1)), true)
    assert.equal(index.entries(0).length, 1)
  })

  it('drops terminal entries and empty epochs, keeping the live ones findable', () => {
    const index = new EpochIndex()
    const entries = Array.from({ length: 1_000 }, (_, i) => new Entry(mkBid(i + 1, 'SELL', 1, 0), 0))
    for (const e of entries) assert.ok(index.insert(e))
    for (const e of entries.slice(0, 990)) {
      e.state = BidState.MATCHED
      index.release(e)
    }
    assert.equal(index.entries(0).length < 1_000 / 4 + 1, true, 'rebuilt once three quarters were terminal')
    for (const e of entries.slice(990)) assert.equal(index.get(0, e.id), e)
    assert.equal(index.get(0, idOf(1)), undefined)
    for (const e of entries.slice(990)) {
      e.state = BidState.EXPIRED
      index.release(e)
    }
    assert.equal(index.size, 0)
  })
})
