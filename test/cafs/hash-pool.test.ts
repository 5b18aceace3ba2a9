import assert from 'node:assert/strict'
import { HashPool } from '../../cafs/hash-pool.js'
import { sha256 } from '../../cafs/keys.js'
import { VerifiedChunk } from '../../cafs/verified.js'
import { seededBytes } from './helpers.js'

describe('cafs/hash-pool', () => {
  let pool: HashPool
  before(() => {
    pool = new HashPool(2)
  })
  after(async () => {
    await pool.close()
  })

  it('computes the SHA-256 of many inputs at once, views and sizes mixed', async () => {
    const big = seededBytes(3 << 20, 1)
    const inputs = [
      new Uint8Array(0),
      Uint8Array.of(1),
      big.subarray(17, 70_000),
      big,
      ...Array.from({ length: 50 }, (_x, i) => seededBytes(1000 + i * 997, 10 + i))
    ]
    const got = await Promise.all(inputs.map((b) => pool.digest(b)))
    assert.deepEqual(got, inputs.map(sha256))
  })

  it('hashes interleaved files in order, each on its worker', async () => {
    const a = seededBytes(200_000, 2)
    const b = seededBytes(150_000, 3)
    const ha = pool.fileHasher()
    const hb = pool.fileHasher()
    for (let o = 0; o < 200_000; o += 30_000) {
      ha.update(a.subarray(o, o + 30_000))
      hb.update(b.subarray(o, o + 30_000))
    }
    assert.deepEqual(await Promise.all([ha.digest(), hb.digest()]), [sha256(a), sha256(b)])
    assert.throws(() => ha.update(a))
  })

  it('issues a VerifiedChunk only for bytes that hash to the key', async () => {
    const bytes = seededBytes(40_000, 4)
    const key = sha256(bytes)
    assert.ok(VerifiedChunk.is(await VerifiedChunk.checkOn(pool, key, bytes)))
    const other = bytes.slice()
    other[39_999]! ^= 1
    assert.equal(await VerifiedChunk.checkOn(pool, key, other), undefined)
  })

  it('rejects work once closed', async () => {
    const p = new HashPool(1)
    await p.close()
    await assert.rejects(p.digest(Uint8Array.of(1)))
  })
})
