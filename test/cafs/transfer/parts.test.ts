import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  decodeFrameParts,
  decodeMessage,
  encodeChunks,
  encodeDone,
  encodeFrame,
  encodeMissing,
  FrameReader,
  type Message,
  resolveLimits,
  XferCode
} from '../../../cafs/transfer/index.js'
import { isBitwrkError } from '../../../protocol/errors.js'
import { prng } from './helpers.js'

const limits = resolveLimits({ maxChunkSize: 8192, maxChunks: 100, maxKeysPerRequest: 8 })
const ctx = { limits, chunkCount: 10 }

/** Splits `bytes` at the given cut points (views, no copy). */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const p of points) {
    if (p > prev) out.push(bytes.subarray(prev, p))
    prev = p
  }
  if (prev < bytes.length || out.length === 0) out.push(bytes.subarray(prev))
  return out
}

/** The outcome of a decode: the message without the `owned` marks, or the error code. */
function outcome(fn: () => Message): unknown {
  try {
    const m = fn()
    if (m.type !== 'chunks') return m
    return {
      type: 'chunks',
      records: m.records.map((r) => ({ index: r.index, bytes: Uint8Array.from(r.bytes) }))
    }
  } catch (err) {
    if (isBitwrkError(err)) return err.code
    throw err
  }
}

const hexBytes = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'))

describe('cafs/transfer decodeFrameParts', () => {
  it('decodes CHUNKS split anywhere exactly as decodeMessage decodes the joined body (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ index: fc.nat({ max: 100_000 }), size: fc.integer({ min: 1, max: 3000 }) }), {
          minLength: 1,
          maxLength: 6
        }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (recs, cuts) => {
          const body = encodeChunks(recs.map((r, i) => ({ index: r.index, bytes: prng(r.size, i + 1) })))
          const parts = split(body, cuts)
          assert.deepEqual(
            outcome(() => decodeFrameParts(parts, ctx)),
            outcome(() => decodeMessage(body, ctx))
          )
        }
      ),
      { numRuns: 300 }
    )
  })

  it('hands out every chunk as an array of its own, never a view of the received pieces', () => {
    const a = prng(5000, 1)
    const b = prng(700, 2)
    const body = encodeChunks([
      { index: 0, bytes: a },
      { index: 1, bytes: b }
    ])
    for (const parts of [[body], split(body, [3, 2000, 5003, 5100])]) {
      const m = decodeFrameParts(parts, ctx)
      assert.equal(m.type, 'chunks')
      if (m.type !== 'chunks') return
      for (const r of m.records) {
        assert.equal(r.owned, true)
        // exactly its own memory: not the body's, not a slab of Node's buffer pool
        assert.equal(r.bytes.byteOffset, 0)
        assert.equal(r.bytes.buffer.byteLength, r.bytes.length)
        assert.ok(r.bytes.buffer !== body.buffer)
        assert.ok(!Buffer.isBuffer(r.bytes))
      }
      assert.deepEqual(
        m.records.map((r) => r.bytes),
        [a, b]
      )
    }
  })

  it('refuses hostile CHUNKS bodies with the codes of decodeMessage, however split', () => {
    const table: [string, Uint8Array, string][] = [
      ['chunks without records', hexBytes('03'), XferCode.BAD_MESSAGE],
      ['chunk longer than maxChunkSize', hexBytes('03 00 814000'), XferCode.CHUNK_TOO_LARGE],
      ['chunk record cut short', hexBytes('03 00 05 0102'), XferCode.BAD_MESSAGE],
      ['length varint cut short', hexBytes('03 00 80'), XferCode.BAD_MESSAGE],
      ['non-minimal index varint', hexBytes('03 8000 01 aa'), XferCode.BAD_VARINT],
      ['over-long length varint', hexBytes('03 00 ffffffffffffff7f'), XferCode.BAD_VARINT]
    ]
    for (const [name, body, code] of table) {
      assert.equal(
        outcome(() => decodeMessage(body, ctx)),
        code,
        name
      )
      for (const cuts of [[], [1], [1, 2, 3, 4, 5, 6, 7, 8]])
        assert.equal(
          outcome(() => decodeFrameParts(split(body, cuts), ctx)),
          code,
          `${name} ${cuts}`
        )
    }
  })

  it('decodes other messages by joining them (MISSING, DONE, garbage)', () => {
    for (const body of [encodeMissing([1, 3]), encodeDone(), hexBytes('42 00'), hexBytes('04 00')])
      assert.deepEqual(
        outcome(() => decodeFrameParts(split(body, [1, 2]), ctx)),
        outcome(() => decodeMessage(body, ctx))
      )
  })

  it('fuzz: random and bit-flipped CHUNKS bodies, split anywhere, fail or decode like decodeMessage', () => {
    const sample = encodeChunks([
      { index: 2, bytes: prng(40, 1) },
      { index: 3, bytes: prng(9, 2) }
    ])
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 120 }).map((b) => Uint8Array.from([0x03, ...b])),
          fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 }), fc.nat()).map(([pos, bit, cut]) => {
            const b = Uint8Array.from(sample)
            const i = pos % b.length
            b[i] = (b[i] as number) ^ (1 << bit)
            return b.subarray(0, Math.max(1, b.length - (cut % 4)))
          })
        ),
        fc.array(fc.nat(), { maxLength: 8 }),
        (body, cuts) => {
          assert.deepEqual(
            outcome(() => decodeFrameParts(split(body, cuts), ctx)),
            outcome(() => decodeMessage(body, ctx))
          )
        }
      ),
      { numRuns: 2000 }
    )
  })
})

describe('cafs/transfer FrameReader.readParts', () => {
  it('returns a frame body as views of the received pieces, without copying (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        async (bodies, cuts) => {
          const wire = Uint8Array.from(Buffer.concat(bodies.map(encodeFrame)))
          async function* source(): AsyncGenerator<Uint8Array> {
            yield* split(wire, cuts)
          }
          const r = new FrameReader(source())
          for (const b of bodies) {
            const parts = await r.readParts({ maxLength: 300 })
            assert.ok(parts !== undefined)
            for (const p of parts) assert.equal(p.buffer, wire.buffer)
            assert.deepEqual(Uint8Array.from(Buffer.concat(parts)), b)
          }
          assert.equal(await r.readParts({ maxLength: 300 }), undefined)
        }
      ),
      { numRuns: 200 }
    )
  })

  it('reads frames delivered one byte per piece (thousands of pieces queued at once)', async () => {
    const bodies = [prng(3000, 1), prng(2500, 2), prng(4000, 3)]
    const wire = Uint8Array.from(Buffer.concat(bodies.map(encodeFrame)))
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < wire.length; i++) yield wire.subarray(i, i + 1)
    }
    const r = new FrameReader(source())
    for (const b of bodies) {
      const parts = await r.readParts({ maxLength: 5000 })
      assert.ok(parts !== undefined)
      assert.equal(parts.length, b.length)
      assert.deepEqual(Uint8Array.from(Buffer.concat(parts)), b)
    }
    // the first frame in single bytes, its last byte in one piece with the rest of the wire:
    // the reader drops thousands of consumed pieces and keeps reading inside the last one
    const firstLength = encodeFrame(bodies[0] as Uint8Array).length
    const pieces = [...wire.subarray(0, firstLength - 1)].map((x) => Uint8Array.of(x))
    pieces.push(wire.subarray(firstLength - 1))
    const r2 = new FrameReader(
      (async function* () {
        yield* pieces
      })()
    )
    for (const b of bodies) assert.deepEqual(await r2.read({ maxLength: 5000 }), b)
    assert.equal(await r2.read({ maxLength: 5000 }), undefined)
  })
})
