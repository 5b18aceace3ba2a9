import assert from 'node:assert/strict'
import { KeyedListeners } from '../../protocol/util/index.js'

describe('protocol/util/listeners', () => {
  it('calls the listeners of a key only, until they are removed, and forgets a key without listeners', () => {
    const l = new KeyedListeners<string, number>()
    const seen: string[] = []
    const offA = l.add('a', (n) => seen.push(`a1:${n}`))
    const offA2 = l.add('a', (n) => seen.push(`a2:${n}`))
    l.add('b', (n) => seen.push(`b:${n}`))
    l.emit('a', 1)
    l.emit('c', 9)
    assert.deepEqual(seen, ['a1:1', 'a2:1'])
    offA()
    offA()
    l.emit('a', 2)
    assert.deepEqual(seen, ['a1:1', 'a2:1', 'a2:2'])
    assert.equal(l.size, 2)
    offA2()
    assert.equal(l.size, 1)
    // a listener removed by itself (or another) during an emit does not disturb that emit
    const order: string[] = []
    const offX: () => void = l.add('x', () => {
      order.push('x1')
      offX()
    })
    l.add('x', () => order.push('x2'))
    l.emit('x', 0)
    l.emit('x', 0)
    assert.deepEqual(order, ['x1', 'x2', 'x2'])
  })
})
