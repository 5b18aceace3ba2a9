import { createCipheriv } from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import { ChunkExchange } from '../../cafs/adapters/libp2p/index.js'
import { chunkBytes } from '../../cafs/chunker.js'
import { HashPool } from '../../cafs/hash-pool.js'
import { sha256 } from '../../cafs/keys.js'
import { manifestOfBytes } from '../../cafs/manifest.js'
import { MemoryChunkStore } from '../../cafs/store/memory.js'
import { type BitwrkHost, createHost } from '../../node/host.js'
import { randomPrivateKey } from '../../node/testing.js'
import type { Bench } from '../bench.js'

/** Protocol of the baseline: bytes pushed over one bare libp2p stream. */
const RAW_PROTOCOL = '/bitwrk/bench-raw/1.0.0'
/** Pieces the baseline sends: 64 KiB, the size of notes/libp2p-stack.md's stream figures. */
const RAW_PIECE = 64 * 1024

/** Deterministic pseudo-random bytes (AES-128-CTR keystream). */
function pseudoRandom(n: number, seed: number): Uint8Array {
  const key = Buffer.alloc(16)
  key.writeUInt32BE(seed, 0)
  const out = createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n))
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

/** CPU milliseconds of the whole process (every thread, hash workers included) since `from`. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from)
  return (d.user + d.system) / 1000
}

/**
 * Seconds (and process CPU ms) for `receiver` to open a stream to `sender` and read `data` that the sender pushes
 * over it (the same direction and request shape as a chunk fetch).
 */
async function rawPush(
  sender: BitwrkHost,
  receiver: BitwrkHost,
  data: Uint8Array
): Promise<{ seconds: number; cpuMs: number }> {
  await sender.libp2p.handle(
    RAW_PROTOCOL,
    async (stream: Stream) => {
      for (let o = 0; o < data.length; o += RAW_PIECE)
        if (!stream.send(data.subarray(o, o + RAW_PIECE))) await stream.onDrain()
      await stream.close()
    },
    { force: true }
  )
  const t = process.hrtime.bigint()
  const c = process.cpuUsage()
  const s = await receiver.libp2p.dialProtocol(sender.libp2p.peerId, RAW_PROTOCOL, {
    signal: AbortSignal.timeout(10_000)
  })
  // A first byte from the reader side completes protocol negotiation on the sender.
  let n = 0
  for await (const b of s) n += b.byteLength
  const seconds = Number(process.hrtime.bigint() - t) / 1e9
  const cpuMs = cpuSince(c)
  await s.close()
  if (n !== data.length) throw new Error(`raw stream delivered ${n} of ${data.length} bytes`)
  return { seconds, cpuMs }
}

/**
 * transfer: a 64 MiB file fetched through the chunk protocol (`/bitwrk/chunk/1.0.0`, CAFS
 * multi-source fetcher, every chunk re-hashed on both sides, file key checked) between two
 * hosts, against the same 64 MiB pushed over one bare libp2p stream on the same Noise + Yamux
 * connection, alternately in one run (best of three each). Also reports CPU time per MiB of
 * both (process-wide, hash workers included) and its ratio, which load on the machine moves less.
 */
export const bench: Bench = {
  name: 'transfer',
  async run({ quick }) {
    const mib = quick ? 16 : 64
    const data = pseudoRandom(mib << 20, 1)
    const provider = await createHost({
      privateKey: randomPrivateKey(),
      loopbackOnly: true,
      dhtSelfQuery: false
    })
    const fetcher = await createHost({
      privateKey: randomPrivateKey(),
      loopbackOnly: true,
      dhtSelfQuery: false
    })
    const store = new MemoryChunkStore()
    for (const c of chunkBytes(data)) await store.put(sha256(c), c)
    const manifest = manifestOfBytes(data)
    // The node's default: hashing on the main thread. BENCH_HASH_WORKERS=n adds a HashPool.
    const workers = Number(process.env.BENCH_HASH_WORKERS ?? 0)
    const hashPool = workers > 0 ? new HashPool(workers) : undefined
    const server = new ChunkExchange(provider.libp2p, { store, hashPool })
    const client = new ChunkExchange(fetcher.libp2p, { store: new MemoryChunkStore(), hashPool })
    try {
      await server.start()
      await client.start()
      const addr = provider.multiaddrs()[0]
      if (addr === undefined) throw new Error('no address')
      await fetcher.libp2p.dial(addr, { signal: AbortSignal.timeout(10_000) })
      let bestRaw = Number.POSITIVE_INFINITY
      let bestChunk = Number.POSITIVE_INFINITY
      let rawCpu = Number.POSITIVE_INFINITY
      let chunkCpu = Number.POSITIVE_INFINITY
      for (let round = 0; round < 3; round++) {
        const raw = await rawPush(provider, fetcher, data)
        bestRaw = Math.min(bestRaw, raw.seconds)
        rawCpu = Math.min(rawCpu, raw.cpuMs)
        const into = new MemoryChunkStore()
        const t = process.hrtime.bigint()
        const c = process.cpuUsage()
        await client.fetchFile(manifest, {
          providers: [provider.libp2p.peerId],
          store: into
        })
        bestChunk = Math.min(bestChunk, Number(process.hrtime.bigint() - t) / 1e9)
        chunkCpu = Math.min(chunkCpu, cpuSince(c))
        if (into.stats().bytes === 0) throw new Error('nothing fetched')
      }
      return {
        mib_per_s: Math.round(mib / bestChunk),
        raw_libp2p_stream_mib_per_s: Math.round(mib / bestRaw),
        ratio: Number((bestRaw / bestChunk).toFixed(3)),
        file_mib: mib,
        chunks: manifest.chunks.length,
        // CPU per MiB (both ends, every thread): steadier than wall time on a loaded machine.
        cpu_ms_per_mib: Number((chunkCpu / mib).toFixed(2)),
        raw_cpu_ms_per_mib: Number((rawCpu / mib).toFixed(2)),
        cpu_ratio: Number((rawCpu / chunkCpu).toFixed(3)),
        hash_workers: workers
      }
    } finally {
      await client.stop()
      await server.stop()
      await Promise.all([provider.stop(), fetcher.stop()])
      await hashPool?.close()
    }
  }
}
