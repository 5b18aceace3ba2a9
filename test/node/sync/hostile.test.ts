import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import { SyncChannel } from '../../../node/sync/channel.js'
import {
  bucketDigest,
  DEFAULT_SYNC_LIMITS,
  SYNC_PROTOCOL,
  type SyncBook,
  SyncCode,
  type SyncResponse
} from '../../../node/sync/index.js'
import { testBid, waitFor } from '../../../node/testing.js'
import { ARTICLES, connect, held, liveBids, memoryBook, type SyncNode, startSyncNode } from './helpers.js'

const ARTICLE = ARTICLES[0]
const nodes: SyncNode[] = []
async function node(...args: Parameters<typeof startSyncNode>): Promise<SyncNode> {
  const n = await startSyncNode(...args)
  nodes.push(n)
  return n
}

/**
 * Replaces `bad`'s sync handler by a scripted responder: it reads each request and answers with
 * what `script` returns for it (a list of responses), then half-closes.
 */
async function scripted(
  bad: SyncNode,
  script: (requestType: string) => SyncResponse[] | 'silence'
): Promise<void> {
  await bad.host.libp2p.handle(
    SYNC_PROTOCOL,
    async (stream: Stream) => {
      const ch = new SyncChannel(stream, DEFAULT_SYNC_LIMITS, AbortSignal.timeout(10_000))
      try {
        for (let req = await ch.readRequest(); req !== undefined; req = await ch.readRequest()) {
          const answer = script(req.type)
          if (answer === 'silence') return
          for (const m of answer) await ch.sendResponse(m)
        }
        await ch.close()
      } catch {
        ch.abort()
      }
    },
    { force: true }
  )
}

describe('node/sync hostile responders', () => {
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  const one = testBid(ARTICLE)
  const two = testBid(ARTICLE)
  const summaryOf1: SyncResponse = {
    type: 'summary',
    bits: 0,
    total: 1,
    counts: [1],
    digests: bucketDigest([Buffer.from(one.bid.id, 'hex')])
  }
  const cases: [string, (t: string) => SyncResponse[] | 'silence', string, boolean][] = [
    [
      'more bids than the summary announced',
      (t) =>
        t === 'summaryReq'
          ? [summaryOf1]
          : [{ type: 'bids', bids: [one.bytes, two.bytes] }, { type: 'done' }],
      SyncCode.TOO_MANY,
      true
    ],
    [
      'the same bid twice',
      (t) =>
        t === 'summaryReq'
          ? [{ ...summaryOf1, total: 2, counts: [2] }]
          : [{ type: 'bids', bids: [one.bytes] }, { type: 'bids', bids: [one.bytes] }, { type: 'done' }],
      SyncCode.UNSOLICITED,
      true
    ],
    [
      'a summary of other bucket bits',
      () => [{ type: 'summary', bits: 1, total: 0, counts: [0, 0], digests: new Uint8Array(32) }],
      SyncCode.UNEXPECTED,
      true
    ],
    [
      'a valid bid of another article',
      (t) => {
        const other = testBid(ARTICLES[1])
        return t === 'summaryReq' ? [summaryOf1] : [{ type: 'bids', bids: [other.bytes] }, { type: 'done' }]
      },
      SyncCode.INVALID_BID,
      true
    ],
    ['an ERROR answer', () => [{ type: 'error', code: 'SYNC_RATE_LIMITED' }], SyncCode.PEER_ERROR, false],
    ['silence (per-message timeout)', () => 'silence', SyncCode.TIMEOUT, false]
  ]
  for (const [name, script, code, misbehaviour] of cases)
    it(`reports ${code} for ${name} (misbehaviour: ${misbehaviour}) and adds nothing unasked`, async () => {
      const joinerBook = memoryBook()
      const joiner = await node(joinerBook, { limits: { messageTimeoutMs: 500 } })
      const bad = await node(memoryBook())
      await scripted(bad, script)
      await connect(joiner, bad)
      const r = await joiner.sync.syncNow(ARTICLE, { signal: AbortSignal.timeout(10_000) })
      assert.deepEqual(
        r.failures.map((f) => f.code),
        [code]
      )
      const report = joiner.reports.at(-1)
      assert.equal(report?.code, code)
      assert.equal(report?.misbehaviour, misbehaviour)
      assert.ok(joinerBook.size(ARTICLE) <= 1)
      assert.equal(joinerBook.size(ARTICLES[1]), 0)
    })

  it('stop() aborts a sync that waits on a silent peer (no wait for the per-message timeout)', async () => {
    const joiner = await node(memoryBook(), {
      limits: { messageTimeoutMs: 60_000, sessionTimeoutMs: 60_000 }
    })
    const bad = await node(memoryBook())
    await scripted(bad, () => 'silence')
    await connect(joiner, bad)
    const pending = joiner.sync.syncNow(ARTICLE)
    await waitFor(() => joiner.sync.openStreams > 0, { timeoutMs: 5000, what: 'session open' })
    await joiner.sync.stop()
    const r = await pending
    assert.deepEqual(
      r.failures.map((f) => f.code),
      [SyncCode.STOPPED]
    )
    assert.equal(joiner.sync.openStreams, 0)
  })

  it('continues with the next peer when one fails', async () => {
    const now = Date.now()
    const bids = liveBids(60, 3, now).filter((b) => b.bid.article === ARTICLE)
    const good = memoryBook()
    for (const b of bids) good.addBid(ARTICLE, b.bytes, now)
    const bad = await node(memoryBook())
    await scripted(bad, () => [{ type: 'done' }])
    const honest = await node(good)
    const joinerBook = memoryBook()
    const joiner = await node(joinerBook)
    await connect(joiner, bad)
    await connect(joiner, honest)
    const r = await joiner.sync.syncNow(ARTICLE, {
      peers: [bad.host.peerId, honest.host.peerId],
      signal: AbortSignal.timeout(10_000)
    })
    assert.deepEqual(r.peers, [honest.host.peerId])
    assert.equal(r.failures[0]?.code, SyncCode.UNEXPECTED)
    assert.equal(held(joinerBook, bids), bids.length)
  })

  it('syncs automatically on start with the peers already connected', async () => {
    const now = Date.now()
    const bids = liveBids(90, 3, now)
    const book = memoryBook()
    for (const b of bids) book.addBid(b.bid.article, b.bytes, now)
    const peer = await node(book)
    const joinerBook = memoryBook()
    const joiner = await node(joinerBook, { autoSync: true })
    // connected while stopped: the restart must sync without a new connection event
    await joiner.sync.stop()
    await connect(joiner, peer)
    await joiner.sync.start()
    await waitFor(() => held(joinerBook, bids) === bids.length, {
      timeoutMs: 10_000,
      what: 'auto sync on start'
    })
  })

  it('a book that lies about ids cannot make the joiner store a bid it did not ask for', async () => {
    const now = Date.now()
    const bids = liveBids(30, 3, now).filter((b) => b.bid.article === ARTICLE)
    const mine = memoryBook()
    // the joiner holds all but one bid, so it asks by id for the missing one
    for (const b of bids.slice(1)) mine.addBid(ARTICLE, b.bytes, now)
    const honest = memoryBook()
    for (const b of bids) honest.addBid(ARTICLE, b.bytes, now)
    const stranger = testBid(ARTICLE)
    const missing = bids[0]?.bid.id as string
    // serves another (valid) bid under the missing bid's id
    const liar: SyncBook = {
      articles: () => [ARTICLE],
      liveBids: (a, n) =>
        honest.liveBids(a, n).map((e) => (e.id === missing ? { ...e, bytes: stranger.bytes } : e)),
      addBid: () => ({ result: 'ignore', code: 'X' })
    }
    const peer = await node(liar)
    const joiner = await node(mine)
    await connect(joiner, peer)
    const r = await joiner.sync.syncNow(ARTICLE, { signal: AbortSignal.timeout(10_000) })
    assert.equal(r.failures[0]?.code, SyncCode.UNSOLICITED)
    assert.equal(mine.has(ARTICLE, stranger.bid.id), false)
  })
})
