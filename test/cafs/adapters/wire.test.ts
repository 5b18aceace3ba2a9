import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  decodeHave,
  decodeHaveReply,
  decodeManifestGet,
  encodeHave,
  encodeHaveReply,
  encodeManifestGet,
  QueryType
} from '../../../cafs/adapters/libp2p/index.js'
import { peekType } from '../../../cafs/adapters/libp2p/peek.js'
import { keyToCid } from '../../../cafs/keys.js'
import { type ByteStream, encodeError, encodeFrame, XferCode } from '../../../cafs/transfer/index.js'
import { isBitwrkError } from '../../../protocol/errors.js'
import { h } from './helpers.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const EMPTY = h(new Uint8Array())
const ABC = h(new TextEncoder().encode('abc'))

/** A ByteStream over fixed pieces, for the peek tests. */
function piecesStream(pieces: Uint8Array[]): ByteStream {
  return {
    source: {
      async *[Symbol.asyncIterator]() {
        yield* pieces
      }
    },
    write: async () => {},
    close: async () => {},
    abort: () => {}
  }
}

async function collect(s: ByteStream): Promise<string> {
  const out: Uint8Array[] = []
  for await (const b of s.source) out.push(b)
  return hex(Buffer.concat(out))
}

describe('cafs/adapters/libp2p wire', () => {
  it('encodes the spec vectors (chunk-exchange.md)', () => {
    assert.equal(hex(encodeFrame(encodeHave([EMPTY, ABC]))), `421002${hex(EMPTY)}${hex(ABC)}`)
    assert.equal(hex(encodeFrame(encodeHaveReply([true, false, true]))), '03110305')
    assert.equal(hex(encodeFrame(encodeHaveReply([true, ...Array(7).fill(false), true]))), '0411090101')
    assert.equal(hex(encodeFrame(encodeManifestGet(ABC))), `2112${hex(ABC)}`)
    assert.equal(hex(encodeFrame(encodeError(XferCode.UNKNOWN_MESSAGE))).slice(0, 4), '1a7f')
    assert.equal(keyToCid(ABC).toString(), 'bafkreif2pall7dybz7vecqka3zo24irdwabwdi4wc55jznaq75q7eaavvu')
  })

  it('round trips HAVE and HAVE_REPLY', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 40 }),
        (keys) => {
          assert.deepEqual(
            decodeHave(encodeHave(keys), 1024).map(hex),
            keys.map((k) => hex(k))
          )
        }
      )
    )
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 100 }), (bits) => {
        assert.deepEqual(decodeHaveReply(encodeHaveReply(bits), bits.length), bits)
      })
    )
    assert.deepEqual(decodeManifestGet(encodeManifestGet(ABC)), ABC)
  })

  const hostile: [string, () => unknown, string][] = [
    ['HAVE without keys', () => decodeHave(Uint8Array.of(QueryType.HAVE, 0), 8), XferCode.BAD_MESSAGE],
    ['HAVE over the key limit', () => decodeHave(encodeHave([ABC, ABC, ABC]), 2), XferCode.REQUEST_TOO_LARGE],
    ['HAVE truncated', () => decodeHave(encodeHave([ABC]).subarray(0, 20), 8), XferCode.BAD_MESSAGE],
    [
      'HAVE with trailing bytes',
      () => decodeHave(Uint8Array.from([...encodeHave([ABC]), 0]), 8),
      XferCode.BAD_MESSAGE
    ],
    [
      'HAVE with an over-long varint',
      () => decodeHave(Uint8Array.of(0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1), 8),
      XferCode.BAD_VARINT
    ],
    ['HAVE_REPLY count mismatch', () => decodeHaveReply(encodeHaveReply([true]), 2), XferCode.BAD_MESSAGE],
    [
      'HAVE_REPLY padding bits set',
      () => decodeHaveReply(Uint8Array.of(0x11, 3, 0xff), 3),
      XferCode.BAD_MESSAGE
    ],
    ['HAVE_REPLY short bitmap', () => decodeHaveReply(Uint8Array.of(0x11, 9, 1), 9), XferCode.BAD_MESSAGE],
    [
      'HAVE_REPLY of another type',
      () => decodeHaveReply(Uint8Array.of(0x04), 1),
      XferCode.UNEXPECTED_MESSAGE
    ],
    [
      'MANIFEST_GET short',
      () => decodeManifestGet(encodeManifestGet(ABC).subarray(0, 32)),
      XferCode.BAD_MESSAGE
    ],
    [
      'MANIFEST_GET long',
      () => decodeManifestGet(Uint8Array.from([...encodeManifestGet(ABC), 1])),
      XferCode.BAD_MESSAGE
    ]
  ]
  for (const [name, f, code] of hostile)
    it(`refuses ${name} with ${code}`, () => {
      assert.throws(f, (e) => isBitwrkError(e, code))
    })

  it('peeks the first message type across split pieces and replays every byte', async () => {
    const frame = encodeFrame(encodeHave([ABC]))
    const pieces = [frame.subarray(0, 1), frame.subarray(1, 2), frame.subarray(2)]
    const p = await peekType(piecesStream(pieces), 1000, new AbortController().signal)
    assert.equal(p.type, QueryType.HAVE)
    assert.equal(await collect(p.stream), hex(frame))
    const big = encodeFrame(new Uint8Array(300).fill(6))
    const q = await peekType(piecesStream([big]), 1000, new AbortController().signal)
    assert.equal(q.type, 6)
    assert.equal((await peekType(piecesStream([]), 1000, new AbortController().signal)).type, undefined)
    // a zero-length frame and a varint of 7 continuation bytes are not frames here: -1
    assert.equal(
      (await peekType(piecesStream([Uint8Array.of(0)]), 1000, new AbortController().signal)).type,
      -1
    )
    const long = Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1)
    assert.equal((await peekType(piecesStream([long]), 1000, new AbortController().signal)).type, -1)
    assert.equal(
      (await peekType(piecesStream([Uint8Array.of(5)]), 1000, new AbortController().signal)).type,
      -1
    )
  })

  it('times out a stream that sends nothing', async () => {
    const silent: ByteStream = {
      ...piecesStream([]),
      source: {
        [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Uint8Array>>(() => {}) })
      }
    }
    await assert.rejects(peekType(silent, 50, new AbortController().signal), (e) =>
      isBitwrkError(e, XferCode.TIMEOUT)
    )
  })
})
