import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import {
  CHUNK_PROTOCOL,
  ChunkExchange,
  libp2pByteStream,
  QueryType
} from '../../cafs/adapters/libp2p/index.js'
import { MemoryChunkStore } from '../../cafs/store/memory.js'
import { importStream } from '../../cafs/stream.js'
import { encodeVarint, MsgType } from '../../cafs/transfer/index.js'
import { type Daemon, startDaemon } from '../../node/daemon/index.js'
import { bidTopic, DEFAULT_MAX_RPC_BYTES, txTopic } from '../../node/gossip/index.js'
import { type BitwrkHost, createHost } from '../../node/host/host.js'
import {
  DEFAULT_SYNC_LIMITS,
  decodeResponse,
  MemorySyncBook,
  SYNC_PROTOCOL,
  SyncService
} from '../../node/sync/index.js'
import { randomPrivateKey, testBid, waitFor } from '../../node/testing.js'
import { MAX_TRADE_FRAME, TRADE_PROTOCOL, TradeMsg } from '../../node/trade/wire.js'
import { money } from '../../protocol/money/index.js'
import type { Drill } from '../drill.js'
import { msSince, randomData } from './support.js'

/** The drill's article. */
const ARTICLE = 'net.bitwrk/drill/oversized'
/** Length an oversized stream frame declares: 64 MiB, far above every protocol's frame limit. */
const DECLARED_BYTES = 64 << 20
/** Bytes actually sent after the declared length (the victim must not wait for the rest). */
const SENT_BYTES = 256 << 10
/** An oversized stream must be cut within this, ms (per-message deadlines are 10 s or more). */
const CUT_WITHIN_MS = 3000
/** Heap growth allowed over the whole attack, MiB (the attacker sends far more than this). */
const HEAP_BOUND_MB = 64

/** Codes each surface may answer an oversized input with (`cut`: reset without an error frame). */
const EXPECTED: Record<string, ReadonlySet<string>> = {
  // CHUNK-7 frame limit; CHUNK-9: once the invalid-request budget is spent the stream is refused
  chunk: new Set(['CAFS_XFER_FRAME_TOO_LARGE', 'cut']),
  // SYNC-9 frame limit (the transfer code maps to SYNC_OVERSIZED); SYNC-10: over budget, refused
  sync: new Set(['SYNC_OVERSIZED', 'cut']),
  // TRADE-3: a length byte above 127; TRADE-16: once the invalid-request budget is spent the stream is refused
  trade: new Set(['TRADE_PROTOCOL', 'cut']),
  // GOSSIP-4 per-message limit (GOSSIP-10: an RPC above 1 MiB is dropped by GossipSub unread)
  gossip: new Set(['GOSSIP_TOO_LARGE']),
  // API-4
  http: new Set(['API_TOO_LARGE'])
}

/**
 * `oversized`: a daemon (node, trade, sync, chunk exchange, local API) is sent oversized input
 * on every surface by an attacker peer: gossip messages above the per-message limit on both
 * topics and an RPC above GossipSub's frame limit; stream frames declaring 64 MiB (then 256 KiB
 * of junk and silence) on `/bitwrk/chunk/1.0.0`, `/bitwrk/sync/1.0.0` and a length byte above
 * 127 on `/bitwrk/trade/1.0.0`; HTTP bodies above the form, JSON and upload limits (declared and
 * chunked). Passes when every input is refused with its expected code (`EXPECTED`), every
 * stream is cut within {@link CUT_WITHIN_MS}, heap growth stays under {@link HEAP_BOUND_MB} MiB,
 * and afterwards an honest peer still fetches a file, syncs the book, gets a bid delivered by
 * gossip, and the API still answers.
 */
export const drill: Drill = {
  name: 'oversized',
  async run({ small }) {
    const rounds = small ? 3 : 20
    const dir = await mkdtemp(join(tmpdir(), 'bitwrk-drill-oversized-'))
    let daemon: Daemon | undefined
    const hosts: BitwrkHost[] = []
    const extra: { stop(): Promise<void> }[] = []
    try {
      daemon = await startDaemon({ dataDir: dir, apiPort: 0, articles: [ARTICLE] })
      const victim = daemon.node
      const victimId = victim.host.libp2p.peerId
      const addr = victim.host.multiaddrs()[0] as Multiaddr
      const mkHost = async () => {
        const h = await createHost({
          privateKey: randomPrivateKey(),
          loopbackOnly: true,
          gossip: { heartbeatIntervalMs: 100 },
          dhtSelfQuery: false
        })
        hosts.push(h)
        await h.libp2p.dial(addr, { signal: AbortSignal.timeout(10_000) })
        return h
      }
      const attacker = await mkHost()
      const honest = await mkHost()
      const answers: Record<string, Map<string, number>> = {}
      const note = (surface: string, code: string) => {
        answers[surface] ??= new Map()
        const m = answers[surface] as Map<string, number>
        m.set(code, (m.get(code) ?? 0) + 1)
      }
      let maxCutMs = 0
      let sentBytes = 0
      // heap sampled in this process, which also holds the attacker: an upper bound
      const heap0 = process.memoryUsage().heapUsed
      let heapMax = heap0
      const sampler = setInterval(() => {
        heapMax = Math.max(heapMax, process.memoryUsage().heapUsed)
      }, 20)

      // Streams: chunk (a query and a chunk session), sync, trade.
      const junk = randomData(SENT_BYTES)
      const oversizedFrame = (type: number) =>
        Buffer.concat([encodeVarint(DECLARED_BYTES), Uint8Array.of(type), junk.subarray(1)])
      const attacks: { surface: string; protocol: string; bytes: Uint8Array }[] = [
        { surface: 'chunk', protocol: CHUNK_PROTOCOL, bytes: oversizedFrame(QueryType.HAVE) },
        { surface: 'chunk', protocol: CHUNK_PROTOCOL, bytes: oversizedFrame(MsgType.GET) },
        { surface: 'sync', protocol: SYNC_PROTOCOL, bytes: oversizedFrame(0x01) },
        {
          surface: 'trade',
          protocol: TRADE_PROTOCOL,
          bytes: Buffer.concat([Uint8Array.of(MAX_TRADE_FRAME + 1, TradeMsg.HELLO), junk])
        }
      ]
      for (let r = 0; r < rounds; r++)
        for (const a of attacks) {
          const { code, ms } = await oversizedStream(attacker, victimId, a.protocol, a.bytes)
          note(a.surface, code)
          sentBytes += a.bytes.length
          maxCutMs = Math.max(maxCutMs, ms)
        }

      // Gossip: messages above the per-message limit on both topics, and one RPC above GossipSub's.
      // From a second identity: the stream attacks spent the first one's invalid-request budgets,
      // so the victim dropped and banned it (the stream budget rules of issue 11.2).
      const gossiper = await mkHost()
      const pubsub = gossiper.libp2p.services.pubsub
      await waitFor(() => pubsub.getSubscribers(bidTopic(ARTICLE)).length > 0, {
        timeoutMs: 10_000,
        what: 'victim subscribed'
      })
      const validations = async (code: string) => {
        let n = 0
        for (const v of (await victim.metrics.validation.get()).values)
          if (v.labels.code === code) n += v.value
        return n
      }
      const tooLarge0 = await validations('GOSSIP_TOO_LARGE')
      let gossipSent = 0
      for (let r = 0; r < rounds; r++)
        for (const t of [bidTopic(ARTICLE), txTopic(ARTICLE)]) {
          const m = randomData(64 << 10)
          await pubsub.publish(t, m)
          gossipSent++
          sentBytes += m.length
        }
      await waitFor(async () => (await validations('GOSSIP_TOO_LARGE')) - tooLarge0 >= gossipSent, {
        timeoutMs: 10_000,
        what: 'oversized gossip refused'
      })
      const tooLarge = (await validations('GOSSIP_TOO_LARGE')) - tooLarge0
      for (let i = 0; i < tooLarge; i++) note('gossip', 'GOSSIP_TOO_LARGE')
      // above GossipSub's RPC frame limit (GOSSIP-10): the victim drops the frame unread
      const huge = randomData(DEFAULT_MAX_RPC_BYTES + (64 << 10))
      await pubsub.publish(bidTopic(ARTICLE), huge).catch(() => {})
      sentBytes += huge.length

      // HTTP: bodies above the limits, declared and chunked.
      const api = daemon.info.apiUrl
      // a BUY mandate first: without one `/buy` refuses before the size check (API-7)
      const grant = await httpSend(api, {
        method: 'POST',
        path: '/api/v1/mandates',
        type: 'application/json',
        body: JSON.stringify({ article: ARTICLE, side: 'BUY', price: 'mBTC 1', trades: 10 }),
        chunked: false
      })
      if (grant.status !== 201 && grant.status !== 200)
        throw new Error(`mandate grant failed: ${grant.status}`)
      const form = 'id=w&article=a&pushurl=' + 'x'.repeat(1 << 20)
      const json = JSON.stringify({ article: ARTICLE, pad: 'x'.repeat(1 << 20) })
      const httpCases: {
        method: string
        path: string
        type: string
        body: string | Buffer
        chunked: boolean
        length?: number
      }[] = [
        {
          method: 'POST',
          path: '/registerworker',
          type: 'application/x-www-form-urlencoded',
          body: form,
          chunked: false
        },
        {
          method: 'POST',
          path: '/registerworker',
          type: 'application/x-www-form-urlencoded',
          body: form,
          chunked: true
        },
        { method: 'POST', path: '/api/v1/mandates', type: 'application/json', body: json, chunked: false },
        { method: 'POST', path: '/api/v1/mandates', type: 'application/json', body: json, chunked: true },
        // a work upload declaring 4 GiB: refused from the header, before any byte is read
        {
          method: 'POST',
          path: `/buy/${ARTICLE}`,
          type: 'application/octet-stream',
          body: Buffer.from(junk),
          chunked: false,
          length: 2 ** 32
        }
      ]
      for (let r = 0; r < Math.min(rounds, 5); r++)
        for (const c of httpCases) {
          const res = await httpSend(api, c)
          note('http', res.status === 413 ? res.code : `${res.status}:${res.code}`)
          sentBytes += c.body.length
        }
      clearInterval(sampler)
      const heapGrowthMb = Math.round(((heapMax - heap0) / 2 ** 20) * 10) / 10

      // Still working: API, chunk fetch, book sync and gossip for an honest peer.
      const version = await httpSend(api, {
        method: 'GET',
        path: '/version',
        type: 'text/plain',
        body: '',
        chunked: false
      })
      const data = randomData(1 << 20)
      const manifest = await importStream([data], victim.chunks)
      // CHUNK-14: a node serves a file only to a transaction's counterparty; the honest peer
      // stands in for one (the grant the trade would make)
      victim.files.grant('oversized-drill', honest.peerId, manifest)
      const hx = new ChunkExchange(honest.libp2p, { store: new MemoryChunkStore() })
      extra.push(hx)
      await hx.start()
      const into = new MemoryChunkStore()
      const fetched = await hx
        .fetchFile(manifest, { store: into, providers: [victimId] })
        .then(() => true)
        .catch(() => false)
      await victim.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 1000n) })
      const hs = new SyncService({
        libp2p: honest.libp2p,
        book: new MemorySyncBook([ARTICLE]),
        autoSync: false
      })
      extra.push(hs)
      await hs.start()
      const synced = await hs
        .syncNow(ARTICLE, { peers: [victim.peerId] })
        .then((r) => r.failures.length === 0 && r.accepted >= 1)
        .catch(() => false)
      const bid = testBid(ARTICLE)
      await waitFor(() => honest.libp2p.services.pubsub.getSubscribers(bidTopic(ARTICLE)).length > 0, {
        timeoutMs: 10_000,
        what: 'honest sees the victim subscribed'
      })
      await honest.libp2p.services.pubsub.publish(bidTopic(ARTICLE), bid.bytes)
      const gossiped = await waitFor(() => victim.book.get(bid.bid.id) !== undefined, {
        timeoutMs: 10_000,
        what: 'honest bid in the victim book'
      })
        .then(() => true)
        .catch(() => false)

      const unexpected = Object.entries(answers).flatMap(([s, m]) =>
        [...m.keys()].filter((c) => !(EXPECTED[s]?.has(c) ?? false)).map((c) => `${s}:${c}`)
      )
      const surfaces = Object.keys(EXPECTED).every((s) => (answers[s]?.size ?? 0) > 0)
      const passed =
        unexpected.length === 0 &&
        surfaces &&
        tooLarge === gossipSent &&
        maxCutMs <= CUT_WITHIN_MS &&
        heapGrowthMb < HEAP_BOUND_MB &&
        version.status === 200 &&
        fetched &&
        synced &&
        gossiped
      return {
        passed,
        ...(passed ? {} : { reason: 'see figures' }),
        rounds,
        declared_frame_bytes: DECLARED_BYTES,
        attacker_sent_bytes: sentBytes,
        answers: Object.fromEntries(Object.entries(answers).map(([s, m]) => [s, Object.fromEntries(m)])),
        unexpected: unexpected.join(',') || 'none',
        max_cut_ms: Math.round(maxCutMs),
        heap_growth_mb: heapGrowthMb,
        api_still_answers: version.status === 200,
        honest_fetch_ok: fetched,
        honest_sync_ok: synced,
        honest_gossip_ok: gossiped
      }
    } finally {
      for (const x of extra) await x.stop().catch(() => {})
      await Promise.all(hosts.map((h) => h.stop()))
      await daemon?.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/**
 * Opens a stream on `protocol`, writes `bytes`, and reads until the victim cuts it. Returns
 * the code of the victim's error frame (chunk/sync: varint-framed `0x7f`+code or the sync
 * error response; trade: length byte, `0x7f`, code), `cut` for a reset or end without one,
 * and how long the stream lived.
 */
async function oversizedStream(
  h: BitwrkHost,
  victim: PeerId,
  protocol: string,
  bytes: Uint8Array
): Promise<{ code: string; ms: number }> {
  const t0 = performance.now()
  let stream: Awaited<ReturnType<BitwrkHost['libp2p']['dialProtocol']>>
  try {
    stream = await h.libp2p.dialProtocol(victim, protocol, { signal: AbortSignal.timeout(5000) })
  } catch {
    return { code: 'cut', ms: msSince(t0) }
  }
  const bs = libp2pByteStream(stream)
  const giveUp = setTimeout(() => bs.abort(new Error('not cut')), CUT_WITHIN_MS + 5000)
  const got: Uint8Array[] = []
  try {
    await bs.write(bytes).catch(() => {})
    for await (const b of bs.source) got.push(b)
  } catch {
    // reset by the victim
  }
  clearTimeout(giveUp)
  const ms = msSince(t0)
  const reply = Buffer.concat(got)
  if (reply.length === 0) return { code: 'cut', ms }
  if (protocol === TRADE_PROTOCOL)
    return {
      code: reply[1] === TradeMsg.ERROR ? reply.subarray(2, 1 + (reply[0] ?? 0)).toString('latin1') : 'other',
      ms
    }
  // a varint-framed message: the chunk ERROR, or a sync response
  let len = 0
  let shift = 0
  let i = 0
  for (; i < reply.length; i++) {
    const b = reply[i] as number
    len += (b & 0x7f) * 2 ** shift
    shift += 7
    if ((b & 0x80) === 0) break
  }
  const body = reply.subarray(i + 1, i + 1 + len)
  if (protocol === SYNC_PROTOCOL) {
    try {
      const r = decodeResponse(body, DEFAULT_SYNC_LIMITS)
      return { code: r.type === 'error' ? r.code : `sync:${r.type}`, ms }
    } catch {
      return { code: 'undecodable', ms }
    }
  }
  return { code: body[0] === MsgType.ERROR ? body.subarray(1).toString('latin1') : 'other', ms }
}

/** One HTTP request; resolves with status and the `code` of a JSON error body. */
function httpSend(
  base: string,
  c: { method: string; path: string; type: string; body: string | Buffer; chunked: boolean; length?: number }
): Promise<{ status: number; code: string }> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'content-type': c.type }
    if (!c.chunked) headers['content-length'] = String(c.length ?? Buffer.byteLength(c.body))
    const req = request(`${base}${c.path}`, { method: c.method, headers, timeout: 10_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        text += d
      })
      res.on('end', () => {
        let code = 'none'
        try {
          code = String((JSON.parse(text) as { code?: unknown }).code ?? 'none')
        } catch {
          // not JSON (a success answer)
        }
        resolve({ status: res.statusCode ?? 0, code })
      })
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (err) => resolve({ status: 0, code: `error:${err.message}` }))
    if (c.chunked) {
      // in pieces: a chunked body has no declared length to refuse up front
      const b = Buffer.from(c.body)
      for (let i = 0; i < b.length; i += 64 << 10) req.write(b.subarray(i, i + (64 << 10)))
      req.end()
    } else if (c.length !== undefined) req.end(c.body)
    else req.end(c.body)
  })
}
