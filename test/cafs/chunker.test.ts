import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import {
  CHUNK_MAX_SIZE,
  CHUNK_MIN_SIZE,
  CHUNK_PARAMS,
  Chunker,
  chunkBytes,
  chunkStream
} from '../../cafs/chunker.js'
import { GEAR, generateGearTable } from '../../cafs/gear.js'
import { createWasmScanner, defaultScanner, SCAN_MAX_BYTES, scanJs } from '../../cafs/gear-scan.js'
import { keyToHex, sha256 } from '../../cafs/keys.js'
import { GEAR_VECTOR, LCG_FIRST_PARAMS_SIZES, LCG_VECTOR } from './fixtures/lcg-vector.js'
import { lcgBytes, seededBytes, splitAt } from './helpers.js'

function sizes(chunks: readonly Uint8Array[]): number[] {
  return chunks.map((c) => c.length)
}

function pushAll(parts: readonly Uint8Array[]): Uint8Array[] {
  const c = new Chunker()
  const out: Uint8Array[] = []
  for (const p of parts) out.push(...c.push(p))
  out.push(...c.finish())
  return out
}

describe('cafs/chunker', () => {
  const lcg = lcgBytes(LCG_VECTOR.length)

  it('generates the gear table of the CAFS-2 vector', () => {
    const t = generateGearTable()
    assert.equal(t[0], GEAR_VECTOR.first)
    assert.equal(t[1], GEAR_VECTOR.second)
    assert.equal(t[255], GEAR_VECTOR.last)
    const be = Buffer.alloc(1024)
    for (let i = 0; i < 256; i++) be.writeUInt32BE(t[i]!, i * 4)
    assert.equal(createHash('sha256').update(be).digest('hex'), GEAR_VECTOR.tableSha256Hex)
    assert.deepEqual(new Uint32Array(GEAR.buffer), t)
  })

  it('cuts the LCG data of notes I exactly as the committed vector', () => {
    assert.equal(Buffer.from(lcg.subarray(0, 16)).toString('hex'), LCG_VECTOR.firstBytesHex)
    const chunks = chunkBytes(lcg)
    assert.deepEqual(
      chunks.map((c) => [c.length, keyToHex(sha256(c))]),
      LCG_VECTOR.chunks.map(([s, k]) => [s, k])
    )
    assert.equal(keyToHex(sha256(lcg)), LCG_VECTOR.fileKeyHex)
  })

  it('gives no chunk for empty input and one chunk for input below the minimum', () => {
    assert.deepEqual(chunkBytes(new Uint8Array(0)), [])
    assert.deepEqual(sizes(chunkBytes(new Uint8Array(3))), [3])
    assert.deepEqual(sizes(chunkBytes(lcg.subarray(0, CHUNK_MIN_SIZE))), [CHUNK_MIN_SIZE])
  })

  it('cuts content without boundaries at the maximum size', () => {
    // Constant input drives the gear hash to a fixed point whose top bits are not zero.
    const zeros = new Uint8Array(300 * 1024)
    assert.deepEqual(sizes(chunkBytes(zeros)), [
      CHUNK_MAX_SIZE,
      CHUNK_MAX_SIZE,
      300 * 1024 - 2 * CHUNK_MAX_SIZE
    ])
  })

  it('keeps every chunk but the last within [min, max] and covers the input exactly', () => {
    const data = seededBytes(8 * 1024 * 1024, 7)
    const chunks = chunkBytes(data)
    let total = 0
    for (const [i, c] of chunks.entries()) {
      if (i < chunks.length - 1) assert.ok(c.length >= CHUNK_MIN_SIZE && c.length <= CHUNK_MAX_SIZE)
      total += c.length
    }
    assert.equal(total, data.length)
    assert.deepEqual(new Uint8Array(Buffer.concat(chunks)), data)
    // Mean chunk size on random data is documented in CAFS-1 as about 16.7 KiB.
    const mean = data.length / chunks.length
    assert.ok(mean > 14 * 1024 && mean < 20 * 1024, `mean ${mean}`)
  })

  it('cuts with other parameters exactly as the reference (the first parameters of CAFS-1)', () => {
    // Parameters other than CHUNK_PARAMS exist for measurements; they must follow CAFS-3 too.
    const first = { min: 16384, normal: 32768, max: 131072, maskSmallBits: 17, maskLargeBits: 13 }
    for (const scanner of [scanJs, defaultScanner])
      assert.deepEqual(sizes(chunkBytes(lcg, scanner, first)), [...LCG_FIRST_PARAMS_SIZES])
  })

  it('refuses parameters outside 1 <= min <= normal <= max <= SCAN_MAX_BYTES', () => {
    const ok = CHUNK_PARAMS
    for (const bad of [
      { ...ok, min: 0 },
      { ...ok, min: 20000 },
      { ...ok, normal: 200000 },
      { ...ok, max: SCAN_MAX_BYTES + 1 },
      { ...ok, min: Number.NaN }
    ])
      assert.throws(() => new Chunker(defaultScanner, bad), RangeError)
  })

  it('finds the same boundaries whatever the split points of the input', () => {
    const data = seededBytes(700 * 1024, 3)
    const expected = sizes(chunkBytes(data))
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: data.length }), { maxLength: 40 }), (points) => {
        assert.deepEqual(sizes(pushAll(splitAt(data, points))), expected)
      }),
      { numRuns: 60 }
    )
  })

  it('finds the same boundaries when fed small pieces of random sizes', () => {
    const data = seededBytes(400 * 1024, 4)
    const expected = chunkBytes(data).map((c) => keyToHex(sha256(c)))
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        (maxPiece, seed) => {
          const parts: Uint8Array[] = []
          let s = seed
          for (let o = 0; o < data.length; ) {
            s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff
            const n = 1 + (s % maxPiece)
            parts.push(data.subarray(o, o + n))
            o += n
          }
          assert.deepEqual(
            pushAll(parts).map((c) => keyToHex(sha256(c))),
            expected
          )
        }
      ),
      { numRuns: 15 }
    )
  })

  it('runs the WebAssembly engine by default, and it agrees with the reference loop', () => {
    const wasm = createWasmScanner()
    assert.ok(wasm, 'WebAssembly is available in Node')
    assert.notEqual(defaultScanner, scanJs)
    assert.ok(SCAN_MAX_BYTES >= CHUNK_MAX_SIZE)
    const data = seededBytes(SCAN_MAX_BYTES * 2, 8)
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SCAN_MAX_BYTES }),
        fc.integer({ min: 0, max: SCAN_MAX_BYTES }),
        fc.integer({ min: 0, max: SCAN_MAX_BYTES }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 20 }),
        (a, b, len, h, small, large) => {
          const from = Math.min(a, SCAN_MAX_BYTES)
          const to = from + len
          const mid = from + Math.min(b, len)
          const ms = (0xffffffff << (32 - small)) | 0
          const ml = (0xffffffff << (32 - large)) | 0
          assert.equal(wasm(data, from, mid, to, h, ms, ml), scanJs(data, from, mid, to, h, ms, ml))
        }
      ),
      { numRuns: 200 }
    )
    const big = seededBytes(3 * 1024 * 1024, 9)
    assert.deepEqual(sizes(chunkBytes(big, scanJs)), sizes(chunkBytes(big)))
    assert.deepEqual(
      chunkBytes(lcg, scanJs).map((c) => c.length),
      LCG_VECTOR.chunks.map(([s]) => s)
    )
  })

  it('returns views of the pushed buffer for chunks inside one push (zero-copy)', () => {
    const chunks = chunkBytes(lcg)
    for (const c of chunks) assert.ok(c.buffer === lcg.buffer)
  })

  it('resynchronises after an insertion: only chunks near the edit change', () => {
    const data = seededBytes(4 * 1024 * 1024, 11)
    const at = 2 * 1024 * 1024 + 12345
    const edited = new Uint8Array(
      Buffer.concat([data.subarray(0, at), Uint8Array.of(1, 2, 3), data.subarray(at)])
    )
    const a = new Set(chunkBytes(data).map((c) => keyToHex(sha256(c))))
    const b = chunkBytes(edited)
    const changed = b.filter((c) => !a.has(keyToHex(sha256(c))))
    assert.ok(changed.length >= 1 && changed.length <= 3, `changed ${changed.length}`)
  })

  it('streams chunks from an async source and honours abort', async () => {
    const data = seededBytes(300 * 1024, 5)
    async function* src(): AsyncGenerator<Uint8Array> {
      for (let o = 0; o < data.length; o += 10_000) yield data.subarray(o, o + 10_000)
    }
    const got: Uint8Array[] = []
    for await (const c of chunkStream(src())) got.push(c)
    assert.deepEqual(sizes(got), sizes(chunkBytes(data)))
    const ac = new AbortController()
    ac.abort()
    await assert.rejects(
      async () => {
        for await (const _ of chunkStream(src(), { signal: ac.signal })) {
          /* drain */
        }
      },
      { name: 'AbortError' }
    )
  })
})
