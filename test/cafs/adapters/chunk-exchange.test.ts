import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import {
  type BadPeerEvent,
  CHUNK_PROTOCOL,
  ChunkCode,
  ChunkExchange,
  type InvalidRequestEvent,
  libp2pByteStream,
  type PeerErrorEvent
} from '../../../cafs/adapters/libp2p/index.js'
import { MemoryChunkStore } from '../../../cafs/store/memory.js'
import {
  encodeError,
  FrameReader,
  MISBEHAVIOUR_CODES,
  writeFrame,
  XferCode
} from '../../../cafs/transfer/index.js'
import type { BitwrkHost } from '../../../node/host/host.js'
import { createTestnet, type Testnet, waitFor } from '../../../node/testing.js'
import { isBitwrkError } from '../../../protocol/errors.js'
import {
  h,
  holdsIntact,
  lookupOf,
  serveCorrupt,
  serveStall,
  storedFile,
  waitForRoutingTables
} from './helpers.js'

/** Every wait in this file has a deadline well inside mocha's. */
const WAIT = { timeoutMs: 10_000 }

describe('cafs/adapters/libp2p chunk exchange', () => {
  let net: Testnet | undefined
  const exchanges: ChunkExchange[] = []
  afterEach(async () => {
    await Promise.all(exchanges.splice(0).map((x) => x.stop()))
    await net?.stop()
    net = undefined
  })

  async function testnet(nodes: number, topology: 'line' | 'star' = 'line'): Promise<BitwrkHost[]> {
    net = await createTestnet({ nodes, topology, fixedTopology: false, host: { dhtSelfQuery: false } })
    return net.hosts
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

  it('finds a file through the DHT from a node not connected to its providers and fetches from two at once', async () => {
    const hosts = await testnet(5)
    const [a, , c, , e] = hosts as [BitwrkHost, BitwrkHost, BitwrkHost, BitwrkHost, BitwrkHost]
    const file = await storedFile(3 << 20, 11)
    const manifests = lookupOf(file.manifest)
    const xa = await exchange(a, { store: file.store, manifests })
    const xc = await exchange(c, { store: file.store, manifests })
    for (const x of hosts.filter((y) => y !== a && y !== c))
      await exchange(x, { store: new MemoryChunkStore() })
    const xe = exchanges[exchanges.length - 1] as ChunkExchange
    assert.equal(e.libp2p.getConnections(a.libp2p.peerId).length, 0)
    assert.equal(e.libp2p.getConnections(c.libp2p.peerId).length, 0)
    await waitForRoutingTables(hosts)
    await xa.provide(file.manifest.fileKey, { timeoutMs: 10_000 })
    await xc.provide(file.manifest.fileKey, { timeoutMs: 10_000 })

    // provider records spread asynchronously: look again until both are visible from E
    let found: string[] = []
    await waitFor(
      async () => {
        found = []
        for await (const p of xe.findProviders(file.manifest.fileKey, { timeoutMs: 5000 }))
          found.push(p.toString())
        return found.length === 2
      },
      { ...WAIT, what: 'both providers in the DHT' }
    )
    assert.deepEqual(found.sort(), [a.peerId, c.peerId].sort())

    const into = new MemoryChunkStore()
    const bad: BadPeerEvent[] = []
    const result = await xe.fetchFile(file.manifest.fileKey, {
      store: into,
      batchChunks: 4,
      onBadProvider: (ev) => bad.push(ev),
      findTimeoutMs: 10_000
    })
    assert.deepEqual(bad, [])
    assert.deepEqual(result.manifest, file.manifest)
    assert.deepEqual([...result.providers].sort(), [a.peerId, c.peerId].sort())
    assert.ok((result.perProvider.get(a.peerId)?.chunks ?? 0) > 0, 'A delivered chunks')
    assert.ok((result.perProvider.get(c.peerId)?.chunks ?? 0) > 0, 'C delivered chunks')
    assert.equal(
      result.chunksReceived,
      new Set(file.manifest.chunks.map((x) => Buffer.from(x.key).toString('hex'))).size
    )
    assert.ok(await holdsIntact(into, file.manifest))
    // the bytes reassemble to the file
    const parts = await Promise.all(file.manifest.chunks.map(async (x) => (await into.get(x.key))!))
    assert.deepEqual(h(Buffer.concat(parts)), file.manifest.fileKey)
  })

  it('reports the chunk bytes it served and fetched (the node counts them as metrics)', async () => {
    const [a, b] = (await testnet(2)) as [BitwrkHost, BitwrkHost]
    const file = await storedFile(1 << 20, 12)
    const served: number[] = []
    const fetched: number[] = []
    await exchange(a, {
      store: file.store,
      manifests: lookupOf(file.manifest),
      onServed: (e) => served.push(e.bytes)
    })
    const xb = await exchange(b, { store: new MemoryChunkStore(), onFetched: (e) => fetched.push(e.bytes) })
    const result = await xb.fetchFile(file.manifest, { providers: [a.libp2p.peerId] })
    const uniqueBytes = new Map(file.manifest.chunks.map((c) => [Buffer.from(c.key).toString('hex'), c.size]))
    const total = [...uniqueBytes.values()].reduce((x, y) => x + y, 0)
    assert.deepEqual(fetched, [total])
    assert.equal(result.bytesReceived, total)
    // the provider reports when the fetcher's stream ends
    await waitFor(() => served.reduce((x, y) => x + y, 0) === total, { ...WAIT, what: 'served bytes' })
  })

  it('reports a provider that serves a corrupted chunk and completes from the honest one', async () => {
    const [a, b, e] = (await testnet(3, 'star')) as [BitwrkHost, BitwrkHost, BitwrkHost]
    await e.libp2p.dial(b.multiaddrs()[0]!, { signal: AbortSignal.timeout(5000) })
    const file = await storedFile(2 << 20, 12)
    await exchange(a, { store: file.store })
    const liar = await serveCorrupt(b.libp2p, file.store)
    const xe = await exchange(e, { store: new MemoryChunkStore() })
    const into = new MemoryChunkStore()
    const bad: BadPeerEvent[] = []
    const result = await xe.fetchFile(file.manifest, {
      store: into,
      providers: [b.libp2p.peerId, a.libp2p.peerId],
      batchChunks: 4,
      // One request at a time: the liar's first answer is its last (with more in flight it
      // may deliver verified chunks on its other requests before the corrupt one is seen).
      requestsPerProvider: 1,
      onBadProvider: (ev) => bad.push(ev)
    })
    assert.equal(liar.corrupted(), 1)
    assert.deepEqual(
      bad.map((x) => ({ peer: x.peer.toString(), code: x.code })),
      [{ peer: b.peerId, code: XferCode.HASH_MISMATCH }]
    )
    assert.equal(result.perProvider.get(b.peerId)?.chunks, 0)
    assert.ok(await holdsIntact(into, file.manifest))
    assert.equal(
      into.stats().chunks,
      new Set(file.manifest.chunks.map((x) => Buffer.from(x.key).toString('hex'))).size
    )
  })

  it('cuts a stalling provider at its per-message deadline and completes from the other', async () => {
    const [a, b, e] = (await testnet(3, 'star')) as [BitwrkHost, BitwrkHost, BitwrkHost]
    await e.libp2p.dial(b.multiaddrs()[0]!, { signal: AbortSignal.timeout(5000) })
    const file = await storedFile(1 << 20, 13)
    await exchange(a, { store: file.store })
    const staller = await serveStall(b.libp2p)
    const xe = await exchange(e, { store: new MemoryChunkStore() })
    const errors: PeerErrorEvent[] = []
    const into = new MemoryChunkStore()
    const result = await xe.fetchFile(file.manifest, {
      store: into,
      providers: [b.libp2p.peerId, a.libp2p.peerId],
      limits: { messageTimeoutMs: 300 },
      batchChunks: 4,
      onProviderError: (ev) => errors.push(ev)
    })
    assert.ok(staller.streams() >= 1)
    assert.ok(errors.length >= 1)
    for (const ev of errors) {
      assert.equal(ev.peer.toString(), b.peerId)
      assert.equal(ev.code, XferCode.TIMEOUT)
    }
    assert.equal(result.perProvider.get(b.peerId)?.chunks, 0)
    assert.ok(await holdsIntact(into, file.manifest))
  })

  it('reports a provider whose manifest does not make the file and refetches by an honest manifest', async () => {
    const [h0, liar, e] = (await testnet(3, 'star')) as [BitwrkHost, BitwrkHost, BitwrkHost]
    await e.libp2p.dial(liar.multiaddrs()[0]!, { signal: AbortSignal.timeout(5000) })
    const real = await storedFile(600_000, 21)
    const other = await storedFile(600_000, 22)
    // the liar claims the real file key for the other file's chunks, and holds those chunks
    const forged = {
      fileKey: real.manifest.fileKey,
      size: other.manifest.size,
      chunks: other.manifest.chunks
    }
    await exchange(liar, { store: other.store, manifests: lookupOf(forged) })
    await exchange(h0, { store: real.store, manifests: lookupOf(real.manifest) })
    const xe = await exchange(e, { store: new MemoryChunkStore() })
    const into = new MemoryChunkStore()
    const bad: BadPeerEvent[] = []
    const result = await xe.fetchFile(real.manifest.fileKey, {
      store: into,
      providers: [liar.libp2p.peerId, h0.libp2p.peerId],
      onBadProvider: (ev) => bad.push(ev)
    })
    assert.deepEqual(
      bad.map((x) => [x.peer.toString(), x.code]),
      [[liar.peerId, XferCode.FILE_KEY_MISMATCH]]
    )
    assert.deepEqual(result.manifest, real.manifest)
    assert.deepEqual(result.providers, [h0.peerId])
    assert.ok(await holdsIntact(into, real.manifest))
    // the chunks fetched for the forged manifest were deleted again
    for (const c of other.manifest.chunks) assert.equal(await into.has(c.key), false)
  })

  it('refuses streams beyond the active-stream cap over all peers', async () => {
    const [a, e, f] = (await testnet(3, 'star')) as [BitwrkHost, BitwrkHost, BitwrkHost]
    const xa = await exchange(a, { store: new MemoryChunkStore(), maxActiveStreams: 1, idleTimeoutMs: 5000 })
    const open = (from: BitwrkHost): Promise<Stream> =>
      from.libp2p.dialProtocol(a.libp2p.peerId, CHUNK_PROTOCOL, { signal: AbortSignal.timeout(5000) })
    const first = await open(e)
    await waitFor(() => xa.activeStreams() === 1, { ...WAIT, what: 'one served stream' })
    const second = await open(f)
    await waitFor(() => second.status === 'reset', { ...WAIT, what: 'second stream reset' })
    assert.equal(first.status, 'open')
    first.abort(new Error('test done'))
  })

  it('answers HAVE and MANIFEST_GET queries', async () => {
    const [a, e] = (await testnet(2)) as [BitwrkHost, BitwrkHost]
    const file = await storedFile(300_000, 14)
    await exchange(a, { store: file.store, manifests: lookupOf(file.manifest) })
    const xe = await exchange(e, { store: new MemoryChunkStore() })
    const first = file.manifest.chunks[0]!.key
    const held = await xe.has(a.libp2p.peerId, [first, h(Uint8Array.of(1, 2, 3)), first])
    assert.deepEqual(held, [true, false, true])
    assert.deepEqual(await xe.getManifest(a.libp2p.peerId, file.manifest.fileKey), file.manifest)
    assert.equal(await xe.getManifest(a.libp2p.peerId, h(Uint8Array.of(9))), undefined)
    await assert.rejects(xe.fetchFile(h(Uint8Array.of(9)), { providers: [a.libp2p.peerId] }), (err) =>
      isBitwrkError(err, ChunkCode.MANIFEST_NOT_FOUND)
    )
  })

  it('serves under an access policy only what it allows, answering the rest as not held (CHUNK-14)', async () => {
    const [a, x, y] = (await testnet(3, 'star')) as [BitwrkHost, BitwrkHost, BitwrkHost]
    const file = await storedFile(300_000, 16)
    const asked: string[] = []
    let forbidden = 0
    const xa = await exchange(a, {
      store: file.store,
      manifests: lookupOf(file.manifest),
      // x may read the file; y nothing
      access: (peer, key) => {
        asked.push(peer)
        return peer === x.peerId && key.length === 32
      },
      invalidRequestBudget: 1,
      onForbidden: (ev) => {
        assert.equal(ev.code, ChunkCode.FORBIDDEN)
        assert.equal(ev.peer, y.peerId)
        forbidden++
      }
    })
    const xx = await exchange(x, { store: new MemoryChunkStore() })
    const xy = await exchange(y, { store: new MemoryChunkStore() })
    const keys = file.manifest.chunks.map((c) => c.key)
    assert.ok(keys.length > 1)
    const got = await xx.fetchFile(file.manifest.fileKey, { providers: [a.libp2p.peerId] })
    assert.equal(got.manifest.chunks.length, keys.length)
    assert.deepEqual(
      await xx.has(a.libp2p.peerId, keys),
      keys.map(() => true)
    )
    // y: the same answers as from a provider that holds nothing, however often it asks
    const into = new MemoryChunkStore()
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(
        await xy.has(a.libp2p.peerId, keys),
        keys.map(() => false)
      )
      assert.equal(await xy.getManifest(a.libp2p.peerId, file.manifest.fileKey), undefined)
      await assert.rejects(
        xy.fetchFile(file.manifest, { store: into, providers: [a.libp2p.peerId] }),
        (err) => isBitwrkError(err, XferCode.UNAVAILABLE)
      )
    }
    assert.equal(into.stats().chunks, 0)
    assert.ok(forbidden >= 3 * (2 * keys.length + 1), `forbidden ${forbidden}`)
    // asking for a hash is no provable misbehaviour: no budget charged (CHUNK-9)
    assert.equal(xa.isRefused(y.peerId), false)
    assert.ok(asked.includes(x.peerId) && asked.includes(y.peerId))
  })

  it('refuses the streams of a peer that used up its invalid-request budget, and only that peer', async () => {
    const [a, x, y] = (await testnet(3, 'star')) as [BitwrkHost, BitwrkHost, BitwrkHost]
    const file = await storedFile(100_000, 15)
    const events: InvalidRequestEvent[] = []
    const xa = await exchange(a, {
      store: file.store,
      invalidRequestBudget: 2,
      onInvalidRequest: (ev) => events.push(ev)
    })
    const xy = await exchange(y, { store: new MemoryChunkStore() })
    const xx = await exchange(x, { store: new MemoryChunkStore() })
    // three requests with an unknown message type
    for (let i = 0; i < 3; i++) {
      const s = await x.libp2p.dialProtocol(a.libp2p.peerId, CHUNK_PROTOCOL, {
        signal: AbortSignal.timeout(5000)
      })
      const bs = libp2pByteStream(s)
      await writeFrame(bs, Uint8Array.of(0x55, 1, 2, 3), { timeoutMs: 5000 })
      const reader = new FrameReader(bs.source)
      const answer = await reader.read({ maxLength: 100, timeoutMs: 5000 })
      // the provider names the violation before it closes the stream
      assert.deepEqual(Uint8Array.from(answer ?? []), encodeError(XferCode.UNKNOWN_MESSAGE))
      bs.abort()
    }
    await waitFor(() => events.length === 3, { ...WAIT, what: 'three invalid-request events' })
    assert.deepEqual(
      events.map((ev) => [ev.peer, ev.code, ev.count, ev.refused]),
      [
        [x.peerId, XferCode.UNKNOWN_MESSAGE, 1, false],
        [x.peerId, XferCode.UNKNOWN_MESSAGE, 2, false],
        [x.peerId, XferCode.UNKNOWN_MESSAGE, 3, true]
      ]
    )
    assert.ok(MISBEHAVIOUR_CODES.has(events[0]!.code))
    assert.equal(xa.isRefused(x.peerId), true)
    // a valid request from the refused peer is cut; another peer is served
    const key = file.manifest.chunks[0]!.key
    await assert.rejects(xx.has(a.libp2p.peerId, [key]))
    assert.deepEqual(await xy.has(a.libp2p.peerId, [key]), [true])
    assert.equal(xa.isRefused(y.peerId), false)
  })

  it('holds the inbound and outbound stream caps and cuts idle streams', async () => {
    const [a, e, f] = (await testnet(3, 'star')) as [BitwrkHost, BitwrkHost, BitwrkHost]
    const file = await storedFile(100_000, 16)
    const xa = await exchange(a, { store: file.store, maxInboundStreams: 3, idleTimeoutMs: 1500 })
    await exchange(e, { store: new MemoryChunkStore(), maxOutboundStreams: 2 })
    await exchange(f, { store: new MemoryChunkStore() })
    const open = (from: BitwrkHost): Promise<Stream> =>
      from.libp2p.dialProtocol(a.libp2p.peerId, CHUNK_PROTOCOL, { signal: AbortSignal.timeout(5000) })
    // E's own outbound cap (2 per connection) stops a third stream before the provider sees it
    await open(e)
    await open(e)
    await assert.rejects(open(e), (err: Error) => err.name === 'TooManyOutboundProtocolStreamsError')
    await waitFor(() => xa.activeStreams() === 2, { ...WAIT, what: 'two served streams' })
    // the provider's inbound cap (3 per connection): F's fourth stream is reset
    const fs = [await open(f), await open(f), await open(f)]
    await waitFor(() => xa.activeStreams() === 5, { ...WAIT, what: 'five served streams' })
    const s4 = await open(f)
    await waitFor(() => s4.status === 'reset', { ...WAIT, what: 'fourth stream reset' })
    assert.equal(xa.activeStreams(), 5)
    assert.ok(fs.every((s) => s.status === 'open'))
    // streams that never send a request are cut at the provider's idle timeout
    await waitFor(() => xa.activeStreams() === 0, { ...WAIT, what: 'idle streams cut' })
    await waitFor(() => fs.every((s) => s.status !== 'open'), { ...WAIT, what: 'client side sees the cut' })
  })
})
