import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  encodeFrame,
  encodeVarint,
  FrameReader,
  MAX_VARINT_VALUE,
  XferCode
} from '../../../cafs/transfer/index.js'
import { isBitwrkError } from '../../../protocol/errors.js'
import { rejectsWithCode } from '../../support/errors.js'

/** An async source yielding `parts` one by one. */
async function* from(parts: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p
}

/** Splits `bytes` at the given cut points. */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const p of points) {
    out.push(bytes.subarray(prev, p))
    prev = p
  }
  out.push(bytes.subarray(prev))
  return out
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts))
}

/** Every code the frame reader may throw on hostile input. */
const FRAME_CODES = new Set<string>([XferCode.FRAME_TOO_LARGE, XferCode.BAD_VARINT, XferCode.TRUNCATED])

describe('cafs/transfer framing', () => {
  it('encodes varints as unsigned LEB128 (vectors)', () => {
    const vectors: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '8001'],
      [300, 'ac02'],
      [16384, '808001'],
      [131072, '808008'],
      [MAX_VARINT_VALUE, 'ffffffffffff7f']
    ]
    for (const [n, hex] of vectors) assert.equal(Buffer.from(encodeVarint(n)).toString('hex'), hex, String(n))
  })

  it('reads back any sequence of frames however the transport splits them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        async (bodies, cuts) => {
          const wire = concat(bodies.map(encodeFrame))
          const r = new FrameReader(from(split(wire, cuts)))
          for (const b of bodies) assert.deepEqual(await r.read({ maxLength: 300 }), b)
          assert.equal(await r.read({ maxLength: 300 }), undefined)
        }
      ),
      { numRuns: 200 }
    )
  })

  it('refuses a length prefix above the limit before the body arrives', async () => {
    // 0x80 0x80 0x04 = 65536: more than the 1000 allowed, and no body ever follows.
    const r = new FrameReader(from([Uint8Array.of(0x80, 0x80, 0x04)]))
    await rejectsWithCode(r.read({ maxLength: 1000 }), XferCode.FRAME_TOO_LARGE)
  })

  it('refuses non-minimal and over-long varint prefixes', async () => {
    await rejectsWithCode(
      new FrameReader(from([Uint8Array.of(0x81, 0x00, 0x00)])).read({ maxLength: 10 }),
      XferCode.BAD_VARINT
    )
    await rejectsWithCode(
      new FrameReader(from([new Uint8Array(8).fill(0x80)])).read({ maxLength: 2 ** 60 }),
      XferCode.BAD_VARINT
    )
  })

  it('reports a stream that ends inside a frame as truncated, and a clean end as undefined', async () => {
    await rejectsWithCode(
      new FrameReader(from([Uint8Array.of(5, 1, 2)])).read({ maxLength: 10 }),
      XferCode.TRUNCATED
    )
    await rejectsWithCode(
      new FrameReader(from([Uint8Array.of(0x80)])).read({ maxLength: 10 }),
      XferCode.TRUNCATED
    )
    assert.equal(await new FrameReader(from([])).read({ maxLength: 10 }), undefined)
  })

  it('times out a stalled read with CAFS_XFER_TIMEOUT and keeps the pending data', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield Uint8Array.of(3, 9)
      await gate
      yield Uint8Array.of(8, 7)
    }
    const r = new FrameReader(slow())
    await rejectsWithCode(r.read({ maxLength: 10, timeoutMs: 20 }), XferCode.TIMEOUT)
    release()
    assert.deepEqual(await r.read({ maxLength: 10, timeoutMs: 1000 }), Uint8Array.of(9, 8, 7))
  })

  it('turns an abort into CAFS_XFER_ABORTED', async () => {
    const never: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<Uint8Array>>(() => {}) })
    }
    const ac = new AbortController()
    const p = new FrameReader(never).read({ maxLength: 10, signal: ac.signal })
    ac.abort()
    await rejectsWithCode(p, XferCode.ABORTED)
  })

  it('fuzz: arbitrary bytes either decode to frames or fail with a frame code, never crash', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 64 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.integer({ min: 0, max: 40 }),
        async (bytes, cuts, maxLength) => {
          const r = new FrameReader(from(split(bytes, cuts)))
          let consumed = 0
          try {
            for (;;) {
              const body = await r.read({ maxLength })
              if (body === undefined) break
              assert.ok(body.length <= maxLength)
              consumed += body.length
            }
            assert.ok(consumed <= bytes.length)
          } catch (err) {
            assert.ok(isBitwrkError(err) && FRAME_CODES.has(err.code), String(err))
          }
        }
      ),
      { numRuns: 500 }
    )
  })
})
