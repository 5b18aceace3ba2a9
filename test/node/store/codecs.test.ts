import assert from 'node:assert/strict'
import fc from 'fast-check'
import { compare as compareBytes } from 'uint8arrays/compare'
import { bidKey, decodeBid, decodeUsed, encodeBid, encodeUsed, usedKey } from '../../../node/store/bids.js'
import { decodeSealed, Reader, seal, u64Bytes, unseal, Writer } from '../../../node/store/codec.js'
import { prefixRange } from '../../../node/store/db.js'
import { COUNTER_NAMES, MAX_EVIDENCE_IDS, StoreCode } from '../../../node/store/index.js'
import { decodePeer, encodePeer, peerKey } from '../../../node/store/peers.js'
import { decodeReputation, encodeReputation, reputationKey } from '../../../node/store/reputation.js'
import {
  decodeSetting,
  decodeSubscription,
  settingKey,
  subscriptionKey
} from '../../../node/store/settings.js'
import {
  decodeStoredMessage,
  decodeTxHeader,
  encodeStoredMessage,
  encodeTxHeader,
  type TxHeader,
  txKey,
  txMessageKey
} from '../../../node/store/transactions.js'
import { isBitwrkError } from '../../../protocol/errors.js'
import { CURRENCIES, MONEY_MAX_ABS } from '../../../protocol/money/index.js'
import { MESSAGE_KINDS, PHASES, transactionId } from '../../../protocol/transaction/index.js'
import { MESSAGES, TERMS } from '../../transaction/helpers.js'
import { BUYER, SELLER } from './helpers.js'

const RUNS = { numRuns: 200 }
const bidId = fc.stringMatching(/^[0-9A-Za-z_.~-]{1,128}$/)
const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'))
const ms = fc.maxSafeNat()
const article = fc.constantFrom(
  'net.bitwrk/gorays/0',
  'net.bitwrk/gorays/0~trusted',
  'org.example/render-tile/7'
)
const base58 = fc.stringMatching(/^[1-9A-HJ-NP-Za-km-z]{1,128}$/)
const multiaddr = fc.stringMatching(/^\/[\x21-\x2b\x2d-\x7e]{1,200}$/)

function corruptCode(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => isBitwrkError(err, StoreCode.CORRUPT))
}

describe('node/store codecs', () => {
  it('orders u64 key parts like the numbers they encode', () => {
    fc.assert(
      fc.property(ms, ms, (a, b) => {
        assert.equal(Math.sign(compareBytes(u64Bytes(a), u64Bytes(b))), Math.sign(a - b))
      }),
      RUNS
    )
  })

  it('bounds a prefix range to exactly the keys that start with the prefix', () => {
    const byte = fc.constantFrom(0, 1, 0xfe, 0xff)
    fc.assert(
      fc.property(
        fc.array(byte, { maxLength: 4 }),
        fc.array(byte, { maxLength: 6 }),
        fc.boolean(),
        (p, tail, extend) => {
          const prefix = Uint8Array.from(p)
          const key = Uint8Array.from(extend ? [...p, ...tail] : tail)
          const r = prefixRange(prefix)
          const inRange = compareBytes(key, r.gte) >= 0 && (r.lt === undefined || compareBytes(key, r.lt) < 0)
          const starts = key.length >= prefix.length && prefix.every((b, i) => key[i] === b)
          assert.equal(inRange, starts)
        }
      ),
      { numRuns: 500 }
    )
  })

  it('round-trips every field of the Writer/Reader and refuses trailing or missing bytes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.nat(),
        ms,
        fc.uint8Array(),
        fc.string(),
        (a, b, c, d, e) => {
          const bytes = new Writer().u8(a).u32(b).u64(c).bytes(d).str(e).finish()
          const readAll = (buf: Uint8Array): unknown[] => {
            const r = new Reader(buf)
            const out = [r.u8(), r.u32(), r.u64(), r.bytes(1 << 20), r.str(1 << 20)]
            r.end()
            return out
          }
          assert.deepEqual(readAll(bytes), [a, b, c, d, e])
          corruptCode(() => readAll(bytes.subarray(0, bytes.length - 1)))
          corruptCode(() => readAll(Uint8Array.of(...bytes, 0)))
        }
      ),
      RUNS
    )
    corruptCode(() => new Reader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)).u64())
    corruptCode(() => new Reader(new Writer().bytes(Uint8Array.of(0xc3, 0x28)).finish()).str(10))
    corruptCode(() => new Reader(new Writer().str('abc').finish()).str(2))
  })

  it('round-trips bids and used marks', () => {
    fc.assert(
      fc.property(
        bidId,
        article,
        fc.constantFrom('buy' as const, 'sell' as const),
        ms,
        fc.uint8Array({ minLength: 1, maxLength: 4096 }),
        hex64,
        (id, art, side, expiresMs, bytes, txId) => {
          const bid = { id, article: art, side, expiresMs, bytes }
          const k = bidKey(id)
          assert.deepEqual(decodeBid(k, seal(k, encodeBid(bid))), bid)
          const mark = { bidId: id, txId, expiresMs }
          const u = usedKey(id)
          assert.deepEqual(decodeUsed(u, seal(u, encodeUsed(mark))), mark)
        }
      ),
      RUNS
    )
  })

  it('round-trips transaction headers', () => {
    const header = fc.record({
      buyBidId: bidId,
      sellBidId: bidId,
      currency: fc.constantFrom(...CURRENCIES),
      amount: fc.bigInt({ min: 0n, max: MONEY_MAX_ABS }),
      matchedMs: fc.nat({ max: 2 ** 50 }),
      phase: fc.constantFrom(...PHASES),
      revision: fc.nat(),
      deadlineMs: ms,
      messageCount: fc.nat({ max: 8 }),
      retiredMs: fc.option(ms, { nil: null })
    })
    fc.assert(
      fc.property(header, (h) => {
        const value: TxHeader = {
          terms: {
            ...TERMS,
            buyBidId: h.buyBidId,
            sellBidId: h.sellBidId,
            price: { currency: h.currency, amount: h.amount },
            matchedMs: h.matchedMs
          },
          state: h.retiredMs === null ? 'active' : 'retired',
          phase: h.phase,
          revision: h.revision,
          deadlineMs: h.deadlineMs,
          messageCount: h.messageCount,
          retiredMs: h.retiredMs
        }
        const k = txKey(transactionId(h.buyBidId, h.sellBidId))
        assert.deepEqual(decodeTxHeader(k, seal(k, encodeTxHeader(value))), value)
        // The same header under another transaction's key fails.
        const other = txKey('0'.repeat(64))
        corruptCode(() => decodeTxHeader(other, seal(other, encodeTxHeader(value))))
      }),
      RUNS
    )
  })

  it('round-trips stored transaction messages', () => {
    fc.assert(
      fc.property(fc.constantFrom(...MESSAGE_KINDS), ms, fc.nat({ max: 7 }), (kind, receivedMs, seq) => {
        const k = txMessageKey('f'.repeat(64), seq)
        const m = { message: MESSAGES[kind], receivedMs }
        assert.deepEqual(decodeStoredMessage(k, seal(k, encodeStoredMessage(m))), m)
      }),
      RUNS
    )
  })

  it('round-trips peers, reputation records, subscriptions and settings', () => {
    fc.assert(
      fc.property(
        base58,
        fc.array(multiaddr, { maxLength: 16 }),
        ms,
        fc.constantFrom(
          { kind: 'address' as const, id: BUYER.address },
          { kind: 'peer' as const, id: SELLER.peerId }
        ),
        fc.array(ms, { minLength: COUNTER_NAMES.length, maxLength: COUNTER_NAMES.length }),
        fc.uniqueArray(bidId, { maxLength: MAX_EVIDENCE_IDS }),
        article,
        fc.string({ maxLength: 300 }),
        (peerId, addrs, t, subject, values, evidenceIds, art, setting) => {
          const pk = peerKey(peerId)
          const peer = { peerId, addrs, lastSeenMs: t }
          assert.deepEqual(decodePeer(pk, seal(pk, encodePeer(peer))), peer)
          const rk = reputationKey(subject)
          const counters = Object.fromEntries(COUNTER_NAMES.map((n, i) => [n, values[i]]))
          const rec = { subject, counters, evidenceIds, lastUpdatedMs: t }
          assert.deepEqual(decodeReputation(rk, seal(rk, encodeReputation(rec as never))), rec)
          const sk = subscriptionKey(art)
          assert.deepEqual(decodeSubscription(sk, seal(sk, new Writer().u64(t).finish())), {
            article: art,
            sinceMs: t
          })
          const gk = settingKey('some.setting')
          assert.equal(decodeSetting(gk, seal(gk, new Writer().str(setting).finish())), setting)
        }
      ),
      RUNS
    )
  })

  it('refuses garbage values for every record kind with STORE_CORRUPT', () => {
    const k = txKey(transactionId('a', 'b'))
    const decoders: [string, Uint8Array, (key: Uint8Array, v: Uint8Array) => unknown][] = [
      ['bid', bidKey('b1'), decodeBid],
      ['used', usedKey('b1'), decodeUsed],
      ['tx header', k, decodeTxHeader],
      ['tx message', txMessageKey('a'.repeat(64), 0), decodeStoredMessage],
      ['peer', peerKey(BUYER.peerId), decodePeer],
      ['reputation', reputationKey({ kind: 'peer', id: BUYER.peerId }), decodeReputation],
      ['subscription', subscriptionKey('net.bitwrk/gorays/0'), decodeSubscription],
      ['setting', settingKey('x'), decodeSetting]
    ]
    const garbage = (key: Uint8Array): Uint8Array[] => [
      new Uint8Array(0),
      Uint8Array.of(1, 2, 3),
      seal(key, new Uint8Array(0)),
      seal(key, Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)),
      seal(key, new Uint8Array(5000)),
      seal(key, new Writer().u64(1).u32(0xffffffff).finish()),
      seal(key.subarray(1), new Writer().u64(1).finish())
    ]
    for (const [name, key, decode] of decoders)
      for (const v of garbage(key))
        assert.throws(
          () => decode(key, v),
          (err: unknown) => isBitwrkError(err, StoreCode.CORRUPT),
          `${name}: ${Buffer.from(v).toString('hex').slice(0, 40)}`
        )
    // Keys themselves are checked too: a stored message under a garbage key, a bad reputation kind.
    corruptCode(() =>
      decodeReputation(
        Uint8Array.of(0x30, 0x09, 0x41),
        seal(Uint8Array.of(0x30, 0x09, 0x41), new Uint8Array(0))
      )
    )
    corruptCode(() => unseal(Uint8Array.of(1), Uint8Array.of(0, 0, 0)))
    corruptCode(() =>
      decodeSealed(Uint8Array.of(1), seal(Uint8Array.of(1), Uint8Array.of(1, 2)), (r) => r.u8())
    )
  })
})
