import { createHash } from 'node:crypto'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { SingleKadDHT } from '@libp2p/kad-dht'
import { CHUNK_PROTOCOL, libp2pByteStream } from '../../../cafs/adapters/libp2p/index.js'
import { chunkBytes } from '../../../cafs/chunker.js'
import { manifestOfBytes } from '../../../cafs/manifest.js'
import { MemoryChunkStore } from '../../../cafs/store/memory.js'
import {
  decodeMessage,
  encodeChunks,
  encodeDone,
  FrameReader,
  resolveLimits,
  writeFrame
} from '../../../cafs/transfer/index.js'
import type { Key, Manifest } from '../../../cafs/types.js'
import type { BitwrkHost } from '../../../node/host/host.js'
import { waitFor } from '../../../node/testing.js'

/** SHA-256 computed on the test side, independent of the module under test. */
export function h(bytes: Uint8Array): Key {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/** Deterministic pseudo-random bytes (xorshift32). */
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

/** A file in a fresh memory store: its bytes, manifest and store. */
export async function storedFile(
  size: number,
  seed: number
): Promise<{
  data: Uint8Array
  manifest: Manifest
  store: MemoryChunkStore
}> {
  const data = prng(size, seed)
  const store = new MemoryChunkStore()
  for (const c of chunkBytes(data)) await store.put(h(c), c)
  return { data, manifest: manifestOfBytes(data), store }
}

/** A manifest lookup over a fixed set of manifests. */
export function lookupOf(...manifests: Manifest[]): (k: Key) => Promise<Manifest | undefined> {
  const byKey = new Map(manifests.map((m) => [Buffer.from(m.fileKey).toString('hex'), m]))
  return async (k) => byKey.get(Buffer.from(k).toString('hex'))
}

/** Waits until every host's Kad-DHT routing table holds at least its connected peers. */
export async function waitForRoutingTables(hosts: readonly BitwrkHost[]): Promise<void> {
  await waitFor(
    () =>
      hosts.every(
        (x) =>
          (x.libp2p.services.dht as SingleKadDHT).routingTable.size >= Math.min(1, x.libp2p.getPeers().length)
      ),
    { timeoutMs: 10_000, what: 'DHT routing tables' }
  )
}

/**
 * Test-only hostile provider: answers GETs on the chunk protocol with every chunk from `store`
 * but flips one byte of the `corruptIndex`-th chunk it sends (after any check a real server
 * does). GET only. Counts what it served and corrupted.
 */
export async function serveCorrupt(
  libp2p: Pick<Libp2p, 'handle'>,
  store: MemoryChunkStore,
  corruptIndex = 0
): Promise<{ corrupted: () => number; served: () => number }> {
  const limits = resolveLimits()
  let corrupted = 0
  let served = 0
  await libp2p.handle(
    CHUNK_PROTOCOL,
    async (stream: Stream) => {
      const bs = libp2pByteStream(stream)
      const reader = new FrameReader(bs.source)
      try {
        for (;;) {
          const body = await reader.read({ maxLength: limits.maxMessageLength, timeoutMs: 5000 })
          if (body === undefined) break
          const msg = decodeMessage(body, { limits })
          if (msg.type !== 'get') throw new Error('test server: GET only')
          for (let i = 0; i < msg.keys.length; i++) {
            const bytes = (await store.get(msg.keys[i]!))!.slice()
            if (served++ === corruptIndex) {
              bytes[0] = (bytes[0] as number) ^ 0xff
              corrupted++
            }
            await writeFrame(bs, encodeChunks([{ index: i, bytes }]), { timeoutMs: 5000 })
          }
          await writeFrame(bs, encodeDone(), { timeoutMs: 5000 })
        }
        await bs.close()
      } catch {
        bs.abort()
      }
    },
    { force: true }
  )
  return { corrupted: () => corrupted, served: () => served }
}

/** Test-only stalling provider: accepts chunk streams, reads requests, never answers. */
export async function serveStall(libp2p: Pick<Libp2p, 'handle'>): Promise<{ streams: () => number }> {
  let streams = 0
  const open: Stream[] = []
  await libp2p.handle(
    CHUNK_PROTOCOL,
    async (stream: Stream) => {
      streams++
      open.push(stream)
      try {
        for await (const _ of stream) {
          // swallow requests
        }
      } catch {
        // the fetcher gave up on us: expected
      }
    },
    { force: true }
  )
  return { streams: () => streams }
}

/** Every chunk `store` holds for `m`, re-hashed on the test side: true when all match. */
export async function holdsIntact(store: MemoryChunkStore, m: Manifest): Promise<boolean> {
  for (const c of m.chunks) {
    const b = await store.get(c.key)
    if (b === undefined || Buffer.compare(h(b), c.key) !== 0) return false
  }
  return true
}
