import assert from 'node:assert/strict'
import { schemaValue } from '../../../node/store/db.js'
import {
  Bucket,
  checkSchema,
  type KvController,
  MAX_EVIDENCE_IDS,
  openStore,
  type Repositories,
  SCHEMA_VERSION,
  StoreCode,
  USED_MARK_RETENTION_MS
} from '../../../node/store/index.js'
import { retire } from '../../../protocol/transaction/index.js'
import { rejectsWithCode } from '../../support/errors.js'
import { BACKENDS, type Backend, BUYER, bid, driveTo, SELLER, signed, T0, termsN } from './helpers.js'

const b = (...xs: number[]) => Uint8Array.from(xs)
const TXA = 'a'.repeat(64)
const TXB = 'b'.repeat(64)

async function collect(kv: KvController, range: Parameters<KvController['entries']>[0]): Promise<number[][]> {
  const out: number[][] = []
  for await (const [k] of kv.entries(range)) out.push([...k])
  return out
}

for (const makeBackend of BACKENDS) {
  const probe = makeBackend()
  describe(`node/store controller compliance (${probe.name})`, () => {
    let backend: Backend
    let kv: KvController
    beforeEach(async () => {
      backend = makeBackend()
      kv = await backend.open()
    })
    afterEach(async () => {
      await kv.close()
      await backend.cleanup()
    })

    it('returns undefined for a missing key and the bytes of a stored one', async () => {
      assert.equal(await kv.get(b(1, 2)), undefined)
      await kv.batch([{ type: 'put', key: b(1, 2), value: b(9, 8, 7) }])
      assert.deepEqual(await kv.get(b(1, 2)), b(9, 8, 7))
      await kv.batch([{ type: 'del', key: b(1, 2) }])
      assert.equal(await kv.get(b(1, 2)), undefined)
    })

    it('applies a batch of puts and deletes together', async () => {
      await kv.batch([{ type: 'put', key: b(1), value: b(1) }])
      await kv.batch([
        { type: 'del', key: b(1) },
        { type: 'put', key: b(2), value: b(2) },
        { type: 'put', key: b(3), value: new Uint8Array(0) }
      ])
      assert.deepEqual(await collect(kv, {}), [[2], [3]])
      assert.deepEqual(await kv.get(b(3)), new Uint8Array(0))
    })

    it('iterates in unsigned byte order with gte/lt bounds, reverse and limit', async () => {
      const keys = [b(0x10, 0xff), b(0x10), b(0x10, 0x00), b(0x11), b(0x0f, 0xff), b(0x10, 0x80, 1)]
      await kv.batch(keys.map((key) => ({ type: 'put' as const, key, value: b(0) })))
      assert.deepEqual(await collect(kv, { gte: b(0x10), lt: b(0x11) }), [
        [0x10],
        [0x10, 0],
        [0x10, 0x80, 1],
        [0x10, 0xff]
      ])
      assert.deepEqual(await collect(kv, { gte: b(0x10), lt: b(0x11), reverse: true, limit: 2 }), [
        [0x10, 0xff],
        [0x10, 0x80, 1]
      ])
      assert.deepEqual(await collect(kv, { limit: 1 }), [[0x0f, 0xff]])
    })

    it('keeps data across a close and reopen', async () => {
      await kv.batch([{ type: 'put', key: b(7), value: b(7, 7) }], { sync: true })
      await kv.close()
      kv = await backend.reopen()
      assert.deepEqual(await kv.get(b(7)), b(7, 7))
    })

    it('closes idempotently and refuses use after close with STORE_CLOSED', async () => {
      await kv.close()
      await kv.close()
      assert.equal(kv.closed, true)
      await rejectsWithCode(() => kv.get(b(1)), StoreCode.CLOSED)
      await rejectsWithCode(() => kv.batch([{ type: 'del', key: b(1) }]), StoreCode.CLOSED)
      await rejectsWithCode(() => collect(kv, {}), StoreCode.CLOSED)
    })

    it('writes the schema version into an empty store and accepts it on reopen', async () => {
      await checkSchema(kv)
      await kv.close()
      kv = await backend.reopen()
      await checkSchema(kv)
      assert.deepEqual(await collect(kv, {}), [[Bucket.meta, ...new TextEncoder().encode('schema')]])
    })

    it('refuses another schema version with STORE_SCHEMA_MISMATCH', async () => {
      await checkSchema(kv)
      const key = (await collect(kv, {}))[0]!
      await kv.batch([{ type: 'put', key: Uint8Array.from(key), value: schemaValue(SCHEMA_VERSION + 1) }])
      await rejectsWithCode(() => checkSchema(kv), StoreCode.SCHEMA_MISMATCH)
      await rejectsWithCode(() => openStore(kv), StoreCode.SCHEMA_MISMATCH)
    })

    it('refuses a version-1 store (plain result keys, before TX-23) with STORE_SCHEMA_MISMATCH', async () => {
      await checkSchema(kv)
      const key = (await collect(kv, {}))[0]!
      await kv.batch([{ type: 'put', key: Uint8Array.from(key), value: schemaValue(1) }])
      await rejectsWithCode(() => openStore(kv), StoreCode.SCHEMA_MISMATCH)
    })

    it('refuses data without a schema version with STORE_SCHEMA_MISMATCH', async () => {
      await kv.batch([{ type: 'put', key: b(Bucket.bid, 65), value: b(1) }])
      await rejectsWithCode(() => checkSchema(kv), StoreCode.SCHEMA_MISMATCH)
    })

    it('refuses an undecodable schema record with STORE_CORRUPT', async () => {
      await checkSchema(kv)
      const key = Uint8Array.from((await collect(kv, {}))[0]!)
      const v = (await kv.get(key))!
      v[0] = (v[0] as number) ^ 1
      await kv.batch([{ type: 'put', key, value: v }])
      await rejectsWithCode(() => checkSchema(kv), StoreCode.CORRUPT)
    })
  })

  describe(`node/store repositories compliance (${probe.name})`, () => {
    let backend: Backend
    let kv: KvController
    let repos: Repositories
    beforeEach(async () => {
      backend = makeBackend()
      kv = await backend.open()
      repos = await openStore(kv)
    })
    afterEach(async () => {
      await kv.close()
      await backend.cleanup()
    })
    const reopen = async (maxPeers?: number) => {
      await kv.close()
      kv = await backend.reopen()
      repos = await openStore(kv, maxPeers === undefined ? {} : { maxPeers })
    }

    it('stores own bids and lists exactly the live ones at nowMs', async () => {
      await repos.bids.put(bid('b1', T0 + 10))
      await repos.bids.put(bid('b2', T0 + 20, 'sell'))
      await repos.bids.put(bid('b3', T0 + 5))
      assert.deepEqual(await repos.bids.get('b2'), bid('b2', T0 + 20, 'sell'))
      const live = await repos.bids.listLive(T0 + 5)
      assert.deepEqual(
        live.items.map((x) => x.id),
        ['b1', 'b2']
      )
      assert.deepEqual(live.corrupt, [])
      await reopen()
      assert.deepEqual((await repos.bids.listLive(T0 + 10)).items, [bid('b2', T0 + 20, 'sell')])
    })

    it('moves the expiry index when a bid is stored again with another expiry', async () => {
      await repos.bids.put(bid('b1', T0 + 10))
      await repos.bids.put(bid('b1', T0 + 100))
      assert.deepEqual(
        (await repos.bids.listLive(T0 + 50)).items.map((x) => x.expiresMs),
        [T0 + 100]
      )
      assert.deepEqual((await repos.bids.listLive(T0)).items.length, 1)
    })

    it('prunes expired bids but keeps their used marks for the retention time', async () => {
      await repos.bids.put(bid('b1', T0 + 10))
      await repos.bids.put(bid('b2', T0 + 10 * USED_MARK_RETENTION_MS))
      await repos.bids.markUsed('b1', TXA)
      assert.deepEqual(await repos.bids.pruneExpired(T0 + 10), { bids: 1, usedMarks: 0 })
      assert.equal(await repos.bids.get('b1'), undefined)
      assert.equal((await repos.bids.usedBy('b1'))?.txId, TXA)
      assert.deepEqual(
        (await repos.bids.list()).items.map((x) => x.id),
        ['b2']
      )
      assert.deepEqual(await repos.bids.pruneExpired(T0 + 10 + USED_MARK_RETENTION_MS), {
        bids: 0,
        usedMarks: 1
      })
      assert.equal(await repos.bids.usedBy('b1'), undefined)
    })

    it('marks a bid used once: same txId is idempotent, another txId is STORE_BID_ALREADY_USED', async () => {
      await repos.bids.put(bid('b1', T0 + 10))
      assert.equal((await repos.bids.markUsed('b1', TXA)).txId, TXA)
      assert.equal((await repos.bids.markUsed('b1', TXA)).txId, TXA)
      await rejectsWithCode(() => repos.bids.markUsed('b1', TXB), StoreCode.BID_ALREADY_USED)
      await reopen()
      await rejectsWithCode(() => repos.bids.markUsed('b1', TXB), StoreCode.BID_ALREADY_USED)
      assert.equal((await repos.bids.usedBy('b1'))?.txId, TXA)
    })

    it('lets exactly one of two concurrent markUsed calls with different txIds win', async () => {
      await repos.bids.put(bid('b1', T0 + 10))
      const results = await Promise.allSettled([
        repos.bids.markUsed('b1', TXA),
        repos.bids.markUsed('b1', TXB)
      ])
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
      assert.equal((failed.reason as { code: string }).code, StoreCode.BID_ALREADY_USED)
    })

    it('refuses to mark a bid it does not hold (STORE_BID_UNKNOWN) and invalid ids (STORE_INVALID)', async () => {
      await rejectsWithCode(() => repos.bids.markUsed('nope', TXA), StoreCode.BID_UNKNOWN)
      assert.throws(() => repos.bids.markUsed('b1', 'x'), { code: StoreCode.INVALID })
      assert.throws(() => repos.bids.put({ ...bid('b1', 1), bytes: new Uint8Array(0) }), {
        code: StoreCode.INVALID
      })
    })

    it('stores a transaction with its messages and replays it to the same record', async () => {
      const terms = termsN(1)
      let tx = await repos.transactions.create(terms)
      await rejectsWithCode(() => repos.transactions.create(terms), StoreCode.TX_EXISTS)
      for (const [i, kind] of (
        ['establish-buyer', 'establish-seller', 'publish-secret'] as const
      ).entries()) {
        const r = await repos.transactions.apply(tx, signed(terms, kind), T0 + 1000 * (i + 1))
        assert.ok(r.ok)
        tx = r.tx
      }
      assert.equal(tx.phase, 'WORKING')
      await reopen()
      assert.deepEqual(await repos.transactions.get(tx.id), tx)
      assert.equal((await repos.transactions.messages(tx.id)).length, 3)
      assert.deepEqual(await repos.transactions.openIds(), [tx.id])
      const h = await repos.transactions.header(tx.id)
      assert.equal(h?.phase, 'WORKING')
      assert.equal(h?.messageCount, 3)
    })

    it('does not store a refused message', async () => {
      const terms = termsN(2)
      const tx = await repos.transactions.create(terms)
      const r = await repos.transactions.apply(tx, signed(terms, 'publish-secret'), T0 + 1)
      assert.equal(r.ok, false)
      assert.deepEqual(await repos.transactions.messages(tx.id), [])
      assert.equal((await repos.transactions.header(tx.id))?.revision, 0)
    })

    it('refuses a stale revision or a rewritten message list with STORE_TX_CONFLICT', async () => {
      const terms = termsN(3)
      const tx0 = await repos.transactions.create(terms)
      const r1 = await repos.transactions.apply(tx0, signed(terms, 'establish-buyer'), T0 + 1)
      assert.ok(r1.ok)
      await rejectsWithCode(
        () => repos.transactions.apply(tx0, signed(terms, 'establish-seller'), T0 + 2),
        StoreCode.TX_CONFLICT
      )
      // The same revision reached by another message (seller first) is not a prefix of what is stored.
      const other = driveTo(terms, 'SELLER_ESTABLISHED')
      await rejectsWithCode(() => repos.transactions.save(other), StoreCode.TX_CONFLICT)
      await rejectsWithCode(() => repos.transactions.save(tx0), StoreCode.TX_CONFLICT)
      assert.deepEqual(await repos.transactions.get(tx0.id), r1.tx)
    })

    it('moves a retired transaction out of the open index and prunes it later', async () => {
      const a = await repos.transactions.create(termsN(4))
      const bTx = await repos.transactions.create(termsN(5))
      const r = retire(a, a.deadlineMs)
      assert.ok(r.ok)
      await repos.transactions.save(r.tx)
      assert.deepEqual(await repos.transactions.openIds(), [bTx.id])
      assert.deepEqual(await repos.transactions.get(a.id), r.tx)
      assert.equal(await repos.transactions.pruneRetired(a.deadlineMs), 0)
      assert.equal(await repos.transactions.pruneRetired(a.deadlineMs + 1), 1)
      assert.equal(await repos.transactions.get(a.id), undefined)
      assert.deepEqual(await repos.transactions.messages(a.id), [])
      assert.ok(await repos.transactions.get(bTx.id))
    })

    it('lists peers most recently seen first and evicts the least recently seen beyond the bound', async () => {
      await reopen(3)
      const ids = [BUYER.peerId, SELLER.peerId, 'QmPeerC', 'QmPeerD']
      for (const [i, peerId] of ids.entries())
        await repos.peers.seen({ peerId, addrs: [`/ip4/127.0.0.1/tcp/${4000 + i}`], lastSeenMs: T0 + i })
      // Seeing the first again does not add a peer; it moves it to the front.
      assert.equal(await repos.peers.seen({ peerId: SELLER.peerId, addrs: [], lastSeenMs: T0 + 10 }), 0)
      const listed = (await repos.peers.list()).items
      assert.deepEqual(
        listed.map((p) => p.peerId),
        [SELLER.peerId, 'QmPeerD', 'QmPeerC']
      )
      assert.equal(await repos.peers.get(BUYER.peerId), undefined)
      assert.deepEqual(listed[0]?.addrs, [])
      await repos.peers.remove('QmPeerC')
      assert.deepEqual(
        (await repos.peers.list(1)).items.map((p) => p.peerId),
        [SELLER.peerId]
      )
      assert.equal((await repos.peers.list()).items.length, 2)
    })

    it('adds reputation counters per address and per peer, keeping bounded evidence ids', async () => {
      const addr = { kind: 'address', id: BUYER.address } as const
      const peer = { kind: 'peer', id: BUYER.peerId } as const
      await repos.reputation.update(addr, { add: { finished: 2, noShows: 1 } }, T0)
      const r = await repos.reputation.update(addr, { add: { finished: 1 }, evidenceId: 'e0' }, T0 + 5)
      assert.equal(r.counters.finished, 3)
      assert.equal(r.counters.noShows, 1)
      assert.equal(r.counters.invalidGossip, 0)
      assert.equal(r.lastUpdatedMs, T0 + 5)
      for (let i = 0; i <= MAX_EVIDENCE_IDS; i++)
        await repos.reputation.update(peer, { add: { equivocations: 1 }, evidenceId: `e${i}` }, T0)
      await repos.reputation.update(peer, { evidenceId: `e${MAX_EVIDENCE_IDS}` }, T0)
      await reopen()
      const p = await repos.reputation.get(peer)
      assert.equal(p?.counters.equivocations, MAX_EVIDENCE_IDS + 1)
      assert.equal(p?.evidenceIds.length, MAX_EVIDENCE_IDS)
      assert.equal(p?.evidenceIds.at(-1), `e${MAX_EVIDENCE_IDS}`)
      assert.equal(p?.evidenceIds[0], 'e1')
      assert.deepEqual((await repos.reputation.get(addr))?.evidenceIds, ['e0'])
      assert.equal((await repos.reputation.list('address')).items.length, 1)
      assert.equal((await repos.reputation.list()).items.length, 2)
      assert.throws(() => repos.reputation.update(addr, { add: { finished: -1 } }, T0), {
        code: StoreCode.INVALID
      })
      assert.throws(() => repos.reputation.update({ kind: 'peer', id: '0OIl' }, {}, T0), {
        code: StoreCode.INVALID
      })
    })

    it('remembers followed articles and settings across a reopen', async () => {
      await repos.settings.follow('net.bitwrk/gorays/0', T0)
      await repos.settings.follow('net.bitwrk/gorays/1', T0 + 1)
      assert.equal((await repos.settings.follow('net.bitwrk/gorays/0', T0 + 9)).sinceMs, T0)
      await repos.settings.unfollow('net.bitwrk/gorays/1')
      await repos.settings.set('http.port', '8081')
      await reopen()
      assert.deepEqual((await repos.settings.subscriptions()).items, [
        { article: 'net.bitwrk/gorays/0', sinceMs: T0 }
      ])
      assert.equal(await repos.settings.get('http.port'), '8081')
      await repos.settings.set('http.port', undefined)
      assert.equal(await repos.settings.get('http.port'), undefined)
      await rejectsWithCode(() => repos.settings.follow('not an article', T0), StoreCode.INVALID)
    })
  })
}
