import assert from 'node:assert/strict'
import { MemorySyncBook, SyncCode, validateSyncedBid } from '../../../node/sync/index.js'
import { testBid } from '../../../node/testing.js'
import { BidCode } from '../../../protocol/bid/index.js'
import { ARTICLES } from './helpers.js'

const [ARTICLE, OTHER] = ARTICLES
const NOW = 1_700_000_000_000

describe('node/sync/book (SYNC-8)', () => {
  it('runs the bid topic validator with the session article and no late cutoff', () => {
    const { bid, bytes } = testBid(ARTICLE, { createdMs: NOW - 30_000 })
    const r = validateSyncedBid(ARTICLE, bytes, NOW)
    assert.equal(r.result, 'accept')
    assert.equal(r.result === 'accept' ? r.bid.id : undefined, bid.id)
    assert.deepEqual(validateSyncedBid(ARTICLE, bytes, NOW, { isDuplicate: () => true }), {
      result: 'ignore',
      code: BidCode.duplicate
    })
  })

  it('rejects a valid bid of another article with SYNC_WRONG_ARTICLE, in MemorySyncBook too', () => {
    const { bytes } = testBid(OTHER, { createdMs: NOW })
    const wrong = { result: 'reject', code: SyncCode.WRONG_ARTICLE }
    assert.deepEqual(validateSyncedBid(ARTICLE, bytes, NOW), wrong)
    assert.deepEqual(new MemorySyncBook([ARTICLE]).addBid(ARTICLE, bytes, NOW), wrong)
  })
})
