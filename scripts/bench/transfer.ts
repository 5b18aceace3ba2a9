import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { crc32 } from 'node:zlib'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { ChunkExchange } from '../../cafs/adapters/libp2p/index.js'
import { chunkBytes } from '../../cafs/chunker.js'
import { HashPool } from '../../cafs/hash-pool.js'
import { FileHasher, sha256 } from '../../cafs/keys.js'
import { MemoryChunkStore } from '../../cafs/store/memory.js'
import { type BitwrkHost, createHost } from '../../node/host/host.js'
import { randomPrivateKey } from '../../node/testing.js'
import type { Bench } from '../bench.js'
import { benchChunkParams, benchManifest, pseudoRandom, RAW_PROTOCOL, serveRaw } from './transfer-child.js'

/** Deadline for the child to listen (it first builds and chunks the file): generous on 2 loaded cores. */
const CHILD_READY_MS = 120_000
/** Deadline for one 64 MiB transfer in the cross-process mode. */
const ROUND_MS = 120_000
/** Deadline for the child to exit after SIGTERM before SIGKILL. */
const CHILD_EXIT_MS = 5_000

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
  await serveRaw(sender, data)
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
 * CPU ms per MiB of the hash passes the chunk path is required to make over `data`, each the
 * best of three over the same chunks the provider serves: one SHA-256 per chunk (the fetcher's
 * check, XFER-10; and the provider's re-hash on serve when its store has no at-rest check) and
 * the file key over every chunk in order (XFER-21). Also a CRC-32 per chunk (`zlib.crc32`): what a
 * fast at-rest checksum in place of the provider's re-hash would cost (invariant 8).
 */
function hashPasses(data: Uint8Array): { chunkSha: number; fileSha: number; chunkCrc: number } {
  const chunks = chunkBytes(data, undefined, benchChunkParams())
  const mib = data.length / (1 << 20)
  let chunkSha = Number.POSITIVE_INFINITY
  let fileSha = Number.POSITIVE_INFINITY
  let chunkCrc = Number.POSITIVE_INFINITY
  for (let round = 0; round < 3; round++) {
    let c = process.cpuUsage()
    for (const ch of chunks) crc32(ch)
    chunkCrc = Math.min(chunkCrc, cpuSince(c) / mib)
    c = process.cpuUsage()
    for (const ch of chunks) sha256(ch)
    chunkSha = Math.min(chunkSha, cpuSince(c) / mib)
    c = process.cpuUsage()
    const h = new FileHasher()
    for (const ch of chunks) h.update(ch)
    h.digest()
    fileSha = Math.min(fileSha, cpuSince(c) / mib)
  }
  return { chunkSha, fileSha, chunkCrc }
}

/** The single-process measurement: both hosts in this process, sharing its one main thread. */
async function singleProcess(mib: number, data: Uint8Array): Promise<Record<string, number>> {
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
  const params = benchChunkParams()
  for (const c of chunkBytes(data, undefined, params)) await store.put(sha256(c), c)
  const manifest = benchManifest(data, params)
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
    const passes = hashPasses(data)
    const rawPerMib = rawCpu / mib
    const chunkPerMib = chunkCpu / mib
    // The raw stream plus the passes the design makes: the fetcher's chunk check and file key,
    // and the provider's re-hash on serve.
    const required = rawPerMib + 2 * passes.chunkSha + passes.fileSha
    return {
      mib_per_s: Math.round(mib / bestChunk),
      raw_libp2p_stream_mib_per_s: Math.round(mib / bestRaw),
      ratio: Number((bestRaw / bestChunk).toFixed(3)),
      file_mib: mib,
      chunks: manifest.chunks.length,
      mean_chunk_bytes: Math.round(data.length / manifest.chunks.length),
      // CPU per MiB (both ends, every thread): steadier than wall time on a loaded machine.
      cpu_ms_per_mib: Number((chunkCpu / mib).toFixed(2)),
      raw_cpu_ms_per_mib: Number((rawCpu / mib).toFixed(2)),
      cpu_ratio: Number((rawCpu / chunkCpu).toFixed(3)),
      sha_chunks_cpu_ms_per_mib: Number(passes.chunkSha.toFixed(2)),
      sha_file_cpu_ms_per_mib: Number(passes.fileSha.toFixed(2)),
      crc32_chunks_cpu_ms_per_mib: Number(passes.chunkCrc.toFixed(2)),
      required_cpu_ms_per_mib: Number(required.toFixed(2)),
      // What the chunk path must spend over what it spends (1 = nothing but the required work).
      efficiency: Number((required / chunkPerMib).toFixed(3)),
      hash_workers: workers
    }
  } finally {
    await client.stop()
    await server.stop()
    await Promise.all([provider.stop(), fetcher.stop()])
    await hashPool?.close()
  }
}

/** Median of a non-empty list. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2
}

/** Resolves with the child's first stdout line (parsed), rejects on exit or after `ms`. */
function firstLine(child: ChildProcess, ms: number): Promise<{ addr: string; peerId: string }> {
  return new Promise((resolve, reject) => {
    const stdout = child.stdout
    if (stdout === null) return reject(new Error('child has no stdout'))
    const lines = createInterface({ input: stdout })
    const timer = setTimeout(() => {
      lines.close()
      reject(new Error(`transfer child not ready within ${ms} ms`))
    }, ms)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`transfer child exited with ${code}`))
    })
    lines.once('line', (line) => {
      clearTimeout(timer)
      lines.close()
      try {
        resolve(JSON.parse(line) as { addr: string; peerId: string })
      } catch (err) {
        reject(err)
      }
    })
  })
}

/** Stops the child by its PID: SIGTERM, then SIGKILL if it has not exited within `CHILD_EXIT_MS`. */
async function killChild(child: ChildProcess): Promise<void> {
  const pid = child.pid
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.stdin?.end()
  process.kill(pid, 'SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), CHILD_EXIT_MS)
  })
  if ((await Promise.race([exited, late])) === 'late') {
    process.kill(pid, 'SIGKILL')
    await exited
  }
  clearTimeout(timer)
}

/**
 * The cross-process measurement: the provider host runs in a child process
 * (`transfer-child.js`, its own main thread and Noise), this process fetches. Alternates
 * `rounds` raw pushes and chunk-protocol fetches of the same `mib` MiB over one connection.
 */
async function crossProcess(mib: number, data: Uint8Array, rounds: number): Promise<Record<string, number>> {
  const manifest = benchManifest(data, benchChunkParams())
  const childPath = fileURLToPath(new URL('./transfer-child.js', import.meta.url))
  const child = spawn(process.execPath, [childPath, String(mib), '1'], {
    stdio: ['pipe', 'pipe', 'inherit']
  })
  // Same switch as the single-process mode; the pool serves the fetching side only.
  const workers = Number(process.env.BENCH_HASH_WORKERS ?? 0)
  const hashPool = workers > 0 ? new HashPool(workers) : undefined
  // BENCH_REQUESTS_PER_PROVIDER=n overrides the fetcher's requests in flight (default: the node's).
  const lanes = process.env.BENCH_REQUESTS_PER_PROVIDER
  const requestsPerProvider = lanes === undefined ? undefined : Number(lanes)
  let fetcher: BitwrkHost | undefined
  let client: ChunkExchange | undefined
  try {
    const ready = await firstLine(child, CHILD_READY_MS)
    const providerId = peerIdFromString(ready.peerId)
    fetcher = await createHost({ privateKey: randomPrivateKey(), loopbackOnly: true, dhtSelfQuery: false })
    client = new ChunkExchange(fetcher.libp2p, { store: new MemoryChunkStore(), hashPool })
    await client.start()
    await fetcher.libp2p.dial(multiaddr(ready.addr), { signal: AbortSignal.timeout(10_000) })
    const raw: number[] = []
    const chunk: number[] = []
    for (let round = 0; round < rounds; round++) {
      let t = process.hrtime.bigint()
      const s = await fetcher.libp2p.dialProtocol(providerId, RAW_PROTOCOL, {
        signal: AbortSignal.timeout(10_000)
      })
      let n = 0
      const deadline = setTimeout(() => s.abort(new Error(`raw round over ${ROUND_MS} ms`)), ROUND_MS)
      try {
        for await (const b of s) n += b.byteLength
      } finally {
        clearTimeout(deadline)
      }
      raw.push(Number(process.hrtime.bigint() - t) / 1e9)
      await s.close()
      if (n !== data.length) throw new Error(`raw stream delivered ${n} of ${data.length} bytes`)
      const into = new MemoryChunkStore()
      t = process.hrtime.bigint()
      await client.fetchFile(manifest, {
        providers: [providerId],
        store: into,
        signal: AbortSignal.timeout(ROUND_MS),
        ...(requestsPerProvider === undefined ? {} : { requestsPerProvider })
      })
      chunk.push(Number(process.hrtime.bigint() - t) / 1e9)
      if (into.stats().bytes < data.length)
        throw new Error(`fetched ${into.stats().bytes} of ${data.length} bytes`)
    }
    const bestRaw = Math.min(...raw)
    const bestChunk = Math.min(...chunk)
    return {
      cross_process_mib_per_s: Math.round(mib / bestChunk),
      cross_process_raw_mib_per_s: Math.round(mib / bestRaw),
      cross_process_ratio: Number((bestRaw / bestChunk).toFixed(3)),
      cross_process_median_mib_per_s: Math.round(mib / median(chunk)),
      cross_process_median_raw_mib_per_s: Math.round(mib / median(raw)),
      cross_process_median_ratio: Number((median(raw) / median(chunk)).toFixed(3)),
      cross_process_rounds: rounds,
      cross_process_requests_per_provider: requestsPerProvider ?? 0
    }
  } finally {
    await client?.stop()
    await fetcher?.stop()
    await killChild(child)
    await hashPool?.close()
  }
}

/**
 * transfer: a 64 MiB file fetched through the chunk protocol (`/bitwrk/chunk/1.0.0`, CAFS
 * multi-source fetcher, every chunk re-hashed on both sides, file key checked) between two
 * hosts, against the same 64 MiB pushed over one bare libp2p stream on the same Noise + Yamux
 * connection, alternately in one run (best of three each). Also reports CPU time per MiB of
 * both (process-wide, hash workers included) and its ratio, which load on the machine moves less.
 * Then the same pair with the provider in a child process (`cross_process_*`: best of three
 * and medians), as real nodes run.
 */
export const bench: Bench = {
  name: 'transfer',
  async run({ quick }) {
    const mib = quick ? 16 : 64
    const data = pseudoRandom(mib << 20, 1)
    const single = await singleProcess(mib, data)
    // BENCH_TRANSFER_SINGLE_ONLY=1 skips the child process (e.g. where spawning is not wanted).
    const cross = process.env.BENCH_TRANSFER_SINGLE_ONLY === '1' ? {} : await crossProcess(mib, data, 3)
    return { ...single, ...cross }
  }
}
