import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  CURRENCIES,
  decodeSignedBid,
  encodeSigned,
  type Identity,
  MONEY_MAX_ABS,
  money,
  signBid,
  validateBid
} from '../../protocol/index.js'
import { HORSE, ONE } from './fixtures.js'

const segment = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,11}$/)
const article = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.boolean())
  .map(([segs, trusted]) => segs.join('/') + (trusted ? '~trusted' : ''))
  .filter((a) => a.length <= 128 && !a.split(/[/~]/).some((s) => s === '.' || s === '..'))
const fields = fc.record({
  article,
  type: fc.constantFrom('BUY' as const, 'SELL' as const),
  price: fc
    .tuple(fc.constantFrom(...CURRENCIES), fc.bigInt({ min: 0n, max: MONEY_MAX_ABS }))
    .map(([c, a]) => money(c, a)),
  nonce: fc.stringMatching(/^[0-9a-f]{32}$/),
  createdMs: fc.integer({ min: 0, max: 2 ** 45 }),
  lifetime: fc.integer({ min: 1, max: 120_000 })
})

describe('bid properties', () => {
  it('round-trips any valid bid through the wire and validation', () => {
    const ids = [HORSE, ONE]
    fc.assert(
      fc.property(fields, fc.constantFrom(0, 1), (f, who) => {
        const identity = ids[who] as Identity
        const { lifetime, ...rest } = f
        const bid = signBid(identity, { ...rest, expiresMs: f.createdMs + lifetime })
        const bytes = encodeSigned(bid)
        assert.ok(bytes.length <= 1024)
        assert.deepEqual(decodeSignedBid(bytes), bid)
        assert.deepEqual(validateBid(bytes, { nowMs: f.createdMs, maxClockSkewMs: 0 }), {
          result: 'accept',
          bid
        })
      }),
      { numRuns: 60 }
    )
  })

  it('fits the largest valid bid well within the size limit', () => {
    const bid = signBid(HORSE, {
      article: `a${'/a'.repeat(63)}~`.slice(0, 127),
      type: 'SELL',
      price: money('BTC', MONEY_MAX_ABS),
      nonce: 'f'.repeat(32),
      createdMs: Number.MAX_SAFE_INTEGER - 120_000,
      expiresMs: Number.MAX_SAFE_INTEGER
    })
    const bytes = encodeSigned(bid)
    assert.ok(bytes.length <= 620, String(bytes.length))
    assert.equal(validateBid(bytes, { nowMs: bid.createdMs, maxClockSkewMs: 0 }).result, 'accept')
  })

  it('never throws on arbitrary bytes and never accepts them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1200 }), (bytes) => {
        const r = validateBid(bytes, { nowMs: 0, maxClockSkewMs: 0 })
        assert.notEqual(r.result, 'accept')
      }),
      { numRuns: 300 }
    )
  })
})
