import assert from 'node:assert/strict'
import { sha256 } from '../../cafs/keys.js'
import { MemoryChunkStore } from '../../cafs/store/memory.js'
import { VerifiedChunk } from '../../cafs/verified.js'
import { seededBytes } from './helpers.js'
import { storeComplianceSuite } from './store-compliance.js'

storeComplianceSuite(
  'cafs/store/memory',
  () => ({
    create: async (options) => new MemoryChunkStore(options),
    cleanup: async () => {}
  }),
  { persistent: false }
)

describe('cafs/store/memory getShared', () => {
  it('hands readers the held bytes without a copy, while get still copies', async () => {
    const s = new MemoryChunkStore()
    const bytes = seededBytes(5000, 9)
    const key = sha256(bytes)
    await s.put(key, bytes)
    const a = await s.getShared(key)
    assert.ok(a)
    assert.deepEqual(a, bytes)
    assert.notEqual(a, bytes, 'put kept a copy of its own')
    assert.equal(await s.getShared(key), a)
    assert.notEqual(await s.get(key), a)
    assert.equal(await s.getShared(sha256(Uint8Array.of(1))), undefined)
    await s.close()
  })
})

describe('cafs/store/memory putVerified', () => {
  it('keeps a handed-over (owned) chunk without a copy, and copies one the caller keeps', async () => {
    const s = new MemoryChunkStore()
    const kept = seededBytes(5000, 10)
    const owned = seededBytes(6000, 11)
    const keptToken = VerifiedChunk.check(sha256(kept), kept)
    const ownedToken = VerifiedChunk.check(sha256(owned), owned, true)
    assert.ok(keptToken && ownedToken)
    assert.equal(keptToken.owned, false)
    await s.putVerified(keptToken)
    await s.putVerified(ownedToken)
    assert.equal(await s.getShared(ownedToken.key), owned, 'the handed-over array itself')
    const held = await s.getShared(keptToken.key)
    assert.notEqual(held, kept)
    // the caller may reuse its own array: the store's copy does not change
    kept.fill(0)
    assert.deepEqual(await s.getShared(keptToken.key), seededBytes(5000, 10))
    // get still returns a copy the caller owns, even of a handed-over chunk
    const copy = await s.get(ownedToken.key)
    assert.ok(copy)
    copy.fill(0)
    assert.deepEqual(await s.getShared(ownedToken.key), seededBytes(6000, 11))
    await s.close()
  })
})
