import assert from 'node:assert/strict'
import fc from 'fast-check'
import { encodeFrame } from '../../../cafs/transfer/index.js'
import {
  bucketDigest,
  bucketOf,
  chooseBits,
  DEFAULT_SYNC_LIMITS,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  SyncCode,
  type SyncRequest,
  type SyncResponse
} from '../../../node/sync/index.js'

const L = DEFAULT_SYNC_LIMITS
const ID = (b: number): Uint8Array => new Uint8Array(32).fill(b)

/** Strictly ascending distinct 32-byte ids. */
const idsArb = (max: number): fc.Arbitrary<Uint8Array[]> =>
  fc
    .uniqueArray(fc.uint8Array({ minLength: 32, maxLength: 32 }), {
      minLength: 1,
      maxLength: max,
      selector: (u) => Buffer.from(u).toString('hex')
    })
    .map((a) => a.sort(Buffer.compare))

const bucketsArb = fc
  .uniqueArray(fc.integer({ min: 0, max: 4095 }), { minLength: 1, maxLength: 64 })
  .map((a) => a.sort((x, y) => x - y))

const articleArb = fc.constantFrom('net.bitwrk/gorays/0', 'net.bitwrk/blender/0', 'a/b', 'x')

const requestArb: fc.Arbitrary<SyncRequest> = fc.oneof(
  fc.record({
    type: fc.constant('summaryReq' as const),
    article: articleArb,
    bits: fc.integer({ min: 0, max: 12 })
  }),
  fc.record({ type: fc.constant('getBuckets' as const), buckets: bucketsArb }),
  fc.record({ type: fc.constant('getIds' as const), buckets: bucketsArb }),
  fc.record({ type: fc.constant('getBids' as const), ids: idsArb(40) }),
  fc.record({ type: fc.constant('getSnapshot' as const), key: articleArb.map((a) => `${a}:BTC`) })
)

const summaryArb = fc.integer({ min: 0, max: 6 }).chain((bits) =>
  fc
    .record({
      counts: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 2 ** bits, maxLength: 2 ** bits }),
      digests: fc.uint8Array({ minLength: 16 * 2 ** bits, maxLength: 16 * 2 ** bits })
    })
    .map(
      ({ counts, digests }): SyncResponse => ({
        type: 'summary',
        bits,
        total: counts.reduce((s, c) => s + c, 0),
        counts,
        digests
      })
    )
)

const responseArb: fc.Arbitrary<SyncResponse> = fc.oneof(
  summaryArb,
  fc.record({
    type: fc.constant('bids' as const),
    bids: fc.array(fc.uint8Array({ minLength: 1, maxLength: 1024 }), { minLength: 1, maxLength: 20 })
  }),
  fc.record({ type: fc.constant('ids' as const), ids: idsArb(40) }),
  fc.constant<SyncResponse>({ type: 'done' }),
  fc.constant<SyncResponse>({ type: 'snapshot', header: undefined }),
  fc.record({
    type: fc.constant('snapshot' as const),
    header: fc.record({
      closedEpoch: fc.integer({ min: -1, max: 2 ** 40 }),
      digest: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      count: fc.integer({ min: 0, max: 50_000 })
    })
  }),
  fc.record({ type: fc.constant('error' as const), code: fc.constantFrom('SYNC_BAD_REQUEST', 'X', 'A1_B') })
)

function encodeAny(m: SyncRequest | SyncResponse): Uint8Array {
  return ['summaryReq', 'getBuckets', 'getIds', 'getBids', 'getSnapshot'].includes(m.type)
    ? encodeRequest(m as SyncRequest)
    : encodeResponse(m as SyncResponse)
}

/** Normalises typed arrays for deepEqual (subclass and offset differences do not matter). */
function plain(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x))
  )
}

describe('node/sync codec', () => {
  it('round-trips every request and response (property)', () => {
    fc.assert(
      fc.property(requestArb, (m) => {
        assert.deepEqual(plain(decodeRequest(encodeRequest(m), L)), plain(m))
      })
    )
    fc.assert(
      fc.property(responseArb, (m) => {
        assert.deepEqual(plain(decodeResponse(encodeResponse(m), L)), plain(m))
      })
    )
  })

  it('never throws anything but a sync error on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const decode of [decodeRequest, decodeResponse])
          try {
            decode(bytes, L)
          } catch (err) {
            assert.ok(
              [SyncCode.MALFORMED, SyncCode.TOO_MANY].includes((err as { code: never }).code),
              String(err)
            )
          }
      })
    )
  })

  it('rejects truncated and extended encodings of valid messages with a code (property)', () => {
    fc.assert(
      fc.property(responseArb, fc.nat(), (m, cut) => {
        const bytes = encodeResponse(m)
        if (bytes.length < 2) return
        const short = bytes.subarray(0, cut % bytes.length)
        assert.throws(
          () => decodeResponse(short, L),
          (e: { code: string }) => e.code === SyncCode.MALFORMED
        )
        const longer = Uint8Array.from([...bytes, 0])
        assert.throws(
          () => decodeResponse(longer, L),
          (e: { code: string }) => e.code === SyncCode.MALFORMED
        )
      })
    )
  })

  describe('hostile input table', () => {
    const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0))
    const req: [string, unknown, string][] = [
      ['null', null, SyncCode.MALFORMED],
      ['a string', 'abc', SyncCode.MALFORMED],
      ['a plain array', [1, 0, 1, 0x61], SyncCode.MALFORMED],
      ['empty', new Uint8Array(0), SyncCode.MALFORMED],
      ['unknown type', Uint8Array.of(0x7f), SyncCode.MALFORMED],
      ['a response type', Uint8Array.of(0x84), SyncCode.MALFORMED],
      ['summary: bits 13', Uint8Array.of(1, 13, 1, 0x61), SyncCode.MALFORMED],
      ['summary: bits 255', Uint8Array.of(1, 255, 1, 0x61), SyncCode.MALFORMED],
      ['summary: article length beyond the body', Uint8Array.of(1, 0, 9, 0x61), SyncCode.MALFORMED],
      ['summary: empty article', Uint8Array.of(1, 0, 0), SyncCode.MALFORMED],
      ['summary: invalid article', Uint8Array.of(1, 0, 3, ...ascii('a//')), SyncCode.MALFORMED],
      ['summary: non-ASCII article', Uint8Array.of(1, 0, 2, 0x61, 0xc3), SyncCode.MALFORMED],
      ['summary: trailing byte', Uint8Array.of(1, 0, 1, 0x61, 0), SyncCode.MALFORMED],
      ['buckets: none', Uint8Array.of(2, 0, 0), SyncCode.MALFORMED],
      ['buckets: 65535 announced, 1 present', Uint8Array.of(2, 0xff, 0xff, 0, 1), SyncCode.TOO_MANY],
      ['buckets: descending', Uint8Array.of(2, 0, 2, 0, 5, 0, 4), SyncCode.MALFORMED],
      ['buckets: duplicate', Uint8Array.of(3, 0, 2, 0, 5, 0, 5), SyncCode.MALFORMED],
      ['bids: 1025 ids announced', Uint8Array.of(4, 0x04, 0x01), SyncCode.TOO_MANY],
      ['bids: truncated id', Uint8Array.of(4, 0, 1, ...ID(1).subarray(0, 31)), SyncCode.MALFORMED],
      ['bids: ids not ascending', Uint8Array.of(4, 0, 2, ...ID(2), ...ID(1)), SyncCode.MALFORMED],
      [
        'snapshot: key of 200 bytes',
        Uint8Array.of(5, 200, ...new Uint8Array(200).fill(0x61)),
        SyncCode.MALFORMED
      ]
    ]
    for (const [name, input, code] of req)
      it(`request: ${name} → ${code}`, () => {
        assert.throws(
          () => decodeRequest(input as Uint8Array, L),
          (e: { code: string }) => e.code === code
        )
      })

    const res: [string, Uint8Array, string][] = [
      ['unknown type', Uint8Array.of(0x86), SyncCode.MALFORMED],
      ['a request type', Uint8Array.of(0x01, 0, 1, 0x61), SyncCode.MALFORMED],
      [
        'summary: counts do not add up',
        Uint8Array.of(0x81, 0, 0, 0, 0, 2, 0, 0, 0, 1, ...new Uint8Array(16)),
        SyncCode.MALFORMED
      ],
      [
        'summary: 2^12 buckets announced, none present',
        Uint8Array.of(0x81, 12, 0, 0, 0, 0),
        SyncCode.MALFORMED
      ],
      ['summary: bits 16', Uint8Array.of(0x81, 16, 0, 0, 0, 0), SyncCode.MALFORMED],
      ['bids: none', Uint8Array.of(0x82, 0, 0), SyncCode.MALFORMED],
      ['bids: 257 announced', Uint8Array.of(0x82, 1, 1), SyncCode.TOO_MANY],
      ['bids: zero-length bid', Uint8Array.of(0x82, 0, 1, 0, 0), SyncCode.MALFORMED],
      [
        'bids: 1025-byte bid',
        Uint8Array.of(0x82, 0, 1, 0x04, 0x01, ...new Uint8Array(1025)),
        SyncCode.MALFORMED
      ],
      ['bids: length beyond the body', Uint8Array.of(0x82, 0, 1, 0, 10, 1, 2), SyncCode.MALFORMED],
      ['ids: 1025 announced', Uint8Array.of(0x83, 0x04, 0x01), SyncCode.TOO_MANY],
      ['done: trailing byte', Uint8Array.of(0x84, 0), SyncCode.MALFORMED],
      ['snapshot: flag 2', Uint8Array.of(0x85, 2), SyncCode.MALFORMED],
      [
        'snapshot: epoch above 2^53',
        Uint8Array.of(0x85, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...new Uint8Array(36)),
        SyncCode.MALFORMED
      ],
      [
        'snapshot: 50,001 resting bids',
        Uint8Array.of(0x85, 1, ...new Uint8Array(8), ...new Uint8Array(32), 0, 0, 0xc3, 0x51),
        SyncCode.TOO_MANY
      ],
      ['error: empty code', Uint8Array.of(0xff, 0), SyncCode.MALFORMED],
      ['error: lowercase code', Uint8Array.of(0xff, 2, 0x61, 0x62), SyncCode.MALFORMED],
      ['error: 65-byte code', Uint8Array.of(0xff, 65, ...new Uint8Array(65).fill(0x41)), SyncCode.MALFORMED]
    ]
    for (const [name, input, code] of res)
      it(`response: ${name} → ${code}`, () => {
        assert.throws(
          () => decodeResponse(input, L),
          (e: { code: string }) => e.code === code
        )
      })
  })

  describe('vectors (protocol/spec/sync.md)', () => {
    const frame = (body: Uint8Array): string => Buffer.from(encodeFrame(body)).toString('hex')
    const digests = new Uint8Array(32)
    digests.set(bucketDigest([ID(0)]), 16)
    const vectors: [string, Uint8Array, string][] = [
      [
        'V1',
        encodeRequest({ type: 'summaryReq', article: 'net.bitwrk/gorays/0', bits: 0 }),
        '160100136e65742e62697477726b2f676f726179732f30'
      ],
      ['V2', encodeRequest({ type: 'getBuckets', buckets: [0, 5] }), '0702000200000005'],
      ['V3', encodeRequest({ type: 'getBids', ids: [ID(1)] }), `23040001${'01'.repeat(32)}`],
      [
        'V4',
        encodeResponse({ type: 'summary', bits: 1, total: 1, counts: [0, 1], digests }),
        `2e810100000001${'00'.repeat(20)}0000000166687aadf862bd776c8fc18b8e9f8e20`
      ],
      ['V5', encodeResponse({ type: 'bids', bids: [Uint8Array.of(0x61, 0x0a, 0x62)] }), '088200010003610a62'],
      [
        'V6',
        encodeResponse({ type: 'snapshot', header: { closedEpoch: 1764000000, digest: ID(0xab), count: 2 } }),
        `2e85010000000069248101${'ab'.repeat(32)}00000002`
      ],
      [
        'V7',
        encodeResponse({ type: 'error', code: 'SYNC_BAD_REQUEST' }),
        '12ff1053594e435f4241445f52455155455354'
      ],
      ['V8a', encodeResponse({ type: 'done' }), '0184'],
      ['V8b', encodeResponse({ type: 'snapshot', header: undefined }), '028500']
    ]
    for (const [name, body, hex] of vectors)
      it(`encodes ${name} byte for byte and decodes it back`, () => {
        assert.equal(frame(body), hex)
        const decode = (body[0] as number) < 0x80 ? decodeRequest : decodeResponse
        assert.deepEqual(plain(encodeAny(decode(body, L))), plain(body))
      })
  })

  describe('buckets (SYNC-4)', () => {
    it('takes the first bits of the id as the bucket', () => {
      const id = Uint8Array.of(0b10110011, 0b01010101, ...new Uint8Array(30))
      assert.equal(bucketOf(id, 0), 0)
      assert.equal(bucketOf(id, 1), 1)
      assert.equal(bucketOf(id, 4), 0b1011)
      assert.equal(bucketOf(id, 12), 0b101100110101)
      // the spec's example: an id starting b3 55
      assert.equal(bucketOf(Uint8Array.of(0xb3, 0x55, ...new Uint8Array(30)), 12), 2869)
    })

    it('digests the sorted ids; an empty bucket is 16 zero bytes (vectors)', () => {
      assert.equal(Buffer.from(bucketDigest([])).toString('hex'), '00'.repeat(16))
      // SHA-256 of 32 zero bytes = 66687aad…; the digest is its first 16 bytes
      assert.equal(Buffer.from(bucketDigest([ID(0)])).toString('hex'), '66687aadf862bd776c8fc18b8e9f8e20')
      // SHA-256 of 32 bytes 0x00 then 32 bytes 0x01: the ids in ascending order
      assert.equal(
        Buffer.from(bucketDigest([ID(0), ID(1)])).toString('hex'),
        '5c85955f709283ecce2b74f1b1552918'
      )
    })

    it('chooses about 8 own bids per bucket, at most 2^12 buckets', () => {
      assert.equal(chooseBits(0, 12), 0)
      assert.equal(chooseBits(8, 12), 0)
      assert.equal(chooseBits(9, 12), 1)
      assert.equal(chooseBits(2000, 12), 8)
      assert.equal(chooseBits(10_000, 12), 11)
      assert.equal(chooseBits(10_000_000, 12), 12)
    })
  })
})
