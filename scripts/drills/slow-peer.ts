import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { CHUNK_PROTOCOL, ChunkExchange, libp2pByteStream } from '../../cafs/adapters/libp2p/index.js'
import { chunkBytes } from '../../cafs/chunker.js'
import { manifestOfBytes } from '../../cafs/manifest.js'
import { MemoryChunkStore } from '../../cafs/store/memory.js'
import type { BitwrkHost } from '../../node/host/host.js'
import { MemorySyncBook, SYNC_PROTOCOL, type SyncPeerReport, SyncService } from '../../node/sync/index.js'
import { createTestnet, testBid } from '../../node/testing.js'
import type { Drill } from '../drill.js'
import { msSince, randomData, sha256 } from './support.js'

/** The drill's article. */
const ARTICLE = 'net.bitwrk/drill/slow'
/** The victim's per-message / idle deadline on both protocols, ms (short for the drill). */
const DEADLINE_MS = 500
/** The victim's whole sync-session deadline, ms. */
const SESSION_MS = 1500
/** Slack on top of a deadline before a stalled stream counts as not cut in time, ms. */
const SLACK_MS = 1000
/** Stalled streams the slow peer tries to keep open per protocol (above the cap of 8, CHUNK-7, SYNC-10). */
const STALLERS = 16
/** Inbound streams per connection and protocol (chunk server and sync defaults). */
const STREAM_CAP = 8

/**
 * `slow-peer`: a victim serves a file on the chunk protocol and a book on the sync protocol.
 * A slow peer keeps opening streams on both and stalls in each (an unfinished frame header,
 * then silence), re-opening whatever is cut, while an honest peer keeps fetching the file and
 * syncing the book from the victim. Passes when every stalled stream is cut within its
 * deadline (+ slack), the victim's streams of both protocols never exceed the caps (plus the
 * honest peer's), and every honest fetch and sync completes. Heap growth is reported.
 */
export const drill: Drill = {
  name: 'slow-peer',
  async run({ small }) {
    const attackMs = small ? 3000 : 8000
    const net = await createTestnet({
      nodes: 3,
      topology: 'line',
      fixedTopology: false,
      host: { dhtSelfQuery: false }
    })
    const exchanges: ChunkExchange[] = []
    const syncs: SyncService[] = []
    try {
      const [victim, honest, slow] = net.hosts as [BitwrkHost, BitwrkHost, BitwrkHost]
      for (const p of [honest, slow])
        await p.libp2p.dial(victim.multiaddrs()[0] as Multiaddr, { signal: AbortSignal.timeout(10_000) })

      const data = randomData(2 << 20)
      const manifest = manifestOfBytes(data)
      const store = new MemoryChunkStore()
      for (const c of chunkBytes(data)) await store.put(sha256(c), c)
      const vx = new ChunkExchange(victim.libp2p, {
        store,
        manifests: async () => manifest,
        idleTimeoutMs: DEADLINE_MS,
        limits: { messageTimeoutMs: DEADLINE_MS }
      })
      const hx = new ChunkExchange(honest.libp2p, { store: new MemoryChunkStore() })
      exchanges.push(vx, hx)
      for (const x of exchanges) await x.start()

      const now = Date.now()
      const book = new MemorySyncBook([ARTICLE])
      for (let i = 0; i < 200; i++) book.addBid(ARTICLE, testBid(ARTICLE, { lifetimeMs: 120_000 }).bytes, now)
      const reports: SyncPeerReport[] = []
      const vs = new SyncService({
        libp2p: victim.libp2p,
        book,
        autoSync: false,
        limits: { messageTimeoutMs: DEADLINE_MS, sessionTimeoutMs: SESSION_MS },
        onReport: (r) => reports.push(r)
      })
      const hs = new SyncService({
        libp2p: honest.libp2p,
        book: new MemorySyncBook([ARTICLE]),
        autoSync: false
      })
      syncs.push(vs, hs)
      for (const s of syncs) await s.start()

      // Sampling the victim: streams of both protocols, heap.
      global.gc?.()
      const heap0 = process.memoryUsage().heapUsed
      let maxStreams = 0
      let maxStreamsFromSlow = 0
      const sampler = setInterval(() => {
        const all = victim.libp2p
          .getConnections()
          .flatMap((c) => c.streams.map((s) => ({ peer: c.remotePeer.toString(), protocol: s.protocol })))
          .filter((s) => s.protocol === CHUNK_PROTOCOL || s.protocol === SYNC_PROTOCOL)
        maxStreams = Math.max(maxStreams, all.length, vx.activeStreams() + vs.openStreams)
        maxStreamsFromSlow = Math.max(maxStreamsFromSlow, all.filter((s) => s.peer === slow.peerId).length)
      }, 20)

      // The slow peer.
      const stop = AbortSignal.timeout(attackMs)
      const stats: Parameters<typeof stallLoop>[4] = {
        opened: 0,
        refused: 0,
        cut: 0,
        lateCut: 0,
        maxLifeMs: 0
      }
      const stallers = [CHUNK_PROTOCOL, SYNC_PROTOCOL].flatMap((proto) =>
        Array.from({ length: STALLERS }, (_, i) =>
          // staggered: libp2p resets every one of a burst of simultaneous streams over the cap
          delay(i * 30).then(() => stallLoop(slow.libp2p, victim.libp2p.peerId, proto, stop, stats))
        )
      )

      // Honest work meanwhile.
      const honestStats = { fetches: 0, fetchFailures: 0, syncs: 0, syncFailures: 0, fetchMsMax: 0 }
      const honestWork = (async () => {
        while (!stop.aborted) {
          const t0 = performance.now()
          try {
            await hx.fetchFile(manifest, { store: new MemoryChunkStore(), providers: [victim.libp2p.peerId] })
            honestStats.fetches++
          } catch {
            honestStats.fetchFailures++
          }
          honestStats.fetchMsMax = Math.max(honestStats.fetchMsMax, msSince(t0))
          try {
            const r = await hs.syncNow(ARTICLE, { peers: [victim.peerId] })
            if (r.failures.length === 0 && r.peers.length === 1) honestStats.syncs++
            else honestStats.syncFailures++
          } catch {
            honestStats.syncFailures++
          }
        }
      })()
      await Promise.all([...stallers, honestWork])
      clearInterval(sampler)
      const heapGrowthMb = Math.round(((process.memoryUsage().heapUsed - heap0) / 2 ** 20) * 10) / 10
      const slowReports = reports.filter((r) => r.peer === slow.peerId).length

      const bound = 2 * STREAM_CAP
      const passed =
        stats.cut > 0 &&
        stats.lateCut === 0 &&
        maxStreamsFromSlow <= bound &&
        honestStats.fetches > 0 &&
        honestStats.fetchFailures === 0 &&
        honestStats.syncs > 0 &&
        honestStats.syncFailures === 0
      return {
        passed,
        ...(passed ? {} : { reason: 'see figures' }),
        attack_ms: attackMs,
        deadline_ms: DEADLINE_MS,
        session_deadline_ms: SESSION_MS,
        stalled_streams_opened: stats.opened,
        streams_refused: stats.refused,
        first_refusal: stats.firstRefusal ?? 'none',
        streams_cut: stats.cut,
        streams_cut_late: stats.lateCut,
        max_stall_life_ms: Math.round(stats.maxLifeMs),
        max_streams_from_slow: maxStreamsFromSlow,
        stream_bound: bound,
        max_streams_total: maxStreams,
        victim_sync_reports_on_slow: slowReports,
        honest_fetches: honestStats.fetches,
        honest_fetch_failures: honestStats.fetchFailures,
        honest_fetch_ms_max: Math.round(honestStats.fetchMsMax),
        honest_syncs: honestStats.syncs,
        honest_sync_failures: honestStats.syncFailures,
        heap_growth_mb: heapGrowthMb
      }
    } finally {
      await Promise.all(syncs.map((s) => s.stop()))
      await Promise.all(exchanges.map((x) => x.stop()))
      await net.stop()
    }
  }
}

/**
 * One staller of the slow peer: opens a stream on `protocol`, sends one byte of a frame header
 * (a varint with its continuation bit set) and then nothing, and waits for the victim to cut
 * it; repeats until `stop`. A refused stream is counted and retried after a short pause.
 */
async function stallLoop(
  libp2p: Pick<Libp2p, 'dialProtocol'>,
  victim: PeerId,
  protocol: string,
  stop: AbortSignal,
  stats: {
    opened: number
    refused: number
    cut: number
    lateCut: number
    maxLifeMs: number
    firstRefusal?: string
  }
): Promise<void> {
  const limit = protocol === SYNC_PROTOCOL ? SESSION_MS : DEADLINE_MS
  while (!stop.aborted) {
    let bs: ReturnType<typeof libp2pByteStream>
    try {
      const s = await libp2p.dialProtocol(victim, protocol, { signal: AbortSignal.timeout(5000) })
      bs = libp2pByteStream(s)
      await bs.write(Uint8Array.of(0x80))
    } catch (err) {
      stats.refused++
      stats.firstRefusal ??= err instanceof Error ? err.message : String(err)
      // a random pause: stallers retrying in step would collide again
      await delay(100 + Math.random() * 200)
      continue
    }
    stats.opened++
    const t0 = performance.now()
    // the victim's cut ends (or breaks) our read side; our own give-up is far beyond it
    const giveUp = setTimeout(() => bs.abort(new Error('not cut')), limit + SLACK_MS + 5000)
    try {
      for await (const _ of bs.source) {
        // the victim may answer with an error frame before cutting: read and drop it
      }
    } catch {
      // reset by the victim: a cut
    }
    clearTimeout(giveUp)
    const life = performance.now() - t0
    stats.maxLifeMs = Math.max(stats.maxLifeMs, life)
    if (life > limit + SLACK_MS) stats.lateCut++
    else stats.cut++
  }
}

/** Resolves after `ms` (pacing the attacker, never a wait for a condition). */
function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
