import assert from 'node:assert/strict'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import {
  chunkKey,
  cidStringToKey,
  cidToKey,
  EMPTY_KEY_HEX,
  FileHasher,
  keyFromHex,
  keysEqual,
  keyToCid,
  keyToHex,
  sha256
} from '../../cafs/keys.js'
import { MANIFEST_VECTORS } from './fixtures/lcg-vector.js'
import { lcgBytes } from './helpers.js'

const ABC_HEX = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'

describe('cafs/keys', () => {
  it('keys the empty content and "abc" as in notes I', () => {
    assert.equal(keyToHex(sha256(new Uint8Array(0))), EMPTY_KEY_HEX)
    assert.equal(keyToHex(chunkKey(new TextEncoder().encode('abc'))), ABC_HEX)
  })

  it('computes the file key incrementally, independent of the pieces', () => {
    const data = lcgBytes(100_000)
    const h = new FileHasher()
    for (let o = 0; o < data.length; o += 7777) h.update(data.subarray(o, o + 7777))
    assert.equal(h.size, data.length)
    assert.deepEqual(h.digest(), sha256(data))
  })

  it('returns plain Uint8Array keys that round-trip through hex', () => {
    const k = sha256(Uint8Array.of(1))
    assert.equal(Object.getPrototypeOf(k), Uint8Array.prototype)
    assert.deepEqual(keyFromHex(keyToHex(k)), k)
    assert.ok(keysEqual(k, keyFromHex(keyToHex(k))))
    assert.ok(!keysEqual(k, sha256(Uint8Array.of(2))))
  })

  it('refuses malformed hex keys with CAFS_BAD_KEY', () => {
    for (const bad of [
      '',
      'abc',
      EMPTY_KEY_HEX.toUpperCase(),
      `${EMPTY_KEY_HEX}00`,
      `g${EMPTY_KEY_HEX.slice(1)}`
    ])
      assert.throws(() => keyFromHex(bad), { code: 'CAFS_BAD_KEY' })
    assert.throws(() => keyToCid(new Uint8Array(31)), { code: 'CAFS_BAD_KEY' })
  })

  it('maps keys to CIDv1 raw sha2-256 and back', () => {
    const k = keyFromHex(EMPTY_KEY_HEX)
    const cid = keyToCid(k)
    assert.equal(cid.toString(), MANIFEST_VECTORS.emptyCid)
    assert.deepEqual(cidToKey(cid), k)
    assert.deepEqual(cidStringToKey(MANIFEST_VECTORS.emptyCid), k)
  })

  it('refuses CIDs of another version, codec or hash with CAFS_BAD_CID', () => {
    const k = keyFromHex(ABC_HEX)
    const dagPb = CID.createV0(createDigest(0x12, k))
    assert.throws(() => cidToKey(dagPb), { code: 'CAFS_BAD_CID' })
    assert.throws(() => cidToKey(CID.createV1(0x71, createDigest(0x12, k))), { code: 'CAFS_BAD_CID' })
    assert.throws(() => cidToKey(CID.createV1(0x55, createDigest(0x13, k))), { code: 'CAFS_BAD_CID' })
    assert.throws(() => cidStringToKey('not a cid'), { code: 'CAFS_BAD_CID' })
  })
})
