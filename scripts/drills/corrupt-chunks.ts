import type { Multiaddr } from '@multiformats/multiaddr'
import { ChunkExchange } from '../../cafs/adapters/libp2p/index.js'
import { chunkBytes } from '../../cafs/chunker.js'
import { manifestOfBytes } from '../../cafs/manifest.js'
import { MemoryChunkStore } from '../../cafs/store/memory.js'
import { XferCode } from '../../cafs/transfer/index.js'
import type { BitwrkHost } from '../../node/host/host.js'
import { createTestnet } from '../../node/testing.js'
import type { Drill } from '../drill.js'
import {
  CorruptingStore,
  corruptEntries,
  hex,
  msSince,
  randomData,
  sha256,
  TrustingStore
} from './support.js'

/**
 * `corrupt-chunks`: two providers hold a file; one serves every chunk with a flipped byte (a
 * corrupting store wrapper, its server's own re-hash switched off). A third node fetches from
 * both at once into a store that does NOT re-hash. Passes when the liar is reported bad with
 * `CAFS_HASH_MISMATCH`, no chunk of the liar was accepted, the fetch completed from the honest
 * provider, every stored chunk re-hashes to its key and every chunk of the file is stored.
 */
export const drill: Drill = {
  name: 'corrupt-chunks',
  async run({ small }) {
    const size = small ? 1 << 20 : 8 << 20
    const net = await createTestnet({
      nodes: 3,
      topology: 'star',
      fixedTopology: false,
      host: { dhtSelfQuery: false }
    })
    const exchanges: ChunkExchange[] = []
    try {
      const [fetcher, honest, liar] = net.hosts as [BitwrkHost, BitwrkHost, BitwrkHost]
      // the fetcher dials both providers itself (a star's spokes may lose their hub link)
      for (const p of [honest, liar])
        await fetcher.libp2p.dial(p.multiaddrs()[0] as Multiaddr, { signal: AbortSignal.timeout(10_000) })
      const data = randomData(size)
      const manifest = manifestOfBytes(data)
      const source = new MemoryChunkStore()
      for (const c of chunkBytes(data)) await source.put(sha256(c), c)
      const corrupting = new CorruptingStore(source)
      const start = async (h: BitwrkHost, init: ConstructorParameters<typeof ChunkExchange>[1]) => {
        const x = new ChunkExchange(h.libp2p, init)
        exchanges.push(x)
        await x.start()
        return x
      }
      await start(honest, { store: source })
      await start(liar, { store: corrupting, verifyServed: false })
      const into = new TrustingStore()
      const xf = await start(fetcher, { store: into })
      const bad: { peer: string; code: string }[] = []
      const errors: string[] = []
      const t0 = performance.now()
      const result = await xf.fetchFile(manifest, {
        store: into,
        // the liar first: it gets work from the start
        providers: [liar.libp2p.peerId, honest.libp2p.peerId],
        batchChunks: 4,
        onBadProvider: (e) => bad.push({ peer: e.peer.toString(), code: e.code }),
        onProviderError: (e) =>
          errors.push(`${e.peer.toString() === liar.peerId ? 'liar' : 'honest'}:${e.code}`)
      })
      const fetchMs = msSince(t0)
      const wanted = new Set(manifest.chunks.map((c) => hex(c.key)))
      const held = new Set(into.entries().map((e) => hex(e.key)))
      const missing = [...wanted].filter((k) => !held.has(k)).length
      const corruptStored = corruptEntries(into)
      const liarReported = bad.some((b) => b.peer === liar.peerId && b.code === XferCode.HASH_MISMATCH)
      const honestReported = bad.some((b) => b.peer === honest.peerId)
      const liarAccepted = result.perProvider.get(liar.peerId)?.chunks ?? 0
      const honestChunks = result.perProvider.get(honest.peerId)?.chunks ?? 0
      const passed =
        corrupting.corrupted > 0 &&
        liarReported &&
        !honestReported &&
        liarAccepted === 0 &&
        missing === 0 &&
        corruptStored === 0
      return {
        passed,
        ...(passed ? {} : { reason: 'see figures' }),
        file_bytes: size,
        chunks: wanted.size,
        corrupted_served: corrupting.corrupted,
        liar_reported: liarReported,
        bad_reports: bad.length,
        liar_chunks_accepted: liarAccepted,
        honest_chunks: honestChunks,
        stored_chunks: held.size,
        stored_missing: missing,
        stored_corrupt: corruptStored,
        provider_errors: errors.join(',') || 'none',
        fetch_ms: fetchMs
      }
    } finally {
      await Promise.all(exchanges.map((x) => x.stop()))
      await net.stop()
    }
  }
}
