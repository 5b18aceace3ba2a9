import assert from 'node:assert/strict'
import { evictOldest } from '../../protocol/util/index.js'

describe('evictOldest', () => {
  it('deletes the oldest keys of a Map until it holds maxSize', () => {
    const m = new Map([
      ['a', 1],
      ['b', 2],
      ['c', 3],
      ['d', 4]
    ])
    evictOldest(m, 2)
    assert.deepEqual(
      [...m],
      [
        ['c', 3],
        ['d', 4]
      ]
    )
    evictOldest(m, 2)
    assert.equal(m.size, 2, 'a map within its bound is left alone')
    evictOldest(m, 0)
    assert.equal(m.size, 0)
  })

  it('follows recency when a key is re-inserted, and bounds Sets too', () => {
    const m = new Map([
      ['a', 1],
      ['b', 2]
    ])
    m.delete('a')
    m.set('a', 1)
    m.set('c', 3)
    evictOldest(m, 2)
    assert.deepEqual([...m.keys()], ['a', 'c'])
    const s = new Set([1, 2, 3])
    evictOldest(s, 1)
    assert.deepEqual([...s], [3])
  })

  it('makes room for one insertion when bounded to maxSize - 1', () => {
    const max = 3
    const m = new Map<number, number>()
    for (let i = 0; i < 10; i++) {
      evictOldest(m, max - 1)
      m.set(i, i)
      assert.ok(m.size <= max)
    }
    assert.deepEqual([...m.keys()], [7, 8, 9])
  })
})
