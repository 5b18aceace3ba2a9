import assert from 'node:assert/strict'
import { sha256 } from '../../cafs/keys.js'
import { MemoryChunkStore } from '../../cafs/store/memory.js'
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
