import { createCipheriv, createHash } from 'node:crypto'
import { Chunker, type ChunkParams, chunkBytes } from '../../cafs/chunker.js'
import { keyToHex, sha256 } from '../../cafs/keys.js'
import type { Bench } from '../bench.js'
import { insert, overwrite, randomBytes } from './cafs-dedup.js'

/** Deterministic pseudo-random bytes (AES-128-CTR keystream). */
function pseudoRandom(n: number, seed: number): Uint8Array {
  const key = Buffer.alloc(16)
  key.writeUInt32BE(seed, 0)
  const out = createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n))
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

/** Seconds to chunk `data` (fed in 1 MiB pieces, like a stream) and SHA-256 every chunk. */
function chunkAndHash(data: Uint8Array): { seconds: number; chunks: number } {
  const t = process.hrtime.bigint()
  const c = new Chunker()
  let chunks = 0
  const piece = 1024 * 1024
  for (let o = 0; o < data.length; o += piece) {
    for (const ch of c.push(data.subarray(o, o + piece))) {
      sha256(ch)
      chunks++
    }
  }
  for (const ch of c.finish()) {
    sha256(ch)
    chunks++
  }
  return { seconds: Number(process.hrtime.bigint() - t) / 1e9, chunks }
}

/** Seconds for one bulk node:crypto SHA-256 over `data`. */
function bulkSha(data: Uint8Array): number {
  const t = process.hrtime.bigint()
  createHash('sha256').update(data).digest()
  return Number(process.hrtime.bigint() - t) / 1e9
}

/**
 * Share of the edited file's bytes that a receiver holding the original would need: the bytes
 * of chunks of the edited file whose key the original does not have.
 */
function resentShare(original: Uint8Array, edited: Uint8Array, params?: ChunkParams): number {
  const have = new Set(chunkBytes(original, undefined, params).map((c) => keyToHex(sha256(c))))
  let resent = 0
  for (const c of chunkBytes(edited, undefined, params))
    if (!have.has(keyToHex(sha256(c)))) resent += c.length
  return resent / edited.length
}

/** The candidates of the CAFS-1 table: MIN / NORMAL / MAX KiB, strict / lax mask bits. */
const CANDIDATES: readonly (readonly [number, number, number, number, number])[] = [
  [16, 32, 128, 17, 13],
  [12, 24, 128, 17, 13],
  [8, 16, 128, 16, 12],
  [8, 14, 128, 16, 12],
  [8, 13, 128, 16, 12],
  [8, 12, 128, 16, 12]
]

/** Seeds of the candidate table: (file, overwrite, insert); the first is `cafs-dedup`'s own. */
const CANDIDATE_SEEDS: readonly (readonly [number, number, number])[] = [
  [1, 2, 3],
  [11, 12, 13],
  [21, 22, 23],
  [31, 32, 33],
  [41, 42, 43],
  [51, 52, 53]
]

/**
 * `--candidates`: one line per candidate of the CAFS-1 table with the resent percentages of
 * `cafs-dedup`'s edits (1 % of 64 MiB at 20 places, overwritten and inserted) for each seed.
 */
function candidateTable(mib: number): Record<string, unknown>[] {
  const pct = (x: number): number => Number((x * 100).toFixed(2))
  return CANDIDATES.map(([min, normal, max, s, l]) => {
    const params = {
      min: min << 10,
      normal: normal << 10,
      max: max << 10,
      maskSmallBits: s,
      maskLargeBits: l
    }
    const over: number[] = []
    const ins: number[] = []
    let mean = 0
    for (const [file, o, i] of CANDIDATE_SEEDS) {
      const v1 = randomBytes(mib << 20, file)
      if (mean === 0) mean = v1.length / chunkBytes(v1, undefined, params).length
      over.push(pct(resentShare(v1, overwrite(v1, 0.01, 20, o), params)))
      ins.push(pct(resentShare(v1, insert(v1, 0.01, 20, i), params)))
    }
    return {
      candidate: `${min}/${normal}/${max} KiB, ${s}/${l} bits`,
      mean_chunk_bytes: Math.round(mean),
      resent_pct_overwrite: over,
      resent_pct_insert: ins
    }
  })
}

/** 1 % of the file changed at 20 places: in place (overwrite) or as insertions. */
function edits(data: Uint8Array, mode: 'overwrite' | 'insert', seed: number): Uint8Array {
  const places = 20
  const len = Math.floor((data.length * 0.01) / places)
  const noise = pseudoRandom(len * places, seed + 1)
  // Evenly spread places with a deterministic jitter, so edits never overlap.
  const stride = Math.floor(data.length / places)
  const at = Array.from({ length: places }, (_, i) => i * stride + ((i * 7919 * 4099) % (stride - len)))
  if (mode === 'overwrite') {
    const out = data.slice()
    at.forEach((p, i) => {
      out.set(noise.subarray(i * len, (i + 1) * len), p)
    })
    return out
  }
  const parts: Uint8Array[] = []
  let prev = 0
  at.forEach((p, i) => {
    parts.push(data.subarray(prev, p), noise.subarray(i * len, (i + 1) * len))
    prev = p
  })
  parts.push(data.subarray(prev))
  return new Uint8Array(Buffer.concat(parts))
}

/**
 * cafs-chunk: chunking plus per-chunk SHA-256 of 256 MiB of pseudo-random data against one bulk
 * node:crypto SHA-256 of the same bytes, measured alternately in one run (best of three each).
 * Also reports the dedup figure of CAFS-1: share resent when 1 % of a 64 MiB file changes at
 * 20 places. With `--candidates` it prints instead the parameter table of CAFS-1 (one line per
 * candidate, six seeds of `cafs-dedup`'s edits each).
 */
export const bench: Bench = {
  name: 'cafs-chunk',
  async run({ quick, args }) {
    if (args.includes('--candidates')) return candidateTable(quick ? 16 : 64)
    const mib = quick ? 32 : 256
    const data = pseudoRandom(mib * 1024 * 1024, 1)
    let best = Number.POSITIVE_INFINITY
    let bestSha = Number.POSITIVE_INFINITY
    let chunks = 0
    for (let round = 0; round < 3; round++) {
      bestSha = Math.min(bestSha, bulkSha(data))
      const r = chunkAndHash(data)
      best = Math.min(best, r.seconds)
      chunks = r.chunks
    }
    const dedupMib = quick ? 16 : 64
    const file = data.subarray(0, dedupMib * 1024 * 1024)
    const overwrite = resentShare(file, edits(file, 'overwrite', 2))
    const insert = resentShare(file, edits(file, 'insert', 3))
    return {
      mib_per_s: Math.round(mib / best),
      sha256_mib_per_s: Math.round(mib / bestSha),
      ratio: Number((bestSha / best).toFixed(3)),
      chunks,
      mean_chunk_bytes: Math.round(data.length / chunks),
      chunks_per_s: Math.round(chunks / best),
      dedup_file_mib: dedupMib,
      resent_pct_overwrite: Number((overwrite * 100).toFixed(2)),
      resent_pct_insert: Number((insert * 100).toFixed(2))
    }
  }
}
