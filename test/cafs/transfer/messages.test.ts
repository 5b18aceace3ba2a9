import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  decodeMessage,
  encodeAck,
  encodeChunks,
  encodeChunksFrame,
  encodeDone,
  encodeError,
  encodeFrame,
  encodeGet,
  encodeMissing,
  encodeOffer,
  encodeWant,
  indicesOfRanges,
  rangesFromIndices,
  resolveLimits,
  XferCode
} from '../../../cafs/transfer/index.js'
import type { Manifest } from '../../../cafs/types.js'
import { isBitwrkError } from '../../../protocol/errors.js'
import { chunkFile, h, prng } from './helpers.js'

const limits = resolveLimits({
  maxChunkSize: 8192,
  maxChunks: 100,
  maxKeysPerRequest: 8,
  maxFileSize: 2_000_000
})
const ctx = { limits, chunkCount: 10 }

function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (isBitwrkError(err)) return err.code
    throw err
  }
  return 'no error'
}

const hexBytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'))

describe('cafs/transfer messages', () => {
  const { manifest } = chunkFile(prng(20_000, 3), 1024, 8192)

  it('round-trips every message type', () => {
    const m = decodeMessage(encodeOffer(manifest), ctx)
    assert.equal(m.type, 'offer')
    if (m.type === 'offer') assert.deepEqual(m.manifest, manifest)
    assert.deepEqual(
      decodeMessage(
        encodeWant([
          { start: 0, end: 3 },
          { start: 5, end: 10 }
        ]),
        ctx
      ),
      {
        type: 'want',
        ranges: [
          { start: 0, end: 3 },
          { start: 5, end: 10 }
        ]
      }
    )
    const chunks = decodeMessage(encodeChunks([{ index: 4, bytes: Uint8Array.of(1, 2, 3) }]), ctx)
    assert.deepEqual(chunks, { type: 'chunks', records: [{ index: 4, bytes: Uint8Array.of(1, 2, 3) }] })
    assert.deepEqual(decodeMessage(encodeDone(), ctx), { type: 'done' })
    assert.deepEqual(decodeMessage(encodeAck(manifest.fileKey), ctx), {
      type: 'ack',
      fileKey: manifest.fileKey
    })
    const keys = manifest.chunks.slice(0, 2).map((c) => c.key)
    assert.deepEqual(decodeMessage(encodeGet(keys), ctx), { type: 'get', keys })
    assert.deepEqual(decodeMessage(encodeMissing([0, 7]), ctx), { type: 'missing', indices: [0, 7] })
    assert.deepEqual(decodeMessage(encodeError('CAFS_HASH_MISMATCH'), ctx), {
      type: 'error',
      code: 'CAFS_HASH_MISMATCH'
    })
  })

  it('frames CHUNKS in one step exactly like encodeFrame(encodeChunks(…)) (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ index: fc.nat(1 << 20), bytes: fc.uint8Array({ minLength: 1, maxLength: 300 }) }),
          {
            minLength: 1,
            maxLength: 20
          }
        ),
        (records) => {
          assert.deepEqual(encodeChunksFrame(records), encodeFrame(encodeChunks(records)))
        }
      )
    )
  })

  it('encodes wishlists canonically as ranges (property: indices round-trip)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat({ max: 200 }), { maxLength: 60 }), (raw) => {
        const indices = [...raw].sort((a, b) => a - b)
        const ranges = rangesFromIndices(indices)
        const m = decodeMessage(encodeWant(ranges), { limits, chunkCount: 201 })
        assert.equal(m.type, 'want')
        if (m.type === 'want') assert.deepEqual(indicesOfRanges(m.ranges), indices)
      })
    )
  })

  it('encodes the wishlist vector of the spec', () => {
    // Want 0..2, 5, 7..9 of 10: WANT, 3 ranges, (0,3) (2,1) (1,3).
    const body = encodeWant(rangesFromIndices([0, 1, 2, 5, 7, 8, 9]))
    assert.equal(Buffer.from(body).toString('hex'), '0203000302010103')
  })

  it('refuses hostile messages with specific codes', () => {
    const bigManifest: Manifest = {
      fileKey: new Uint8Array(32),
      size: 101,
      chunks: Array.from({ length: 101 }, () => ({ key: new Uint8Array(32), size: 1 }))
    }
    const offer = encodeOffer(manifest)
    // The same offer with the u64 file size (offset 1 + 4 + 1 + 32) increased by one.
    const badSize = Uint8Array.from(offer)
    badSize[45] = (badSize[45] as number) + 1
    const bigChunk = h(new Uint8Array(9000))
    const table: [string, Uint8Array, string][] = [
      ['empty body', new Uint8Array(0), XferCode.UNKNOWN_MESSAGE],
      ['unknown type', Uint8Array.of(0x42), XferCode.UNKNOWN_MESSAGE],
      ['truncated offer', offer.subarray(0, offer.length - 1), XferCode.BAD_MANIFEST],
      ['offer with trailing byte', Uint8Array.from([...offer, 0]), XferCode.BAD_MANIFEST],
      ['offer with too many chunks', encodeOffer(bigManifest), XferCode.MANIFEST_TOO_LARGE],
      [
        'offer for a file above maxFileSize',
        encodeOffer({
          fileKey: new Uint8Array(32),
          size: 2_500_000,
          chunks: Array.from({ length: 50 }, () => ({ key: new Uint8Array(32), size: 50_000 }))
        }),
        XferCode.MANIFEST_TOO_LARGE
      ],
      ['offer whose sizes do not add up', badSize, XferCode.BAD_MANIFEST],
      [
        'offer listing a chunk above maxChunkSize',
        encodeOffer({ fileKey: bigChunk, size: 9000, chunks: [{ key: bigChunk, size: 9000 }] }),
        XferCode.BAD_MANIFEST
      ],
      ['offer with a bad magic', hexBytes(`01 62776d67 01 ${'00'.repeat(44)}`), XferCode.BAD_MANIFEST],
      [
        'offer count beyond the body',
        hexBytes(`01 62776d66 01 ${'00'.repeat(40)} 00000005`),
        XferCode.BAD_MANIFEST
      ],
      ['want beyond the manifest', encodeWant([{ start: 8, end: 11 }]), XferCode.WISHLIST_OUT_OF_RANGE],
      ['want with more ranges than chunks', hexBytes('02 0b'), XferCode.WISHLIST_OUT_OF_RANGE],
      ['want with an empty range', hexBytes('02 01 00 00'), XferCode.BAD_WISHLIST],
      ['want with touching ranges', hexBytes('02 02 00 01 00 01'), XferCode.BAD_WISHLIST],
      ['want with a huge gap', hexBytes('02 01 ffffffffffff7f 01'), XferCode.WISHLIST_OUT_OF_RANGE],
      ['want with a non-minimal varint', hexBytes('02 01 8000 01'), XferCode.BAD_VARINT],
      ['chunks without records', hexBytes('03'), XferCode.BAD_MESSAGE],
      ['chunk longer than maxChunkSize', hexBytes('03 00 814000'), XferCode.CHUNK_TOO_LARGE],
      ['chunk record cut short', hexBytes('03 00 05 0102'), XferCode.BAD_MESSAGE],
      ['done with payload', hexBytes('04 00'), XferCode.BAD_MESSAGE],
      ['short ack', hexBytes('05 0000'), XferCode.BAD_MESSAGE],
      ['get without keys', hexBytes('06 00'), XferCode.BAD_MESSAGE],
      ['get for too many keys', hexBytes(`06 09 ${'00'.repeat(32 * 9)}`), XferCode.REQUEST_TOO_LARGE],
      ['get with a partial key', hexBytes(`06 01 ${'00'.repeat(31)}`), XferCode.BAD_MESSAGE],
      ['missing with a count beyond the body', hexBytes('07 05 00'), XferCode.BAD_MESSAGE],
      ['error with lowercase code', Buffer.from('\x7fnope'), XferCode.BAD_MESSAGE],
      ['error with empty code', hexBytes('7f'), XferCode.BAD_MESSAGE],
      ['error with an over-long code', Buffer.from(`\x7f${'A'.repeat(65)}`), XferCode.BAD_MESSAGE]
    ]
    for (const [name, body, code] of table)
      assert.equal(
        codeOf(() => decodeMessage(body, ctx)),
        code,
        name
      )
  })

  it('refuses WANT when no manifest is in play', () => {
    assert.equal(
      codeOf(() => decodeMessage(encodeWant([{ start: 0, end: 1 }]), { limits })),
      XferCode.UNEXPECTED_MESSAGE
    )
  })

  it('fuzz: random and bit-flipped bodies decode or fail with a transfer code, never crash', () => {
    const known = new Set<string>(Object.values(XferCode))
    const samples = [
      encodeOffer(manifest),
      encodeWant([{ start: 1, end: 4 }]),
      encodeChunks([{ index: 2, bytes: prng(40, 1) }]),
      encodeGet(manifest.chunks.slice(0, 3).map((c) => c.key)),
      encodeMissing([1, 2])
    ]
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc
            .tuple(fc.constantFrom(...samples), fc.nat(), fc.integer({ min: 0, max: 7 }), fc.nat())
            .map(([s, pos, bit, cut]) => {
              const b = Uint8Array.from(s)
              const i = pos % b.length
              b[i] = (b[i] as number) ^ (1 << bit)
              return b.subarray(0, Math.max(1, b.length - (cut % 4)))
            })
        ),
        (body) => {
          try {
            decodeMessage(body, ctx)
          } catch (err) {
            assert.ok(isBitwrkError(err) && known.has(err.code), String(err))
          }
        }
      ),
      { numRuns: 2000 }
    )
  })
})

describe('cafs/transfer spec vectors', () => {
  const t = (s: string): Uint8Array => new TextEncoder().encode(s)
  const hx = (b: Uint8Array): string => Buffer.from(b).toString('hex')
  const m: Manifest = {
    fileKey: h(t('abcdef')),
    size: 6,
    chunks: [
      { key: h(t('abc')), size: 3 },
      { key: h(t('def')), size: 3 }
    ]
  }

  it('matches the byte-level example of protocol/spec/cafs-transfer.md', () => {
    assert.equal(hx(m.fileKey), 'bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721')
    assert.equal(
      hx(encodeFrame(encodeOffer(m))),
      '7a0162776d6601bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721000000000000000600000002' +
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad00000003' +
        'cb8379ac2098aa165029e3938a51da0bcecfc008fd6795f401178647f96c5b3400000003'
    )
    const offer = decodeMessage(encodeOffer(m), { limits })
    assert.equal(
      offer.type === 'offer' && hx(offer.manifestKey),
      '25aedbf625719475f0e4c1f4d08ac7886b3314e9bb1a1aad6c5fa7ce7f44d209'
    )
    assert.equal(hx(encodeFrame(encodeWant([{ start: 1, end: 2 }]))), '0402010101')
    assert.equal(hx(encodeFrame(encodeChunks([{ index: 1, bytes: t('def') }]))), '06030103646566')
    assert.equal(hx(encodeFrame(encodeDone())), '0104')
    assert.equal(hx(encodeFrame(encodeAck(m.fileKey))), `2105${hx(m.fileKey)}`)
    assert.equal(
      hx(encodeFrame(encodeGet(m.chunks.map((c) => c.key)))),
      `420602${hx(m.chunks[0]!.key)}${hx(m.chunks[1]!.key)}`
    )
    assert.equal(hx(encodeFrame(encodeChunks([{ index: 0, bytes: t('abc') }]))), '06030003616263')
    assert.equal(hx(encodeFrame(encodeMissing([1]))), '03070101')
    assert.equal(
      hx(encodeFrame(encodeError('CAFS_HASH_MISMATCH'))),
      '137f434146535f484153485f4d49534d41544348'
    )
  })
})
