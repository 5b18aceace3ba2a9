import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import { encodeFrame } from '../../../cafs/transfer/index.js'
import { createHost } from '../../../node/host/host.js'
import {
  DEFAULT_SYNC_LIMITS,
  decodeResponse,
  encodeRequest,
  MemorySyncBook,
  SYNC_PROTOCOL,
  type SyncBook,
  SyncCode,
  type SyncEntry
} from '../../../node/sync/index.js'
import { forgedBid, randomPrivateKey, testBid, waitFor } from '../../../node/testing.js'
import {
  ARTICLES,
  connect,
  held,
  liveBids,
  memoryBook,
  type SyncNode,
  startSyncNode,
  type TestBid
} from './helpers.js'

const ARTICLE = ARTICLES[0]

/** Stops every node a test started (helpers register their own teardown). */
const nodes: SyncNode[] = []
async function node(...args: Parameters<typeof startSyncNode>): Promise<SyncNode> {
  const n = await startSyncNode(...args)
  nodes.push(n)
  return n
}

describe('node/sync (e2e)', () => {
  let bids: TestBid[] = []
  before(() => {
    // 2,000 live bids of 10 participants on 3 articles, signed once for the whole file
    bids = liveBids(2000)
  })
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  it('a joiner holds every live bid of four peers after connecting (auto sync)', async () => {
    const now = Date.now()
    // each bid is on two of the four nodes, so any three of them hold every bid
    const books = Array.from({ length: 4 }, () => memoryBook())
    bids.forEach((b, i) => {
      for (const k of [i % 4, (i + 1) % 4])
        assert.equal(books[k]?.addBid(b.bid.article, b.bytes, now).result, 'accept')
    })
    const peers = await Promise.all(books.map((b) => node(b)))
    const joinerBook = memoryBook()
    const joiner = await node(joinerBook, { autoSync: true })
    const t0 = Date.now()
    await Promise.all(peers.map((p) => connect(joiner, p)))
    await waitFor(() => held(joinerBook, bids) === bids.length, {
      timeoutMs: 20_000,
      what: 'joiner holds all bids'
    })
    const ms = Date.now() - t0
    // measured figure for the report (no wall-clock assertion beyond the generous deadline)
    console.log(`      sync: joiner held ${bids.length}/${bids.length} live bids ${ms} ms after connecting`)
    assert.equal(held(joinerBook, bids), bids.length)
    assert.deepEqual(
      joiner.reports.filter((r) => r.misbehaviour),
      []
    )
  })

  it('automatic sync skips a light client that serves no sync: no SYNC_UNREACHABLE against it, its slot stays free (SYNC-13)', async () => {
    const now = Date.now()
    const some = bids.slice(0, 60)
    const fullBook = memoryBook()
    for (const b of some) assert.equal(fullBook.addBid(b.bid.article, b.bytes, now).result, 'accept')
    const full = await node(fullBook)
    const joinerBook = memoryBook()
    // one automatic-sync slot: before SYNC-13 the light client took it and the full peer got none
    const joiner = await node(joinerBook, { autoSync: true, peersPerSync: 1 })
    // a buyer-only light client: a libp2p host that serves no /bitwrk/sync/1.0.0
    const light = await createHost({ privateKey: randomPrivateKey(), loopbackOnly: true })
    try {
      await connect(light, joiner)
      // identify has run once the joiner knows the light client's protocols
      await waitFor(
        async () => {
          const p = await joiner.host.libp2p.peerStore.get(light.libp2p.peerId).catch(() => undefined)
          return (p?.protocols.length ?? 0) > 0
        },
        { timeoutMs: 10_000, what: 'the joiner identified the light client' }
      )
      await connect(joiner, full)
      await waitFor(() => held(joinerBook, some) === some.length, {
        timeoutMs: 20_000,
        what: 'the joiner synced the full peer'
      })
      assert.deepEqual(
        joiner.reports.filter((r) => r.peer === light.peerId),
        []
      )
    } finally {
      await light.stop()
    }
  })

  it('pulls only the missing bids when the joiner already holds most of the book', async () => {
    const now = Date.now()
    const full = memoryBook()
    const mine = memoryBook()
    const article = bids.filter((b) => b.bid.article === ARTICLE)
    article.forEach((b, i) => {
      full.addBid(ARTICLE, b.bytes, now)
      if (i % 100 !== 0) mine.addBid(ARTICLE, b.bytes, now)
    })
    const missing = article.filter((_b, i) => i % 100 === 0).length
    const peer = await node(full)
    const joiner = await node(mine)
    await connect(joiner, peer)
    const r = await joiner.sync.syncNow(ARTICLE, { signal: AbortSignal.timeout(10_000) })
    assert.equal(r.accepted, missing)
    // digests and ids first: nothing already held is sent again
    assert.equal(r.received, missing)
    assert.equal(held(mine, article), article.length)
    // a second sync finds every bucket equal and transfers no bid
    const again = await joiner.sync.syncNow(ARTICLE, { signal: AbortSignal.timeout(10_000) })
    assert.equal(again.received, 0)
  })

  it('does not transfer expired bids', async () => {
    const now = Date.now()
    const book = memoryBook()
    const live = Array.from({ length: 50 }, () =>
      testBid(ARTICLE, { createdMs: now - 1000, lifetimeMs: 60_000 })
    )
    // valid when they arrived 200 s ago, expired now
    const old = Array.from({ length: 30 }, () =>
      testBid(ARTICLE, { createdMs: now - 200_000, lifetimeMs: 60_000 })
    )
    for (const b of live) assert.equal(book.addBid(ARTICLE, b.bytes, now).result, 'accept')
    for (const b of old) assert.equal(book.seed(ARTICLE, b.bytes, now - 199_000).result, 'accept')
    const peer = await node(book)
    const joinerBook = memoryBook()
    const joiner = await node(joinerBook)
    await connect(joiner, peer)
    const r = await joiner.sync.syncNow(ARTICLE, { signal: AbortSignal.timeout(10_000) })
    assert.equal(r.received, 50)
    assert.equal(r.accepted, 50)
    assert.equal(held(joinerBook, live), 50)
    assert.equal(held(joinerBook, old), 0)
  })

  it('detects and reports a responder that serves a bid with a forged signature, adds nothing invalid', async () => {
    const now = Date.now()
    const good = Array.from({ length: 20 }, () => testBid(ARTICLE))
    const victim = testBid(ARTICLE)
    const honest = memoryBook()
    for (const b of good) honest.addBid(ARTICLE, b.bytes, now)
    // a lying book: serves the honest bids plus the victim's document with someone else's signature
    const liar: SyncBook = {
      articles: () => [ARTICLE],
      liveBids: (article, nowMs) => [
        ...honest.liveBids(article, nowMs),
        {
          id: victim.bid.id,
          bytes: forgedBid(victim.bid),
          expiresMs: victim.bid.expiresMs
        } satisfies SyncEntry
      ],
      addBid: () => ({ result: 'ignore', code: 'X' })
    }
    const peer = await node(liar)
    const joinerBook = memoryBook()
    const joiner = await node(joinerBook)
    await connect(joiner, peer)
    const r = await joiner.sync.syncNow(ARTICLE, { signal: AbortSignal.timeout(10_000) })
    assert.deepEqual(
      r.failures.map((f) => f.code),
      [SyncCode.INVALID_BID]
    )
    assert.equal(joinerBook.has(ARTICLE, victim.bid.id), false)
    // the valid bids served before the forged one were validated one by one and stay
    assert.equal(r.accepted, good.length)
    assert.equal(held(joinerBook, good), good.length)
    const report = joiner.reports.find((x) => x.code === SyncCode.INVALID_BID)
    assert.equal(report?.misbehaviour, true)
    assert.equal(report?.peer, peer.host.peerId)
    assert.equal(report?.details['bidCode'], 'BID_BAD_SIGNATURE')
  })

  it('detects and reports garbage and oversized frames from a responder', async () => {
    const joinerBook = memoryBook()
    const joiner = await node(joinerBook)
    const cases: [Uint8Array, string][] = [
      // a well-framed body of an unknown message type
      [encodeFrame(Uint8Array.of(0x99, 1, 2, 3)), SyncCode.MALFORMED],
      // a SUMMARY whose counts do not add up to its total
      [
        encodeFrame(Uint8Array.of(0x81, 0, 0, 0, 0, 5, 0, 0, 0, 4, ...new Uint8Array(16))),
        SyncCode.MALFORMED
      ],
      // a length prefix of 16 MiB, far above the response limit
      [Uint8Array.of(0x80, 0x80, 0x80, 0x08), SyncCode.OVERSIZED]
    ]
    for (const [bytes, code] of cases) {
      const bad = await node(memoryBook())
      await bad.host.libp2p.handle(
        SYNC_PROTOCOL,
        async (stream: Stream) => {
          stream.send(bytes)
          await stream.close().catch(() => {})
        },
        { force: true }
      )
      await connect(joiner, bad)
      const r = await joiner.sync.syncNow(ARTICLE, {
        peers: [bad.host.peerId],
        signal: AbortSignal.timeout(10_000)
      })
      assert.deepEqual(
        r.failures.map((f) => f.code),
        [code]
      )
      const report = joiner.reports.at(-1)
      assert.equal(report?.code, code)
      assert.equal(report?.misbehaviour, true)
      assert.equal(report?.peer, bad.host.peerId)
    }
    assert.equal(joinerBook.size(ARTICLE), 0)
  })

  it('a responder answers a bad request with ERROR and stops serving a peer over its invalid budget', async () => {
    const book = memoryBook()
    const responder = await node(book, { maxInvalidRequests: 2 })
    const client = await node(memoryBook())
    await connect(client, responder)
    const ask = async (frame: Uint8Array): Promise<string> => {
      const s = await client.host.libp2p.dialProtocol(responder.host.libp2p.peerId, SYNC_PROTOCOL, {
        signal: AbortSignal.timeout(5000)
      })
      const chunks: Uint8Array[] = []
      try {
        s.send(frame)
        await s.close()
        for await (const c of s) chunks.push(c instanceof Uint8Array ? c : c.subarray())
      } catch {
        return 'RESET'
      }
      const all = Buffer.concat(chunks)
      if (all.length === 0) return 'EMPTY'
      // one frame with a one-byte length prefix
      const msg = decodeResponse(new Uint8Array(all.subarray(1)), DEFAULT_SYNC_LIMITS)
      return msg.type === 'error' ? msg.code : msg.type
    }
    // GET_BUCKETS before any SUMMARY_REQ is out of order
    assert.equal(
      await ask(encodeFrame(encodeRequest({ type: 'getBuckets', buckets: [0] }))),
      SyncCode.UNEXPECTED
    )
    assert.equal(await ask(encodeFrame(Uint8Array.of(0x42))), SyncCode.MALFORMED)
    await waitFor(() => responder.reports.length === 2, { timeoutMs: 5000, what: 'responder reports' })
    assert.ok(responder.reports.every((r) => r.role === 'responder' && r.misbehaviour))
    // over budget: the next stream is refused without an answer
    const third = await ask(encodeFrame(encodeRequest({ type: 'summaryReq', article: ARTICLE, bits: 0 })))
    assert.ok(third === 'RESET' || third === 'EMPTY', third)
  })

  it('a responder refuses requests over the per-peer rate (not blamed as misbehaviour)', async () => {
    const now = Date.now()
    const book = memoryBook()
    for (const b of bids.slice(0, 30)) book.addBid(b.bid.article, b.bytes, now)
    // one request per peer, refilled never within the test
    const responder = await node(book, { rateLimit: { burst: 1, ratePerSec: 0.001 } })
    const joiner = await node(memoryBook())
    await connect(joiner, responder)
    const r = await joiner.sync.syncNow(ARTICLE, { signal: AbortSignal.timeout(10_000) })
    assert.deepEqual(
      r.failures.map((f) => f.code),
      [SyncCode.PEER_ERROR]
    )
    const mine = joiner.reports.at(-1)
    assert.equal(mine?.details['remoteCode'], SyncCode.RATE_LIMITED)
    assert.equal(mine?.misbehaviour, false)
    await waitFor(() => responder.reports.length > 0, { timeoutMs: 5000, what: 'responder report' })
    assert.equal(responder.reports[0]?.code, SyncCode.RATE_LIMITED)
    assert.equal(responder.reports[0]?.misbehaviour, false)
  })

  it('syncNow without peers fails with SYNC_NO_PEERS; a stopped service with SYNC_STOPPED', async () => {
    const n = await node(new MemorySyncBook([ARTICLE]))
    await assert.rejects(n.sync.syncNow(ARTICLE), { code: SyncCode.NO_PEERS })
    await n.sync.stop()
    await n.sync.stop()
    await assert.rejects(n.sync.syncNow(ARTICLE), { code: SyncCode.STOPPED })
  })
})
