import assert from 'node:assert/strict'
import {
  type BidTopicContext,
  BidCode as Code,
  decodeSignedBid,
  isCancelMessage,
  validateBidTopicMessage,
  validateTopicBid,
  WRONG_TOPIC_CODE
} from '../../protocol/index.js'
import { ONE, VECTOR_BUY, VECTOR_CANCEL, wire } from './fixtures.js'

const ARTICLE = VECTOR_BUY.fields.article
const BID = wire(VECTOR_BUY.document, VECTOR_BUY.signature)
const CANCEL = wire(VECTOR_CANCEL.document, VECTOR_CANCEL.signature)
const T = VECTOR_BUY.fields.createdMs + 30_000
const CTX: BidTopicContext = { nowMs: T, maxClockSkewMs: 2000, article: ARTICLE }
const enc = (s: string) => new TextEncoder().encode(s)

describe('bid topic validator (MARKET-3, GOSSIP-3)', () => {
  it('tells a cancel by its leading kind=bitwrk-cancel-v1& bytes, anything else is a bid', () => {
    assert.equal(isCancelMessage(CANCEL), true)
    assert.equal(isCancelMessage(BID), false)
    assert.equal(isCancelMessage(enc('kind=bitwrk-cancel-v1')), false, 'the & belongs to the prefix')
    assert.equal(isCancelMessage(enc('kind=bitwrk-cancel-v2&bid=')), false)
    assert.equal(isCancelMessage(new Uint8Array(0)), false)
  })

  it('accepts a bid of the topic article and hands back the decoded bid', () => {
    const r = validateBidTopicMessage(BID, CTX)
    assert.equal(r.result, 'accept')
    assert.deepEqual(r.result === 'accept' ? r.bid : undefined, decodeSignedBid(BID))
    assert.deepEqual(validateTopicBid(BID, CTX), r)
  })

  it('rejects a valid bid on another article topic with BOOK_WRONG_TOPIC, after the bid rules', () => {
    assert.equal(WRONG_TOPIC_CODE, 'BOOK_WRONG_TOPIC')
    const other = { ...CTX, article: 'net.bitwrk/gorays/0' }
    assert.deepEqual(validateBidTopicMessage(BID, other), { result: 'reject', code: WRONG_TOPIC_CODE })
    assert.deepEqual(validateTopicBid(BID, other), { result: 'reject', code: WRONG_TOPIC_CODE })
    // a bid the BID rules refuse keeps their code: the topic is checked only for a valid bid
    const forged = wire(VECTOR_BUY.document, undefined, ONE)
    assert.deepEqual(validateTopicBid(forged, other), { result: 'reject', code: Code.badSignature })
    // without a topic article (book sync of any followed article) every article passes
    const { article: _, ...anyArticle } = CTX
    assert.equal(validateTopicBid(BID, anyArticle).result, 'accept')
  })

  it('applies the late cutoff, the clock allowance and the duplicate check of the context', () => {
    assert.deepEqual(validateTopicBid(BID, { ...CTX, lateCutoffMs: 1000 }), {
      result: 'ignore',
      code: Code.tooLate
    })
    assert.deepEqual(validateTopicBid(BID, { ...CTX, nowMs: VECTOR_BUY.fields.createdMs - 2001 }), {
      result: 'ignore',
      code: Code.fromFuture
    })
    assert.deepEqual(validateTopicBid(BID, { ...CTX, isDuplicate: (id) => id === VECTOR_BUY.id }), {
      result: 'ignore',
      code: Code.duplicate
    })
  })

  it('validates a cancel with the CANCEL rules; its bid and topic are the book’s business', () => {
    const r = validateBidTopicMessage(CANCEL, { ...CTX, article: 'net.bitwrk/gorays/0' })
    assert.equal(r.result, 'accept')
    assert.equal(r.result === 'accept' ? r.cancel?.bidId : undefined, VECTOR_BUY.id)
    assert.equal(r.result === 'accept' ? r.bid : 'none', undefined)
    const forged = wire(VECTOR_CANCEL.document, undefined, ONE)
    assert.deepEqual(validateBidTopicMessage(forged, CTX), { result: 'reject', code: Code.badSignature })
    assert.deepEqual(validateBidTopicMessage(CANCEL, { ...CTX, isDuplicate: () => true }), {
      result: 'ignore',
      code: Code.duplicate
    })
  })

  it('judges a cancel given as a bid to the bid validator as BID_WRONG_KIND', () => {
    assert.deepEqual(validateTopicBid(CANCEL, CTX), { result: 'reject', code: Code.wrongKind })
  })
})
