import assert from 'node:assert/strict'
import { decodeSignedBid } from '../../protocol/bid/index.js'
import { matchableOf } from '../../protocol/matching/index.js'
import { VECTOR_BUY, VECTOR_SELL, wire } from '../bid/fixtures.js'

describe('matchable bid (MATCH-3)', () => {
  it('takes id, side, price in smallest units, times and participant from a validated bid', () => {
    const bid = decodeSignedBid(wire(VECTOR_BUY.document, VECTOR_BUY.signature))
    assert.deepEqual(matchableOf(bid), {
      id: VECTOR_BUY.id,
      side: 'BUY',
      price: VECTOR_BUY.fields.price.amount,
      createdMs: VECTOR_BUY.fields.createdMs,
      expiresMs: VECTOR_BUY.fields.expiresMs,
      participant: '1C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq8'
    })
    const sell = decodeSignedBid(wire(VECTOR_SELL.document, VECTOR_SELL.signature))
    assert.equal(matchableOf(sell).side, 'SELL')
    assert.equal(matchableOf(sell).price, 10_000n)
  })
})
