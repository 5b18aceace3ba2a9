import assert from 'node:assert/strict'
import fc from 'fast-check'
import { bidKey, encodeBid, usedKey } from '../../../node/store/bids.js'
import { concat, seal, Writer } from '../../../node/store/codec.js'
import {
  Bucket,
  type KvController,
  openStore,
  type Repositories,
  StoreCode
} from '../../../node/store/index.js'
import { encodeStoredMessage, encodeTxHeader, txKey, txMessageKey } from '../../../node/store/transactions.js'
import { signTxMessage } from '../../../protocol/transaction/index.js'
import { rejectsWithCode } from '../../support/errors.js'
import { CONTENT } from '../../transaction/helpers.js'
import { BACKENDS, type Backend, BUYER, bid, driveTo, SELLER, T0, termsN } from './helpers.js'

const TXA = 'a'.repeat(64)

/** Every key of a bucket. */
async function keysOf(kv: KvController, bucket: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const [k] of kv.entries({ gte: Uint8Array.of(bucket), lt: Uint8Array.of(bucket + 1) }))
    out.push(k)
  return out
}

/** Flips bit `bit` of the value stored under `key`. */
async function flip(kv: KvController, key: Uint8Array, bit: number): Promise<Uint8Array> {
  const original = (await kv.get(key))!
  const v = Uint8Array.from(original)
  const i = bit % (v.length * 8)
  v[i >> 3] = (v[i >> 3] as number) ^ (1 << (i & 7))
  await kv.batch([{ type: 'put', key, value: v }])
  return original
}

for (const makeBackend of BACKENDS) {
  const name = makeBackend().name
  describe(`node/store corrupt records (${name})`, () => {
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

    /** One record in every bucket, two of each listable kind. */
    async function populate(): Promise<void> {
      await repos.bids.put(bid('b1', T0 + 10_000))
      await repos.bids.put(bid('b2', T0 + 20_000))
      await repos.bids.markUsed('b1', TXA)
      await repos.transactions.save(driveTo(termsN(1), 'WORKING'))
      await repos.transactions.save(driveTo(termsN(2), 'TRANSMITTING'))
      await repos.peers.seen({ peerId: BUYER.peerId, addrs: ['/ip4/127.0.0.1/tcp/1'], lastSeenMs: T0 })
      await repos.peers.seen({ peerId: SELLER.peerId, addrs: [], lastSeenMs: T0 + 1 })
      await repos.reputation.update({ kind: 'address', id: BUYER.address }, { add: { finished: 1 } }, T0)
      await repos.reputation.update({ kind: 'address', id: SELLER.address }, { add: { finished: 1 } }, T0)
      await repos.settings.follow('net.bitwrk/gorays/0', T0)
      await repos.settings.follow('net.bitwrk/gorays/1', T0)
      await repos.settings.set('http.port', '8081')
    }

    const bits = name === 'memory' ? 64 : 12

    it('reports a flipped bit in any bid value as STORE_CORRUPT and keeps the other bid readable', async () => {
      await populate()
      const [k1] = await keysOf(kv, Bucket.bid)
      await fc.assert(
        fc.asyncProperty(fc.nat(), async (bit) => {
          const original = await flip(kv, k1!, bit)
          await rejectsWithCode(() => repos.bids.get('b1'), StoreCode.CORRUPT)
          const live = await repos.bids.listLive(T0)
          assert.deepEqual(
            live.items.map((b) => b.id),
            ['b2']
          )
          assert.equal(live.corrupt.length, 1)
          assert.equal(live.corrupt[0]?.code, StoreCode.CORRUPT)
          await kv.batch([{ type: 'put', key: k1!, value: original }])
        }),
        { numRuns: bits }
      )
    })

    it('refuses markUsed over a corrupt used mark instead of overwriting it', async () => {
      await populate()
      await flip(kv, usedKey('b1'), 3)
      await rejectsWithCode(() => repos.bids.usedBy('b1'), StoreCode.CORRUPT)
      await rejectsWithCode(() => repos.bids.markUsed('b1', 'c'.repeat(64)), StoreCode.CORRUPT)
      // Pruning keeps the unreadable mark (it might be what stops a double signature).
      assert.deepEqual(await repos.bids.pruneExpired(T0 + 10 ** 9), { bids: 2, usedMarks: 0 })
      assert.equal((await keysOf(kv, Bucket.bidUsed)).length, 1)
    })

    it('reports a flipped bit in a transaction header or message, and recovery resumes the other one', async () => {
      await populate()
      const good = driveTo(termsN(2), 'TRANSMITTING')
      const bad = driveTo(termsN(1), 'WORKING')
      for (const key of [txKey(bad.id), txMessageKey(bad.id, 1)]) {
        const original = await flip(kv, key, 77)
        await rejectsWithCode(() => repos.transactions.get(bad.id), StoreCode.CORRUPT)
        const report = await repos.transactions.recover(T0 + 10)
        assert.deepEqual(
          report.resumed.map((t) => t.id),
          [good.id]
        )
        assert.deepEqual(
          report.corrupt.map((f) => [f.bucket, f.code]),
          [['txOpen', StoreCode.CORRUPT]]
        )
        await kv.batch([{ type: 'put', key, value: original }])
        assert.deepEqual(await repos.transactions.get(bad.id), bad)
      }
    })

    it('detects a missing or extra message and a resealed message that the phase machine refuses', async () => {
      await populate()
      const tx = driveTo(termsN(1), 'WORKING')
      const m1 = txMessageKey(tx.id, 1)
      const original = (await kv.get(m1))!
      await kv.batch([{ type: 'del', key: m1 }])
      await rejectsWithCode(() => repos.transactions.get(tx.id), StoreCode.CORRUPT)
      await kv.batch([{ type: 'put', key: m1, value: original }])
      const m3 = txMessageKey(tx.id, 3)
      await kv.batch([{ type: 'put', key: m3, value: original }])
      await rejectsWithCode(() => repos.transactions.get(tx.id), StoreCode.CORRUPT)
      await kv.batch([{ type: 'del', key: m3 }])
      // A well-sealed message signed by the wrong party: the replay refuses it.
      const forged = signTxMessage(BUYER, tx.id, CONTENT['establish-seller'])
      await kv.batch([
        {
          type: 'put',
          key: m1,
          value: seal(m1, encodeStoredMessage({ message: forged, receivedMs: T0 + 2000 }))
        }
      ])
      await rejectsWithCode(() => repos.transactions.get(tx.id), StoreCode.CORRUPT)
      await kv.batch([{ type: 'put', key: m1, value: original }])
      // A well-sealed header whose cached phase disagrees with the replay.
      const hk = txKey(tx.id)
      const header = {
        terms: tx.terms,
        state: tx.state,
        phase: 'UNVERIFIED' as const,
        revision: tx.revision,
        deadlineMs: tx.deadlineMs,
        messageCount: tx.evidence.length,
        retiredMs: null
      }
      await kv.batch([{ type: 'put', key: hk, value: seal(hk, encodeTxHeader(header)) }])
      await rejectsWithCode(() => repos.transactions.get(tx.id), StoreCode.CORRUPT)
    })

    it('rejects a well-sealed record with invalid fields and a value moved under another key', async () => {
      await populate()
      const k = bidKey('b1')
      const badSide = new Writer()
        .str('b1')
        .str('net.bitwrk/gorays/0')
        .u8(7)
        .u64(T0 + 10_000)
        .bytes(Uint8Array.of(1))
        .finish()
      await kv.batch([{ type: 'put', key: k, value: seal(k, badSide) }])
      await rejectsWithCode(() => repos.bids.get('b1'), StoreCode.CORRUPT)
      const wrongId = encodeBid(bid('b2', T0 + 10_000))
      await kv.batch([{ type: 'put', key: k, value: seal(k, wrongId) }])
      await rejectsWithCode(() => repos.bids.get('b1'), StoreCode.CORRUPT)
      // b2's valid value copied under b1's key fails the checksum, which binds the key.
      await kv.batch([{ type: 'put', key: k, value: (await kv.get(bidKey('b2')))! }])
      await rejectsWithCode(() => repos.bids.get('b1'), StoreCode.CORRUPT)
      assert.equal((await repos.bids.get('b2'))?.id, 'b2')
    })

    it('reports flipped peers, reputation, subscription and setting records with STORE_CORRUPT', async () => {
      await populate()
      const [p1] = await keysOf(kv, Bucket.peer)
      await flip(kv, p1!, 5)
      const peers = await repos.peers.list()
      assert.equal(peers.items.length, 1)
      assert.deepEqual(
        peers.corrupt.map((f) => f.code),
        [StoreCode.CORRUPT]
      )
      const [r1] = await keysOf(kv, Bucket.reputation)
      await flip(kv, r1!, 9)
      const rep = await repos.reputation.list()
      assert.equal(rep.items.length, 1)
      assert.equal(rep.corrupt.length, 1)
      await rejectsWithCode(
        () =>
          repos.reputation.update(
            {
              kind: 'address',
              id: rep.items[0]?.subject.id === BUYER.address ? SELLER.address : BUYER.address
            },
            { add: { finished: 1 } },
            T0
          ),
        StoreCode.CORRUPT
      )
      const [s1] = await keysOf(kv, Bucket.subscription)
      await flip(kv, s1!, 1)
      const subs = await repos.settings.subscriptions()
      assert.equal(subs.items.length, 1)
      assert.equal(subs.corrupt.length, 1)
      const [g1] = await keysOf(kv, Bucket.setting)
      await flip(kv, g1!, 40)
      await rejectsWithCode(() => repos.settings.get('http.port'), StoreCode.CORRUPT)
      // Everything else stays readable.
      assert.equal((await repos.bids.listLive(T0)).items.length, 2)
      assert.equal((await repos.transactions.listOpen()).items.length, 2)
    })

    it('reports an index entry that points to no record instead of dropping it', async () => {
      await populate()
      const stray = concat(Uint8Array.of(Bucket.txOpen), Buffer.from('c'.repeat(64), 'hex'))
      await kv.batch([{ type: 'put', key: stray, value: new Uint8Array(0) }])
      const open = await repos.transactions.listOpen()
      assert.equal(open.items.length, 2)
      assert.deepEqual(
        open.corrupt.map((f) => f.key),
        [Buffer.from(stray).toString('hex')]
      )
    })
  })
}
