import '../../node/polyfill.js'
import { createCipheriv } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import type { Stream } from '@libp2p/interface'
import { ChunkExchange } from '../../cafs/adapters/libp2p/index.js'
import { CHUNK_PARAMS, type ChunkParams, chunkBytes } from '../../cafs/chunker.js'
import { sha256 } from '../../cafs/keys.js'
import { makeManifest } from '../../cafs/manifest.js'
import { MemoryChunkStore } from '../../cafs/store/memory.js'
import type { Manifest } from '../../cafs/types.js'
import { type BitwrkHost, createHost } from '../../node/host/host.js'
import { randomPrivateKey } from '../../node/testing.js'

/** Protocol of the baseline: bytes pushed over one bare libp2p stream. */
export const RAW_PROTOCOL = '/bitwrk/bench-raw/1.0.0'
/** Pieces the baseline sends: 64 KiB, the size of notes/libp2p-stack.md's stream figures. */
export const RAW_PIECE = 64 * 1024

/**
 * The chunker parameters of a measurement: CAFS-1's, or `BENCH_CHUNK_PARAMS=min/normal/max/s/l`
 * (sizes in KiB, mask bits) to measure a candidate (protocol/spec/cafs.md CAFS-1 table).
 */
export function benchChunkParams(): ChunkParams {
  const v = process.env.BENCH_CHUNK_PARAMS
  if (v === undefined || v === '') return CHUNK_PARAMS
  const [min, normal, max, s, l] = v.split('/').map(Number)
  return {
    min: (min ?? 0) * 1024,
    normal: (normal ?? 0) * 1024,
    max: (max ?? 0) * 1024,
    maskSmallBits: s ?? 0,
    maskLargeBits: l ?? 0
  }
}

/** The manifest of `data` cut with `params` (what `manifestOfBytes` gives for CAFS-1's). */
export function benchManifest(data: Uint8Array, params: ChunkParams): Manifest {
  const chunks = chunkBytes(data, undefined, params).map((c) => ({ key: sha256(c), size: c.length }))
  return makeManifest(sha256(data), chunks)
}

/** Deterministic pseudo-random bytes (AES-128-CTR keystream). */
export function pseudoRandom(n: number, seed: number): Uint8Array {
  const key = Buffer.alloc(16)
  key.writeUInt32BE(seed, 0)
  const out = createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n))
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

/** Makes `host` answer `RAW_PROTOCOL` by pushing `data` in `RAW_PIECE`s and closing. */
export async function serveRaw(host: BitwrkHost, data: Uint8Array): Promise<void> {
  await host.libp2p.handle(
    RAW_PROTOCOL,
    async (stream: Stream) => {
      for (let o = 0; o < data.length; o += RAW_PIECE)
        if (!stream.send(data.subarray(o, o + RAW_PIECE))) await stream.onDrain()
      await stream.close()
    },
    { force: true }
  )
}

/**
 * The provider side of the cross-process `transfer` measurement, run as
 * `node dist/scripts/bench/transfer-child.js <mib> <seed>`: a loopback host whose chunk store
 * holds `pseudoRandom(mib MiB, seed)` and which pushes the same bytes on `RAW_PROTOCOL`. Prints
 * one JSON line `{"addr": …}` once it listens and exits when its stdin closes (the parent
 * also kills it by PID).
 */
async function main(): Promise<void> {
  const mib = Number(process.argv[2] ?? 64)
  const seed = Number(process.argv[3] ?? 1)
  const data = pseudoRandom(mib << 20, seed)
  const host = await createHost({
    privateKey: randomPrivateKey(),
    loopbackOnly: true,
    dhtSelfQuery: false
  })
  const store = new MemoryChunkStore()
  for (const c of chunkBytes(data, undefined, benchChunkParams())) await store.put(sha256(c), c)
  const server = new ChunkExchange(host.libp2p, { store })
  await server.start()
  await serveRaw(host, data)
  const addr = host.multiaddrs()[0]
  if (addr === undefined) throw new Error('no address')
  process.stdout.write(`${JSON.stringify({ addr: addr.toString(), peerId: host.peerId })}\n`)
  const stop = async (): Promise<void> => {
    await server.stop()
    await host.stop()
    process.exit(0)
  }
  process.stdin.on('end', () => void stop())
  process.stdin.on('close', () => void stop())
  process.stdin.resume()
  process.on('SIGTERM', () => void stop())
}

// The bench runner imports every module in scripts/bench/: run only as the entry point.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err)
    process.exit(1)
  })
}
