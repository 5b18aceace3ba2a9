import assert from 'node:assert/strict'
import {
  type BidClosedEvent,
  type BitwrkNode,
  createBitwrkNode,
  MarketCode,
  NodeCode,
  OWN_BIDS_PER_EPOCH,
  openStore
} from '../../../node/index.js'
import { createMemoryController, waitFor } from '../../../node/testing.js'
import { encodeSigned, randomBidNonce, signBid } from '../../../protocol/bid/index.js'
import { isBitwrkError } from '../../../protocol/errors.js'
import { epochClosesAtMs, epochOf } from '../../../protocol/matching/index.js'
import { money } from '../../../protocol/money/index.js'
import {
  createTransaction,
  encodeTxMessage,
  signTxMessage,
  transactionId,
  workSecretHash
} from '../../../protocol/transaction/index.js'
import { rejectsWithCode } from '../../support/errors.js'
import { ARTICLE, baseOptions, memoryNode, newIdentity, newWork, PARAMS, random } from './helpers.js'

describe('node/market (own bids and resume)', function () {
  this.timeout(20_000)
  const nodes: BitwrkNode[] = []
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  it('refuses bad placeBid requests with codes', async () => {
    const n = await memoryNode()
    nodes.push(n)
    const price = money('BTC', 100n)
    await rejectsWithCode(
      n.placeBid({ article: 'net.bitwrk/other/0', side: 'SELL', price }),
      MarketCode.NOT_FOLLOWED
    )
    await rejectsWithCode(n.placeBid({ article: ARTICLE, side: 'BUY', price }), MarketCode.WORK_REQUIRED)
    await rejectsWithCode(
      n.placeBid({ article: ARTICLE, side: 'BUY', price, work: { workHash: 'ab', buyerSecret: 'cd' } }),
      MarketCode.BAD_REQUEST
    )
    await rejectsWithCode(
      n.placeBid({ article: ARTICLE, side: 'SELL', price, lifetimeMs: 120_001 }),
      MarketCode.BAD_REQUEST
    )
    await rejectsWithCode(n.cancelBid('0'.repeat(64)), MarketCode.UNKNOWN_BID)
    assert.deepEqual((await n.repos.bids.list()).items, [])
  })

  it('dates at most OWN_BIDS_PER_EPOCH own bids of an article into one epoch (MARKET-19)', async () => {
    const n = await memoryNode()
    nodes.push(n)
    const price = money('BTC', 100n)
    // placed at once, right after an epoch began: the first 8 share an epoch, the rest follow
    const start = epochOf(Date.now(), PARAMS)
    await waitFor(() => epochOf(Date.now(), PARAMS) > start, { timeoutMs: 5000, what: 'a fresh epoch' })
    const total = OWN_BIDS_PER_EPOCH + 4
    const bids = await Promise.all(
      Array.from({ length: total }, () => n.placeBid({ article: ARTICLE, side: 'SELL', price }))
    )
    const epochs = bids.map((b) => epochOf(b.createdMs, PARAMS))
    const per = new Map<number, number>()
    for (const e of epochs) per.set(e, (per.get(e) ?? 0) + 1)
    for (const c of per.values()) assert.ok(c <= OWN_BIDS_PER_EPOCH, `${c} own bids in one epoch`)
    // in the order they were asked for
    assert.deepEqual(
      epochs,
      [...epochs].sort((a, b) => a - b)
    )
    assert.ok(per.size >= 2)
    assert.equal((await n.repos.bids.list()).items.length, total)
  })

  it('stores an own bid and cancels it at the cancel epoch', async () => {
    const n = await memoryNode()
    nodes.push(n)
    const closed: BidClosedEvent[] = []
    n.market.addEventListener('bid:closed', (e) => closed.push(e.detail))
    const bid = await n.placeBid({
      article: ARTICLE,
      side: 'BUY',
      price: money('BTC', 100n),
      work: newWork()
    })
    assert.equal((await n.repos.bids.get(bid.id))?.id, bid.id)
    assert.ok((await n.market.buyerWork(bid.id)) !== undefined)
    assert.equal(n.book.get(bid.id)?.bid.id, bid.id)
    await n.cancelBid(bid.id)
    await waitFor(() => closed.length > 0, { timeoutMs: 5000, what: 'cancel applied' })
    assert.deepEqual(closed, [{ bidId: bid.id, reason: 'cancelled' }])
    assert.equal(n.book.get(bid.id), undefined)
    await waitFor(async () => (await n.repos.bids.get(bid.id)) === undefined, { timeoutMs: 2000 })
    assert.equal(await n.market.buyerWork(bid.id), undefined)
  })

  it('refuses a store without an identity and a second start', async () => {
    const store = await openStore(createMemoryController())
    await assert.rejects(createBitwrkNode({ ...baseOptions(), store }), (e) =>
      isBitwrkError(e, NodeCode.BAD_OPTIONS)
    )
    const n = await memoryNode()
    nodes.push(n)
    await assert.rejects(n.start(), (e) => isBitwrkError(e, NodeCode.BAD_STATE))
  })

  /** A store holding an own SELL matched to a stranger's BUY: used mark, transaction, no message. */
  async function storedMatch() {
    const store = await openStore(createMemoryController())
    const me = newIdentity()
    const buyer = newIdentity()
    const now = Date.now()
    const sign = (who: typeof me, type: 'BUY' | 'SELL') =>
      signBid(who, {
        article: ARTICLE,
        type,
        price: money('BTC', 500n),
        nonce: randomBidNonce(random),
        createdMs: now,
        expiresMs: now + 60_000
      })
    const sell = sign(me, 'SELL')
    const buy = sign(buyer, 'BUY')
    await store.bids.put({
      id: sell.id,
      article: ARTICLE,
      side: 'sell',
      expiresMs: sell.expiresMs,
      bytes: encodeSigned(sell)
    })
    const txid = transactionId(buy.id, sell.id)
    await store.bids.markUsed(sell.id, txid)
    await store.transactions.save(
      createTransaction({
        buyBidId: buy.id,
        sellBidId: sell.id,
        buyer: buyer.address,
        seller: me.address,
        buyerPeerId: buyer.peerId,
        sellerPeerId: me.peerId,
        article: ARTICLE,
        price: money('BTC', 500n),
        matchedMs: epochClosesAtMs(epochOf(now, PARAMS), PARAMS)
      })
    )
    return { store, me, buyer, sell, txid }
  }

  it('signs a missing establishing message of a resumed own transaction (MARKET-11)', async () => {
    // State of a crash after the used mark and before the signed message was stored.
    const { store, me, sell, txid } = await storedMatch()
    const n = await createBitwrkNode({ ...baseOptions(), store, identity: me })
    nodes.push(n)
    await n.start()
    await waitFor(() => n.market.txs.get(txid)?.tx.phase === 'SELLER_ESTABLISHED', {
      timeoutMs: 5000,
      what: 'establish-seller signed on resume'
    })
    const tx = await store.transactions.get(txid)
    assert.equal(tx?.evidence.length, 1)
    assert.equal(tx?.evidence[0]?.kind, 'establish-seller')
    // the mark still names this transaction only
    assert.equal((await store.bids.usedBy(sell.id))?.txId, txid)
  })

  it('validates transaction-topic messages: hostile bytes, strangers, wrong topic, the real buyer', async () => {
    const { store, me, buyer, txid } = await storedMatch()
    const n = await createBitwrkNode({ ...baseOptions(), store, identity: me })
    nodes.push(n)
    await n.start()
    const ctx = (article = ARTICLE) => ({
      topic: '',
      kind: 'tx' as const,
      article,
      from: '',
      nowMs: Date.now()
    })
    const v = (bytes: Uint8Array, article?: string) => n.market.txs.validate(bytes, ctx(article))
    const work = newWork()
    const content = {
      kind: 'establish-buyer' as const,
      workHash: work.workHash,
      workSecretHash: workSecretHash(work.workHash, work.buyerSecret)
    }
    const hostile: [Uint8Array, string][] = [
      [new Uint8Array(0), 'TX_MALFORMED'],
      [new Uint8Array(5000).fill(0x41), 'TX_TOO_LARGE'],
      [new TextEncoder().encode('kind=bitwrk-tx-v1\nsig\nmore'), 'TX_MALFORMED'],
      [new TextEncoder().encode('kind=bitwrk-bid-v1&x=1\nc2ln'), 'TX_BAD_KIND'],
      [Uint8Array.of(0x00, 0x0a, 0x41), 'TX_MALFORMED']
    ]
    for (const [bytes, code] of hostile) assert.deepEqual(await v(bytes), { result: 'reject', code })
    const stranger = encodeTxMessage(signTxMessage(newIdentity(), txid, content))
    assert.deepEqual(await v(stranger), { result: 'reject', code: 'TX_BAD_SIGNATURE' })
    const unknown = encodeTxMessage(signTxMessage(buyer, 'ab'.repeat(32), content))
    assert.deepEqual(await v(unknown), { result: 'ignore', code: 'MARKET_UNKNOWN_TX' })
    const good = encodeTxMessage(signTxMessage(buyer, txid, content))
    assert.deepEqual(await v(good, 'net.bitwrk/other/0'), { result: 'reject', code: 'MARKET_WRONG_TOPIC' })
    assert.deepEqual(await v(good), { result: 'accept' })
    assert.deepEqual(await v(good), { result: 'ignore', code: 'TX_WRONG_PHASE' })
    // the accepted message of an own transaction is in the store
    assert.equal(
      (await store.transactions.get(txid))?.evidence.some((e) => e.kind === 'establish-buyer'),
      true
    )
  })
})
