import { createHash } from 'node:crypto'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { type ByteStream, duplexByteStream } from '../../../cafs/transfer/index.js'
import type { AbortOptions, ChunkRef, ChunkStore, Key, Manifest, StoreStats } from '../../../cafs/types.js'
import { BitwrkError } from '../../../protocol/errors.js'

/** SHA-256 (test side, independent of the module under test). */
export function h(bytes: Uint8Array): Key {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/** Lowercase hex. */
export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function prng(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size)
  let x = seed >>> 0 || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = x & 0xff
  }
  return out
}

/** Cuts `data` into chunks of pseudo-random sizes in [minSize, maxSize] and builds the manifest. */
export function chunkFile(
  data: Uint8Array,
  minSize = 1024,
  maxSize = 8192,
  seed = 7
): { manifest: Manifest; chunks: Uint8Array[] } {
  const sizes = prng(Math.ceil(data.length / minSize) * 2 + 2, seed)
  const chunks: Uint8Array[] = []
  let off = 0
  let k = 0
  while (off < data.length) {
    const r = ((sizes[k++]! << 8) | sizes[k++]!) % (maxSize - minSize + 1)
    const size = Math.min(minSize + r, data.length - off)
    chunks.push(data.subarray(off, off + size))
    off += size
  }
  const refs: ChunkRef[] = chunks.map((c) => ({ key: h(c), size: c.length }))
  return { manifest: { fileKey: h(data), size: data.length, chunks: refs }, chunks }
}

/**
 * A tiny map-backed {@link ChunkStore} for these tests: verifies on put (as every store must),
 * counts pins, refuses to delete pinned chunks.
 */
export class MapStore implements ChunkStore {
  readonly map = new Map<string, Uint8Array>()
  readonly pins = new Map<string, number>()
  puts = 0
  private dedup = 0

  async has(key: Key, _o?: AbortOptions): Promise<boolean> {
    return this.map.has(hex(key))
  }
  async get(key: Key, _o?: AbortOptions): Promise<Uint8Array | undefined> {
    return this.map.get(hex(key))
  }
  async put(key: Key, bytes: Uint8Array, _o?: AbortOptions): Promise<void> {
    if (hex(h(bytes)) !== hex(key)) throw new BitwrkError('CAFS_HASH_MISMATCH', 'bad chunk')
    this.puts++
    if (this.map.has(hex(key))) this.dedup++
    else this.map.set(hex(key), Uint8Array.from(bytes))
  }
  async delete(key: Key, _o?: AbortOptions): Promise<boolean> {
    if ((this.pins.get(hex(key)) ?? 0) > 0) return false
    return this.map.delete(hex(key))
  }
  async pin(key: Key): Promise<void> {
    this.pins.set(hex(key), (this.pins.get(hex(key)) ?? 0) + 1)
  }
  async unpin(key: Key): Promise<void> {
    const n = (this.pins.get(hex(key)) ?? 0) - 1
    if (n <= 0) this.pins.delete(hex(key))
    else this.pins.set(hex(key), n)
  }
  stats(): StoreStats {
    let bytes = 0
    for (const v of this.map.values()) bytes += v.length
    return {
      chunks: this.map.size,
      bytes,
      budgetBytes: Number.POSITIVE_INFINITY,
      pinned: this.pins.size,
      evictions: 0,
      dedupHits: this.dedup
    }
  }
  async close(): Promise<void> {}

  /** Sorted keys held: compare before/after to prove a store unchanged. */
  snapshot(): string[] {
    return [...this.map.keys()].sort()
  }
}

/** A store holding `chunks`. */
export async function storeWith(chunks: readonly Uint8Array[]): Promise<MapStore> {
  const s = new MapStore()
  for (const c of chunks) await s.put(h(c), c)
  return s
}

/** A listening TCP server on 127.0.0.1 port 0 whose connections are handed to `onStream`. */
export interface Listener {
  readonly port: number
  /** Opens a new client connection as a ByteStream (with its raw socket for byte counting). */
  connect(): Promise<{ stream: ByteStream; socket: Socket }>
  /** Closes the server and every socket it or `connect` made. */
  close(): Promise<void>
}

/** Starts a {@link Listener}; every accepted socket goes to `onConnection`. */
export async function listen(onConnection: (stream: ByteStream, socket: Socket) => void): Promise<Listener> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    onConnection(duplexByteStream(socket), socket)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('no port')
  const port = addr.port
  return {
    port,
    async connect() {
      const socket = tcpConnect(port, '127.0.0.1')
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve)
        socket.once('error', reject)
      })
      return { stream: duplexByteStream(socket), socket }
    },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

/** A connected pair of real loopback sockets as ByteStreams; `close` tears everything down. */
export async function socketPair(): Promise<{
  a: ByteStream
  b: ByteStream
  aSocket: Socket
  bSocket: Socket
  close: () => Promise<void>
}> {
  let accept: (v: { stream: ByteStream; socket: Socket }) => void = () => {}
  const accepted = new Promise<{ stream: ByteStream; socket: Socket }>((resolve) => {
    accept = resolve
  })
  const l = await listen((stream, socket) => accept({ stream, socket }))
  const client = await l.connect()
  const server = await accepted
  return {
    a: client.stream,
    aSocket: client.socket,
    b: server.stream,
    bSocket: server.socket,
    close: () => l.close()
  }
}
