import assert from 'node:assert/strict'
import fc from 'fast-check'
import { CHUNK_MAX_SIZE } from '../../cafs/chunker.js'
import { keyToHex, sha256 } from '../../cafs/keys.js'
import {
  decodeManifest,
  encodeManifest,
  MANIFEST_HEADER_BYTES,
  MANIFEST_MAX_BYTES,
  MANIFEST_MAX_CHUNKS,
  makeManifest,
  manifestKey,
  manifestOfBytes
} from '../../cafs/manifest.js'
import type { Manifest } from '../../cafs/types.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { LCG_VECTOR, MANIFEST_VECTORS } from './fixtures/lcg-vector.js'
import { lcgBytes } from './helpers.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))

/** A syntactically valid manifest of n chunks (file key not derivable, so n >= 2). */
function synthetic(sizes: number[]): Manifest {
  return makeManifest(
    sha256(Uint8Array.of(9, 9)),
    sizes.map((size, i) => ({ key: sha256(Uint8Array.of(i & 255, i >> 8)), size }))
  )
}

/** Encodes with the header's size/count patched, bypassing the encoder's checks. */
function patch(bytes: Uint8Array, f: (dv: DataView, b: Uint8Array) => void): Uint8Array {
  const b = bytes.slice()
  f(new DataView(b.buffer), b)
  return b
}

describe('cafs/manifest', () => {
  it('encodes "abc" and the empty file as in the CAFS-8 vectors', () => {
    const abc = manifestOfBytes(new TextEncoder().encode('abc'))
    assert.equal(hex(encodeManifest(abc)), MANIFEST_VECTORS.abc.encodingHex)
    assert.equal(keyToHex(manifestKey(abc)), MANIFEST_VECTORS.abc.keyHex)
    const empty = manifestOfBytes(new Uint8Array(0))
    assert.deepEqual(empty.chunks, [])
    assert.equal(hex(encodeManifest(empty)), MANIFEST_VECTORS.empty.encodingHex)
    assert.equal(keyToHex(manifestKey(empty)), MANIFEST_VECTORS.empty.keyHex)
  })

  it('keys the LCG manifest as in the committed vector', () => {
    const m = manifestOfBytes(lcgBytes(LCG_VECTOR.length))
    const enc = encodeManifest(m)
    assert.equal(enc.length, LCG_VECTOR.manifestEncodedLength)
    assert.equal(keyToHex(manifestKey(m)), LCG_VECTOR.manifestKeyHex)
    assert.equal(keyToHex(manifestKey(enc)), LCG_VECTOR.manifestKeyHex)
    assert.deepEqual(decodeManifest(enc), m)
  })

  it('round-trips any valid manifest byte for byte', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: CHUNK_MAX_SIZE }), { minLength: 2, maxLength: 50 }),
        (sizes) => {
          const m = synthetic(sizes)
          const enc = encodeManifest(m)
          const dec = decodeManifest(enc)
          assert.deepEqual(dec, m)
          assert.deepEqual(encodeManifest(dec), enc)
        }
      ),
      { numRuns: 100 }
    )
  })

  it('does not alias the input buffer', () => {
    const enc = encodeManifest(synthetic([5, 6]))
    const m = decodeManifest(enc)
    enc.fill(0)
    assert.notEqual(m.chunks[0]!.key[0], 0)
  })

  describe('hostile input', () => {
    const good = encodeManifest(synthetic([100, 200, 300]))
    const table: [string, Uint8Array, string][] = [
      ['empty input', new Uint8Array(0), 'CAFS_MANIFEST_TRUNCATED'],
      ['header cut short', good.subarray(0, MANIFEST_HEADER_BYTES - 1), 'CAFS_MANIFEST_TRUNCATED'],
      ['last entry cut short', good.subarray(0, good.length - 1), 'CAFS_MANIFEST_TRUNCATED'],
      ['one entry missing', good.subarray(0, good.length - 36), 'CAFS_MANIFEST_TRUNCATED'],
      ['a trailing byte', Uint8Array.from([...good, 0]), 'CAFS_MANIFEST_TRAILING_BYTES'],
      ['over the size limit', new Uint8Array(MANIFEST_MAX_BYTES + 1), 'CAFS_MANIFEST_OVERSIZED'],
      ['bad magic', patch(good, (_d, b) => (b[0] = 0x42)), 'CAFS_MANIFEST_BAD_MAGIC'],
      ['unknown version', patch(good, (_d, b) => (b[4] = 2)), 'CAFS_MANIFEST_BAD_VERSION'],
      [
        'count over the limit',
        patch(good, (d) => d.setUint32(45, MANIFEST_MAX_CHUNKS + 1)),
        'CAFS_MANIFEST_TOO_MANY_CHUNKS'
      ],
      ['count of 2^32 - 1', patch(good, (d) => d.setUint32(45, 0xffffffff)), 'CAFS_MANIFEST_TOO_MANY_CHUNKS'],
      ['sizes not summing', patch(good, (d) => d.setBigUint64(37, 601n)), 'CAFS_MANIFEST_SIZE_MISMATCH'],
      [
        'size near 2^64',
        patch(good, (d) => d.setBigUint64(37, 2n ** 64n - 1n)),
        'CAFS_MANIFEST_SIZE_MISMATCH'
      ],
      ['zero-length chunk', patch(good, (d) => d.setUint32(49 + 32, 0)), 'CAFS_MANIFEST_EMPTY_CHUNK'],
      [
        'chunk larger than the maximum',
        patch(good, (d) => d.setUint32(49 + 32, CHUNK_MAX_SIZE + 1)),
        'CAFS_MANIFEST_CHUNK_TOO_LARGE'
      ],
      [
        'empty file with a non-empty file key',
        patch(unhex(MANIFEST_VECTORS.empty.encodingHex), (_d, b) => (b[5] = 0)),
        'CAFS_MANIFEST_KEY_MISMATCH'
      ],
      [
        'one chunk whose key is not the file key',
        patch(unhex(MANIFEST_VECTORS.abc.encodingHex), (_d, b) => (b[49] = 0)),
        'CAFS_MANIFEST_KEY_MISMATCH'
      ]
    ]
    for (const [what, bytes, code] of table)
      it(`refuses ${what} with ${code}`, () => {
        assert.throws(() => decodeManifest(bytes), { code })
      })

    it('never accepts a bit-flipped encoding as the same manifest, and fails only with a code', () => {
      const m = decodeManifest(good)
      fc.assert(
        fc.property(fc.integer({ min: 0, max: good.length * 8 - 1 }), (bit) => {
          const b = good.slice()
          b[bit >> 3]! ^= 1 << (bit & 7)
          try {
            assert.notDeepEqual(decodeManifest(b), m)
          } catch (err) {
            assert.ok(isBitwrkError(err) && err.code.startsWith('CAFS_MANIFEST_'), String(err))
          }
        }),
        { numRuns: 300 }
      )
    })

    it('refuses to encode an invalid manifest', () => {
      assert.throws(
        () => makeManifest(sha256(Uint8Array.of(1)), [{ key: sha256(Uint8Array.of(2)), size: 1 }]),
        {
          code: 'CAFS_MANIFEST_KEY_MISMATCH'
        }
      )
      assert.throws(() => encodeManifest({ fileKey: sha256(Uint8Array.of(1)), size: 3, chunks: [] }), {
        code: 'CAFS_MANIFEST_SIZE_MISMATCH'
      })
      assert.throws(
        () =>
          encodeManifest({
            fileKey: new Uint8Array(32),
            size: 0,
            chunks: [
              { key: new Uint8Array(32), size: 0 },
              { key: new Uint8Array(32), size: 0 }
            ]
          }),
        { code: 'CAFS_MANIFEST_EMPTY_CHUNK' }
      )
    })
  })
})
