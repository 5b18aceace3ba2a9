import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { Multiaddr } from '@multiformats/multiaddr'
import fc from 'fast-check'
import {
  CHUNK_PROTOCOL,
  ChunkCode,
  ChunkExchange,
  encodeHave,
  encodeManifestGet,
  libp2pByteStream
} from '../../cafs/adapters/libp2p/index.js'
import { keysEqual } from '../../cafs/keys.js'
import { MemoryChunkStore } from '../../cafs/store/memory.js'
import { importStream } from '../../cafs/stream.js'
import { encodeFrame, MsgType, XferCode } from '../../cafs/transfer/index.js'
import { encodeAck, encodeGet, encodeOffer, encodeWant } from '../../cafs/transfer/messages.js'
import type { Manifest } from '../../cafs/types.js'
import {
  type BitwrkHost,
  type BitwrkNode,
  createBitwrkNode,
  createHost,
  openStore
} from '../../node/index.js'
import type { LogContext, Logger } from '../../node/logger.js'
import {
  DEFAULT_SYNC_LIMITS,
  decodeResponse,
  encodeRequest,
  MemorySyncBook,
  SYNC_PROTOCOL,
  SyncCode,
  SyncService
} from '../../node/sync/index.js'
import { createMemoryController, randomPrivateKey } from '../../node/testing.js'
import { TradeCode } from '../../node/trade/errors.js'
import { encodeTradeFrame, TRADE_PROTOCOL, TradeMsg } from '../../node/trade/wire.js'
import { Identity } from '../../protocol/identity/index.js'
import { money } from '../../protocol/money/index.js'
import { codesOf, FUZZ, hostileBytes, Tally, trackUnhandled } from './helpers.js'

const ARTICLE = 'net.bitwrk/gorays/0'

/** A logger that keeps the `code` of every line (the trade service logs why a session ended). */
function codeLogger(codes: string[]): Logger {
  const log = (ctx: LogContext): void => {
    if (typeof ctx.code === 'string') codes.push(ctx.code)
  }
  const l: Logger = { trace: log, debug: log, info: log, warn: log, error: log, child: () => l }
  return l
}

/**
 * One real node serving `/bitwrk/chunk/1.0.0`, `/bitwrk/sync/1.0.0` and `/bitwrk/trade/1.0.0`
 * on 127.0.0.1, and one attacker host that opens a fresh stream per generated case: hostile
 * bytes (garbage, truncated and mutated valid frames), then a half-close, then it reads
 * whatever the node answers until the node ends or resets the stream. The invalid-request
 * budgets are raised (chunk, sync) and the HELLO wait shortened (trade) so that every case
 * reaches the decoders instead of being refused up front (the drills check the budgets).
 */
describe('hostile input: stream protocols', function () {
  this.timeout(60_000)
  const unhandled = trackUnhandled()
  let node: BitwrkNode
  let attacker: BitwrkHost
  let exchange: ChunkExchange
  let sync: SyncService | undefined
  let manifest: Manifest
  const serverCodes = { chunk: [] as string[], sync: [] as string[], trade: [] as string[] }

  before(async () => {
    node = await createBitwrkNode({
      store: await openStore(createMemoryController()),
      identity: Identity.generate((n) => new Uint8Array(randomBytes(n))),
      articles: [ARTICLE],
      loopbackOnly: true,
      // the fuzzer opens one stream per case as fast as it can: above the stream-open budget
      // (GOSSIP-13) that would ban it, which the drills test; here every case must be answered
      host: { dhtSelfQuery: false, streamOpens: { burst: 1e6, perSecond: 1e6 } },
      sync: {
        autoSync: false,
        maxInvalidRequests: 1e9,
        rateLimit: { ratePerSec: 1e6, burst: 1e6 },
        onReport: (r) => serverCodes.sync.push(r.code)
      },
      trade: {
        limits: { helloTimeoutMs: 5, invalidRequestBudget: Number.MAX_SAFE_INTEGER },
        logger: codeLogger(serverCodes.trade)
      }
    })
    await node.start()
    sync = node.sync
    manifest = await importStream([new Uint8Array(randomBytes(200_000))], node.chunks)
    // the node's own exchange refuses a peer after 3 invalid requests (CHUNK-9): one with a
    // budget the fuzzer cannot use up, over the same store
    await node.exchange.stop()
    exchange = new ChunkExchange(node.host.libp2p, {
      store: node.chunks,
      manifests: async (k) => (keysEqual(k, manifest.fileKey) ? manifest : undefined),
      invalidRequestBudget: 1e9,
      onInvalidRequest: (e) => serverCodes.chunk.push(e.code)
    })
    await exchange.start()
    await node.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 1000n), lifetimeMs: 110_000 })
    attacker = await createHost({ privateKey: randomPrivateKey(), loopbackOnly: true, dhtSelfQuery: false })
    await attacker.libp2p.dial(node.host.multiaddrs()[0] as Multiaddr, {
      signal: AbortSignal.timeout(10_000)
    })
  })

  after(async () => {
    await attacker?.stop()
    await exchange?.stop()
    await node?.stop()
    assert.deepEqual(unhandled.stop(), [], 'no unhandled rejection or uncaught exception')
  })

  /** What must not change: the book, the store, the transactions, the used-bid marks. */
  const state = async (): Promise<string> =>
    JSON.stringify({
      book: node.book.liveDigest(ARTICLE),
      chunks: node.chunks.stats().chunks,
      bytes: node.chunks.stats().bytes,
      txs: node.market.txs.list().length,
      open: (await node.repos.transactions.openIds()).length
    })

  /** One stream: writes `bytes`, half-closes, reads until the node ends or resets it. */
  async function exchangeBytes(protocol: string, bytes: Uint8Array): Promise<Buffer> {
    const s = await attacker.libp2p.dialProtocol(node.host.libp2p.peerId, protocol, {
      signal: AbortSignal.timeout(5000)
    })
    const bs = libp2pByteStream(s)
    const giveUp = setTimeout(() => bs.abort(new Error('the node did not end the stream')), 10_000)
    const got: Uint8Array[] = []
    try {
      await bs.write(bytes)
      await bs.close()
      for await (const b of bs.source) got.push(b)
    } catch {
      // reset by the node: the answer so far counts
    } finally {
      clearTimeout(giveUp)
    }
    return Buffer.concat(got)
  }

  /** Splits varint-framed bytes into bodies (a trailing partial frame is dropped). */
  function frames(b: Buffer): Buffer[] {
    const out: Buffer[] = []
    let i = 0
    while (i < b.length) {
      let len = 0
      let shift = 0
      let j = i
      for (; j < b.length && j - i < 8; j++) {
        len += ((b[j] as number) & 0x7f) * 2 ** shift
        shift += 7
        if (((b[j] as number) & 0x80) === 0) break
      }
      if (j >= b.length || j + 1 + len > b.length) break
      out.push(b.subarray(j + 1, j + 1 + len))
      i = j + 1 + len
    }
    return out
  }

  /** Runs `FUZZ.numRuns` cases on `protocol`; `classify` labels one answer and asserts its codes. */
  async function fuzz(
    protocol: string,
    seeds: Uint8Array[],
    classify: (answer: Buffer) => string,
    serverSide: string[],
    serverAllowed: ReadonlySet<string>
  ): Promise<Tally> {
    const before = await state()
    const t = new Tally()
    const from = serverSide.length
    await fc.assert(
      fc.asyncProperty(hostileBytes(seeds, 300), async (b) => {
        t.add(classify(await exchangeBytes(protocol, b)))
      }),
      FUZZ
    )
    for (const c of serverSide.slice(from))
      assert.ok(serverAllowed.has(c), `${protocol}: server-side code ${c}`)
    assert.equal(await state(), before, `${protocol}: state changed`)
    return t
  }

  it('chunk protocol: every answer is a reply or an ERROR with a CAFS_XFER_*/CHUNK_* code; nothing stored', async () => {
    const codes = codesOf(XferCode, ChunkCode)
    const key = manifest.chunks[0]?.key as Uint8Array
    const seeds = [
      encodeFrame(encodeHave([key, manifest.fileKey])),
      encodeFrame(encodeManifestGet(manifest.fileKey)),
      Buffer.concat([encodeFrame(encodeManifestGet(manifest.fileKey)), encodeFrame(encodeHave([key]))]),
      encodeFrame(encodeGet([key])),
      Buffer.concat([encodeFrame(encodeGet([key])), encodeFrame(encodeAck(manifest.fileKey))]),
      encodeFrame(encodeOffer(manifest)),
      encodeFrame(encodeWant([{ start: 0, end: 1 }]))
    ]
    const t = await fuzz(
      CHUNK_PROTOCOL,
      seeds,
      (answer) => {
        const bodies = frames(answer)
        if (bodies.length === 0) return 'closed'
        for (const body of bodies)
          if (body[0] === MsgType.ERROR) {
            const code = body.subarray(1).toString('latin1')
            assert.ok(codes.has(code), `undocumented chunk ERROR ${code}`)
            return code
          }
        return 'reply'
      },
      serverCodes.chunk,
      codes
    )
    assert.ok(t.codes() >= 3 && (t.counts.get('reply') ?? 0) > 0, t.toString())
  })

  it('sync protocol: every answer decodes, ERRORs carry a SYNC_* code; the book is unchanged', async () => {
    const codes = codesOf(SyncCode)
    const id = new Uint8Array(32).fill(7)
    const seeds = [
      encodeFrame(encodeRequest({ type: 'summaryReq', article: ARTICLE, bits: 0 })),
      Buffer.concat([
        encodeFrame(encodeRequest({ type: 'summaryReq', article: ARTICLE, bits: 1 })),
        encodeFrame(encodeRequest({ type: 'getIds', buckets: [0, 1] }))
      ]),
      Buffer.concat([
        encodeFrame(encodeRequest({ type: 'summaryReq', article: ARTICLE, bits: 0 })),
        encodeFrame(encodeRequest({ type: 'getBids', ids: [id] }))
      ]),
      encodeFrame(encodeRequest({ type: 'getSnapshot', key: `${ARTICLE}:BTC` })),
      encodeFrame(encodeRequest({ type: 'getBuckets', buckets: [0] }))
    ]
    const t = await fuzz(
      SYNC_PROTOCOL,
      seeds,
      (answer) => {
        const bodies = frames(answer)
        if (bodies.length === 0) return 'closed'
        let label = 'reply'
        for (const body of bodies) {
          const r = decodeResponse(body, DEFAULT_SYNC_LIMITS)
          if (r.type === 'error') {
            assert.ok(codes.has(r.code), `undocumented sync ERROR ${r.code}`)
            label = r.code
          }
        }
        return label
      },
      serverCodes.sync,
      codes
    )
    assert.ok(t.codes() >= 2 && (t.counts.get('reply') ?? 0) > 0, t.toString())
  })

  it('trade protocol: every answer is an ERROR with a TRADE_* code; no transaction appears', async () => {
    const codes = codesOf(TradeCode, XferCode)
    const hello = encodeTradeFrame(TradeMsg.HELLO, new Uint8Array(randomBytes(32)))
    const seeds = [
      hello,
      Buffer.concat([hello, encodeTradeFrame(TradeMsg.SECRET, new Uint8Array(32))]),
      Buffer.concat([hello, encodeTradeFrame(TradeMsg.READY)]),
      encodeTradeFrame(TradeMsg.DONE)
    ]
    const t = await fuzz(
      TRADE_PROTOCOL,
      seeds,
      (answer) => {
        if (answer.length === 0) return 'closed'
        assert.equal(answer[1], TradeMsg.ERROR, `trade answered ${answer.toString('hex')}`)
        const code = answer.subarray(2, 1 + (answer[0] as number)).toString('latin1')
        assert.ok(codes.has(code), `undocumented trade ERROR ${code}`)
        return code
      },
      serverCodes.trade,
      codes
    )
    assert.ok(t.codes() >= 2, t.toString())
  })

  it('the node still serves honest peers after the fuzzing', async () => {
    const hx = new ChunkExchange(attacker.libp2p, { store: new MemoryChunkStore() })
    await hx.start()
    try {
      const r = await hx.fetchFile(manifest, {
        store: new MemoryChunkStore(),
        providers: [node.host.libp2p.peerId]
      })
      assert.equal(r.perProvider.get(node.peerId)?.chunks, manifest.chunks.length)
    } finally {
      await hx.stop()
    }
    const hs = new SyncService({
      libp2p: attacker.libp2p,
      book: new MemorySyncBook([ARTICLE]),
      autoSync: false
    })
    await hs.start()
    try {
      const r = await hs.syncNow(ARTICLE, { peers: [node.peerId] })
      assert.deepEqual(r.failures, [])
      assert.equal(r.accepted, 1)
    } finally {
      await hs.stop()
    }
    assert.ok(sync?.running)
  })
})
