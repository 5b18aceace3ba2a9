import { createCipheriv } from 'node:crypto'
import { createServer, type Socket, connect as tcpConnect } from 'node:net'
import { performance } from 'node:perf_hooks'
import { CHUNK_NORMAL_SIZE, chunkBytes, MemoryChunkStore, manifestOfBytes, sha256 } from '../../cafs/index.js'
import { duplexByteStream, receiveFile, sendFile } from '../../cafs/transfer/index.js'
import type { Bench } from '../bench.js'

/**
 * `cafs-dedup`: how much of a file travels again when a receiver holds the previous version.
 * A pseudo-random file (64 MiB; 16 MiB with --quick) gets 1 % of its bytes overwritten at 20
 * random places (and, separately, 1 % inserted at 20 places); the new version is sent with
 * sendFile/receiveFile over a real loopback TCP socket to a receiver whose store holds the old
 * version. `resent_fraction` = chunk bytes sent / file size (target ≤ 0.05). Side by side: a
 * full transfer of the same file to an empty store, and the bare socket carrying its bytes.
 */

/** Deterministic pseudo-random bytes: AES-128-CTR keystream of a seed (fast and reproducible). */
export function randomBytes(size: number, seed: number): Uint8Array {
  const key = Buffer.alloc(16)
  key.writeUInt32BE(seed >>> 0, 0)
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
  return new Uint8Array(Buffer.concat([c.update(Buffer.alloc(size)), c.final()]))
}

/** xorshift32 for choosing places. */
function places(count: number, max: number, seed: number): number[] {
  let x = seed >>> 0 || 1
  const out: number[] = []
  for (let i = 0; i < count; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out.push(x % max)
  }
  return out.sort((a, b) => a - b)
}

/** `data` with `fraction` of its bytes overwritten at `n` places (regions do not overlap). */
export function overwrite(data: Uint8Array, fraction: number, n: number, seed: number): Uint8Array {
  const out = Uint8Array.from(data)
  const len = Math.floor((data.length * fraction) / n)
  const slot = Math.floor(data.length / n)
  // One place per n-th of the file, at a random offset inside it: no two regions overlap.
  const offs = places(n, slot - len, seed)
  const fill = randomBytes(len * n, seed + 1)
  for (let i = 0; i < n; i++) out.set(fill.subarray(i * len, (i + 1) * len), i * slot + offs[i]!)
  return out
}

/** `data` with `fraction` of its size inserted at `n` random places. */
export function insert(data: Uint8Array, fraction: number, n: number, seed: number): Uint8Array {
  const len = Math.floor((data.length * fraction) / n)
  const at = places(n, data.length, seed)
  const fill = randomBytes(len * n, seed + 1)
  const parts: Uint8Array[] = []
  let prev = 0
  at.forEach((p, i) => {
    parts.push(data.subarray(prev, p), fill.subarray(i * len, (i + 1) * len))
    prev = p
  })
  parts.push(data.subarray(prev))
  return new Uint8Array(Buffer.concat(parts))
}

async function storeOf(data: Uint8Array): Promise<MemoryChunkStore> {
  const s = new MemoryChunkStore()
  for (const c of chunkBytes(data)) await s.put(sha256(c), c)
  return s
}

/** A connected loopback socket pair (server on 127.0.0.1 port 0). */
async function socketPair(): Promise<{ a: Socket; b: Socket; close: () => Promise<void> }> {
  let accepted: (s: Socket) => void = () => {}
  const got = new Promise<Socket>((resolve) => {
    accepted = resolve
  })
  const server = createServer((s) => accepted(s))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('no port')
  const a = tcpConnect(addr.port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    a.once('connect', resolve)
    a.once('error', reject)
  })
  const b = await got
  return {
    a,
    b,
    close: async () => {
      a.destroy()
      b.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** Sends `next` to a receiver holding `prev`; returns the bytes that travelled and the time. */
async function resend(
  prev: Uint8Array,
  next: Uint8Array
): Promise<{ chunkBytes: number; wireBytes: number; ms: number; chunks: number }> {
  const receiver = await storeOf(prev)
  const sender = await storeOf(next)
  const manifest = manifestOfBytes(next)
  const { a, b, close } = await socketPair()
  try {
    const t0 = performance.now()
    const [sent] = await Promise.all([
      sendFile(duplexByteStream(a), manifest, sender),
      receiveFile(duplexByteStream(b), receiver, { expectedFileKey: manifest.fileKey })
    ])
    const ms = performance.now() - t0
    return { chunkBytes: sent.chunkBytesSent, wireBytes: a.bytesWritten, ms, chunks: manifest.chunks.length }
  } finally {
    await close()
  }
}

/** Time to push `data` through a bare loopback socket (the ceiling for a full transfer). */
async function rawSocketMs(data: Uint8Array): Promise<number> {
  const { a, b, close } = await socketPair()
  try {
    let n = 0
    const done = new Promise<void>((resolve) => {
      b.on('data', (d: Buffer) => {
        n += d.length
        if (n >= data.length) resolve()
      })
    })
    const t0 = performance.now()
    for (let o = 0; o < data.length; o += 256 << 10)
      if (!a.write(data.subarray(o, o + (256 << 10))))
        await new Promise((resolve) => a.once('drain', resolve))
    await done
    return performance.now() - t0
  } finally {
    await close()
  }
}

const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d

/** The benchmark. */
export const bench: Bench = {
  name: 'cafs-dedup',
  async run({ quick }) {
    const mib = quick ? 16 : 64
    const changed = 0.01
    const places = 20
    const v1 = randomBytes(mib << 20, 1)
    const v2 = overwrite(v1, changed, places, 2)
    const over = await resend(v1, v2)
    const ins = await resend(v1, insert(v1, changed, places, 3))
    // Side by side: the same file to an empty store (throughput of a full transfer).
    const full = await resend(new Uint8Array(0), v2)
    const raw = await rawSocketMs(v2)
    return {
      file_mib: mib,
      changed_fraction: changed,
      places,
      resent_fraction: round(over.chunkBytes / v2.length),
      resent_fraction_insert: round(ins.chunkBytes / v2.length),
      wire_overhead_fraction: round((over.wireBytes - over.chunkBytes) / v2.length, 5),
      chunks: over.chunks,
      mean_chunk_bytes: Math.round(v2.length / over.chunks),
      normal_chunk_bytes: CHUNK_NORMAL_SIZE,
      differential_ms: Math.round(over.ms),
      full_transfer_ms: Math.round(full.ms),
      full_transfer_mib_s: round(mib / (full.ms / 1000), 1),
      raw_socket_mib_s: round(mib / (raw / 1000), 1),
      full_vs_raw_ratio: round(raw / full.ms, 3)
    }
  }
}
