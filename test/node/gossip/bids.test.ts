import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { BookCode, bidTopicValidator, type ValidationContext } from '../../../node/index.js'
import { forgedBid, testBid } from '../../../node/testing.js'
import { type Bid, BidCode, type Cancel, encodeSigned, signCancel } from '../../../protocol/bid/index.js'
import { Identity } from '../../../protocol/identity/index.js'

const ARTICLE = 'net.bitwrk/gorays/0'
const NOW = 1_700_000_000_000

function ctx(article = ARTICLE, nowMs = NOW): ValidationContext {
  return { topic: `/bitwrk/bids/1/${article}`, kind: 'bids', article, from: 'peer', nowMs }
}

describe('node/gossip/bids', () => {
  it('accepts a bid on its own article topic and hands it over', async () => {
    const seen: Bid[] = []
    const v = bidTopicValidator({ onBid: (b) => seen.push(b) })
    const { bid, bytes } = testBid(ARTICLE, { createdMs: NOW })
    assert.deepEqual(await v(bytes, ctx()), { result: 'accept' })
    assert.equal(seen[0]?.id, bid.id)
  })

  it('rejects a valid bid published on another article topic', async () => {
    const v = bidTopicValidator()
    const { bytes } = testBid('fnord', { createdMs: NOW })
    assert.deepEqual(await v(bytes, ctx()), { result: 'reject', code: BookCode.WRONG_TOPIC })
  })

  it('rejects a forged signature and ignores time-window failures', async () => {
    const v = bidTopicValidator({ maxClockSkewMs: 1000 })
    const { bid, bytes } = testBid(ARTICLE, { createdMs: NOW })
    assert.deepEqual(await v(forgedBid(bid), ctx()), { result: 'reject', code: BidCode.badSignature })
    assert.deepEqual(await v(bytes, ctx(ARTICLE, NOW - 1001)), {
      result: 'ignore',
      code: BidCode.fromFuture
    })
    assert.deepEqual(await v(bytes, ctx(ARTICLE, bid.expiresMs)), {
      result: 'ignore',
      code: BidCode.expired
    })
    assert.equal((await v(new TextEncoder().encode('garbage'), ctx())).result, 'reject')
  })

  it('validates cancels on the bid topic', async () => {
    const cancels: Cancel[] = []
    const v = bidTopicValidator({ onCancel: (c) => cancels.push(c) })
    const who = Identity.generate((n) => new Uint8Array(randomBytes(n)))
    const { bid } = testBid(ARTICLE, { createdMs: NOW, identity: who })
    const cancel = signCancel(who, { bidId: bid.id, createdMs: NOW + 10 })
    assert.deepEqual(await v(encodeSigned(cancel), ctx()), { result: 'accept' })
    assert.equal(cancels[0]?.bidId, bid.id)
    const other = Identity.generate((n) => new Uint8Array(randomBytes(n)))
    const forged = encodeSigned({ document: cancel.document, signature: other.sign(cancel.document) })
    assert.deepEqual(await v(forged, ctx()), { result: 'reject', code: BidCode.badSignature })
  })
})
