import assert from 'node:assert/strict'
import type { Connection, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { hexToBytes } from '@noble/hashes/utils.js'
import {
  CHUNK_PROTOCOL,
  ChunkExchange,
  encodeHave,
  type InvalidRequestEvent,
  libp2pByteStream,
  QueryType,
  type StreamGuardReason
} from '../../cafs/adapters/libp2p/index.js'
import { MemoryChunkStore } from '../../cafs/store/memory.js'
import {
  encodeError,
  encodeFrame,
  encodeVarint,
  FrameReader,
  resolveLimits,
  XferCode
} from '../../cafs/transfer/index.js'
import type { BitwrkHost } from '../../node/host/host.js'
import {
  DEFAULT_SYNC_LIMITS,
  encodeRequest,
  SYNC_PROTOCOL,
  SyncCode,
  SyncService
} from '../../node/sync/index.js'
import { createTestnet, type Testnet, waitFor } from '../../node/testing.js'
import {
  encodeTradeFrame,
  libp2pTradeStream,
  MemoryTxNetwork,
  readTradeFrame,
  TestClock,
  TRADE_PROTOCOL,
  TradeCode,
  TradeMsg
} from '../../node/trade/index.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { storedFile } from '../cafs/adapters/helpers.js'
import { ARTICLES, memoryBook, type SyncNode, startSyncNode } from './sync/helpers.js'
import {
  establish,
  helloAnswer,
  lcgBytes,
  makeNode,
  randomHex,
  reversed,
  type TradeNode
} from './trade/helpers.js'

/** Every wait in this file has a deadline well inside mocha's. */
const WAIT = { timeoutMs: 10_000 }
/** The largest chunk-exchange request body (CHUNK-5: HAVE of `maxKeysPerRequest` 32-byte keys). */
const MAX_HAVE_BYTES =
  1 + encodeVarint(resolveLimits().maxKeysPerRequest).length + 32 * resolveLimits().maxKeysPerRequest
/** Bytes an attacker pushes after what the step allows (far above every step cap of a server). */
const FLOOD = new Uint8Array(64 << 10)

/** Two connections from `from` to `to` (libp2p reuses a connection unless forced). */
async function twoConnections(from: BitwrkHost, to: BitwrkHost): Promise<[Connection, Connection]> {
  const addr = to.multiaddrs()[0] as Multiaddr
  const a = await from.libp2p.dial(addr, { signal: AbortSignal.timeout(10_000) })
  const b = await from.libp2p.dial(addr, { force: true, signal: AbortSignal.timeout(10_000) })
  assert.notEqual(a.id, b.id)
  return [a, b]
}

/** Opens a stream of `protocol` on `conn` that sends nothing; a stream reset during negotiation is returned as null. */
async function silent(conn: Connection, protocol: string): Promise<Stream | null> {
  return conn.newStream(protocol, { signal: AbortSignal.timeout(5000) }).catch(() => null)
}

/**
 * Holds a protocol's caps (perPeer 2, total 3): `x` fills its 2 slots over one connection and
 * is refused on its other connection (`peer_cap`); `y` takes the last slot and is refused the
 * next (`protocol_cap`). `count(peer?)` is the victim's count of served streams.
 */
async function checkCaps(
  victim: BitwrkHost,
  x: BitwrkHost,
  y: BitwrkHost,
  protocol: string,
  count: (peer?: string) => number,
  reasons: StreamGuardReason[]
): Promise<void> {
  const [c1, c2] = await twoConnections(x, victim)
  const held: (Stream | null)[] = [await silent(c1, protocol), await silent(c1, protocol)]
  await waitFor(() => count(x.peerId) === 2, { ...WAIT, what: "x's two streams served" })
  const third = await silent(c2, protocol)
  await waitFor(() => third === null || third.status === 'reset', { ...WAIT, what: "x's third stream reset" })
  assert.deepEqual(reasons, ['peer_cap'])
  assert.equal(count(x.peerId), 2)
  const [d] = await twoConnections(y, victim)
  held.push(await silent(d, protocol))
  await waitFor(() => count() === 3, { ...WAIT, what: "y's stream served" })
  const over = await silent(d, protocol)
  await waitFor(() => over === null || over.status === 'reset', { ...WAIT, what: "y's second stream reset" })
  assert.deepEqual(reasons, ['peer_cap', 'protocol_cap'])
  assert.ok(held.every((s) => s?.status === 'open'))
  for (const s of held) s?.abort(new Error('test done'))
  await waitFor(() => count() === 0, { ...WAIT, what: 'slots released' })
}

describe('inbound stream guards (TRADE-19, SYNC-14, CHUNK-15, XFER-23)', () => {
  describe('trade', () => {
    let clock: TestClock
    let network: MemoryTxNetwork
    const nodes: TradeNode[] = []
    beforeEach(() => {
      clock = new TestClock()
      network = new MemoryTxNetwork()
    })
    afterEach(async () => {
      await Promise.all(nodes.splice(0).map((n) => n.stop()))
      network.close()
    })
    async function node(opts?: Parameters<typeof makeNode>[2]): Promise<TradeNode> {
      const n = await makeNode(network, clock, opts)
      nodes.push(n)
      return n
    }
    const hello = helloAnswer

    it('answers a HELLO for a transaction the seller does not sell in at once, charging the budget before any wait', async () => {
      const reasons: StreamGuardReason[] = []
      // a registration wait of a minute: an answer within the reader's 5 s cannot come from it
      const seller = await node({
        limits: { helloTimeoutMs: 60_000 },
        onStreamRefused: (r) => reasons.push(r)
      })
      const stranger = await node()
      for (let i = 0; i < 4; i++)
        assert.equal(await hello(stranger, seller, randomHex()), TradeCode.UNKNOWN_TX)
      // TRADE-16: 4 > 3, the next stream is reset before anything is read
      assert.equal(seller.trade.isRefused(stranger.host.peerId), true)
      assert.equal(await hello(stranger, seller, randomHex()), 'reset')
      assert.deepEqual(reasons, ['budget'])
    })

    it('cuts the buyer that sends anything after HELLO before READY (TRADE_OVERRUN); the job stays open for a clean session', async () => {
      const reasons: StreamGuardReason[] = []
      const buyer = await node()
      const seller = await node({ onStreamRefused: (r) => reasons.push(r) })
      const work = lcgBytes(5000, 12)
      const { tx, secret } = await establish(network, clock, buyer, seller, work)
      const sold = seller.trade.onEstablished(tx, { work: async (w) => reversed(w) })
      const ts = libp2pTradeStream(
        await buyer.host.libp2p.dialProtocol(seller.host.multiaddrs(), TRADE_PROTOCOL)
      )
      // HELLO, then at once the start of an OFFER declaring 1000 bytes, then 64 KiB more
      await ts.bytes.write(
        Buffer.concat([
          encodeTradeFrame(TradeMsg.HELLO, hexToBytes(tx.id)),
          encodeVarint(1000),
          Uint8Array.of(0x01),
          FLOOD
        ])
      )
      const gone = (why: string): Error => new Error(why)
      assert.equal((await readTradeFrame(ts, { timeoutMs: 5000 }, gone)).type, TradeMsg.READY)
      // only the 128 bytes the HELLO step allows were kept: the OFFER cannot complete
      await assert.rejects(
        readTradeFrame(ts, { timeoutMs: 5000 }, gone),
        (err) => isBitwrkError(err, TradeCode.PEER_ERROR) && err.details.remoteCode === XferCode.OVERRUN
      )
      ts.bytes.abort()
      assert.deepEqual(reasons, ['overrun'])
      assert.equal(seller.channel.current(tx.id)?.phase, 'TRANSMITTING')
      const bought = await buyer.trade.runBuyer(tx, work, secret)
      assert.deepEqual(bought.result, reversed(work))
      assert.equal((await sold).error, null)
    })

    it('counts trade streams per peer over all its connections and over all peers (TRADE_STREAM_LIMIT)', async () => {
      const reasons: StreamGuardReason[] = []
      const seller = await node({
        limits: { maxPeerStreams: 2, maxStreams: 3 },
        onStreamRefused: (r) => reasons.push(r)
      })
      const [x, y] = [await node(), await node()]
      await checkCaps(
        seller.host,
        x.host,
        y.host,
        TRADE_PROTOCOL,
        (p) => seller.trade.inboundStreams(p),
        reasons
      )
    })

    it('cuts a stream without HELLO at the HELLO deadline and frees its slot', async () => {
      const seller = await node({ limits: { helloTimeoutMs: 300 } })
      const stranger = await node()
      const s = await stranger.host.libp2p.dialProtocol(seller.host.multiaddrs(), TRADE_PROTOCOL)
      await waitFor(() => seller.trade.inboundStreams(stranger.host.peerId) === 1, {
        ...WAIT,
        what: 'served'
      })
      await waitFor(() => s.status !== 'open', { ...WAIT, what: 'stream cut' })
      await waitFor(() => seller.trade.inboundStreams() === 0, { ...WAIT, what: 'slot freed' })
      // a stall is no misbehaviour (TRADE-16)
      assert.equal(seller.trade.isRefused(stranger.host.peerId), false)
    })
  })

  describe('sync and chunk', () => {
    let net: Testnet | undefined
    const syncs: SyncNode[] = []
    const exchanges: ChunkExchange[] = []
    afterEach(async () => {
      await Promise.all(syncs.splice(0).map((s) => s.stop()))
      await Promise.all(exchanges.splice(0).map((x) => x.stop()))
      await net?.stop()
      net = undefined
    })
    async function hosts(): Promise<[BitwrkHost, BitwrkHost, BitwrkHost]> {
      net = await createTestnet({
        nodes: 3,
        topology: 'star',
        fixedTopology: false,
        host: { dhtSelfQuery: false }
      })
      return net.hosts as [BitwrkHost, BitwrkHost, BitwrkHost]
    }
    async function exchange(
      host: BitwrkHost,
      init: ConstructorParameters<typeof ChunkExchange>[1]
    ): Promise<ChunkExchange> {
      const x = new ChunkExchange(host.libp2p, init)
      exchanges.push(x)
      await x.start()
      return x
    }

    it('sync: cuts a requester that sends more than one request (SYNC_OVERRUN), charges it and resets the stream', async () => {
      const reasons: StreamGuardReason[] = []
      const responder = await startSyncNode(memoryBook(), { onStreamRefused: (r) => reasons.push(r) })
      const client = await startSyncNode(memoryBook())
      syncs.push(responder, client)
      await client.host.libp2p.dial(responder.host.multiaddrs()[0] as Multiaddr)
      const s = await client.host.libp2p.dialProtocol(responder.host.libp2p.peerId, SYNC_PROTOCOL)
      // a request, then at once a frame declaring the largest request, then 64 KiB more
      s.send(
        Buffer.concat([
          encodeFrame(encodeRequest({ type: 'summaryReq', article: ARTICLES[0], bits: 0 })),
          encodeVarint(DEFAULT_SYNC_LIMITS.maxRequestBytes),
          Uint8Array.of(0x01),
          FLOOD
        ])
      )
      await waitFor(() => responder.reports.length > 0, { ...WAIT, what: 'the session report' })
      const r = responder.reports[0]
      assert.equal(r?.code, SyncCode.OVERRUN)
      assert.equal(r?.misbehaviour, true)
      assert.equal(r?.peer, client.host.peerId)
      assert.deepEqual(reasons, ['overrun'])
      await waitFor(() => s.status === 'reset', { ...WAIT, what: 'stream reset by the responder' })
      await waitFor(() => responder.sync.servedStreams() === 0, { ...WAIT, what: 'slot freed' })
    })

    it('sync: counts responder streams per peer over all its connections and over all peers (SYNC_STREAM_LIMIT)', async () => {
      const [victim, x, y] = await hosts()
      const reasons: StreamGuardReason[] = []
      const vs = new SyncService({
        libp2p: victim.libp2p,
        book: memoryBook(),
        autoSync: false,
        streamCaps: { perPeer: 2, total: 3 },
        onStreamRefused: (r) => reasons.push(r)
      })
      await vs.start()
      syncs.push({ host: victim, sync: vs, reports: [], stop: () => vs.stop() })
      await checkCaps(victim, x, y, SYNC_PROTOCOL, (p) => vs.servedStreams(p), reasons)
    })

    it('chunk: cuts a fetcher that sends more than one request (CAFS_XFER_OVERRUN) and charges its budget', async () => {
      const [victim, x] = await hosts()
      const file = await storedFile(100_000, 21)
      const events: InvalidRequestEvent[] = []
      const reasons: StreamGuardReason[] = []
      await exchange(victim, {
        store: file.store,
        onInvalidRequest: (e) => events.push(e),
        onStreamRefused: (r) => reasons.push(r)
      })
      const s = await x.libp2p.dialProtocol(victim.libp2p.peerId, CHUNK_PROTOCOL)
      const bs = libp2pByteStream(s)
      const key = file.manifest.chunks[0]?.key as Uint8Array
      // a HAVE, then at once a frame declaring the largest request, then 64 KiB more
      await bs.write(
        Buffer.concat([
          encodeFrame(encodeHave([key])),
          encodeVarint(MAX_HAVE_BYTES),
          Uint8Array.of(QueryType.HAVE),
          FLOOD
        ])
      )
      const reader = new FrameReader(bs.source)
      assert.deepEqual([...((await reader.read({ maxLength: 100, timeoutMs: 5000 })) ?? [])], [0x11, 1, 1])
      assert.deepEqual(
        Uint8Array.from((await reader.read({ maxLength: 100, timeoutMs: 5000 })) ?? []),
        encodeError(XferCode.OVERRUN)
      )
      await waitFor(() => events.length === 1, { ...WAIT, what: 'the invalid request' })
      assert.equal(events[0]?.code, XferCode.OVERRUN)
      assert.equal(events[0]?.count, 1)
      assert.deepEqual(reasons, ['overrun'])
      bs.abort()
    })

    it('chunk: counts served streams per peer over all its connections and over all peers (CHUNK_STREAM_LIMIT, CHUNK_BUSY)', async () => {
      const [victim, x, y] = await hosts()
      const reasons: StreamGuardReason[] = []
      const vx = await exchange(victim, {
        store: new MemoryChunkStore(),
        maxPeerStreams: 2,
        maxActiveStreams: 3,
        onStreamRefused: (r) => reasons.push(r)
      })
      await checkCaps(victim, x, y, CHUNK_PROTOCOL, (p) => vx.activeStreams(p), reasons)
    })
  })
})
