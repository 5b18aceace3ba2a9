import assert from 'node:assert/strict'
import { sha256 } from '../../cafs/keys.js'
import { VerifiedChunk } from '../../cafs/verified.js'
import { seededBytes } from './helpers.js'

describe('cafs/verified', () => {
  it('issues a token only when the bytes hash to the key', () => {
    const bytes = seededBytes(1000, 1)
    const key = sha256(bytes)
    const ok = VerifiedChunk.check(key, bytes)
    assert.ok(ok)
    assert.equal(ok.bytes, bytes)
    assert.deepEqual(ok.key, key)
    const flipped = bytes.slice()
    flipped[0]! ^= 1
    assert.equal(VerifiedChunk.check(key, flipped), undefined)
  })

  it('computes the key when hashing bytes', () => {
    const bytes = seededBytes(4096, 2)
    assert.deepEqual(VerifiedChunk.hash(bytes).key, sha256(bytes))
  })

  it('tells real tokens from look-alikes', () => {
    const bytes = seededBytes(64, 3)
    assert.equal(VerifiedChunk.is(VerifiedChunk.hash(bytes)), true)
    assert.equal(VerifiedChunk.is({ key: sha256(bytes), bytes }), false)
    assert.equal(VerifiedChunk.is(Object.create(VerifiedChunk.prototype)), false)
    assert.equal(VerifiedChunk.is(null), false)
  })
})
