import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import bitcoinMessage from 'bitcoinjs-message'
import {
  decodeSignedBid,
  decodeSignedCancel,
  encodeSigned,
  feeAmount,
  feeFor,
  formatMoney,
  matchKey,
  NO_FEE,
  normalize,
  ORIGINAL_FEE_RATIO,
  originalBidDocument,
  originalFee,
  parseMoney,
  queryEscape,
  queryUnescape,
  signBid,
  signCancel,
  signMessage,
  validateBid,
  validateCancel,
  verifyBidSignature
} from '../../protocol/index.js'
import { HORSE, VECTOR_BUY, VECTOR_CANCEL, VECTOR_K1, VECTOR_SELL } from './fixtures.js'

const sha256hex = (s: string) => createHash('sha256').update(s, 'ascii').digest('hex')

describe('bid vectors', () => {
  describe('original documents (vector C, compatibility only)', () => {
    it('reproduces the BUY document and its k = 1 signatures', () => {
      const doc = originalBidDocument({
        type: 'BUY',
        article: 'net.bitwrk/blender/0/2.80/512M',
        price: 'mBTC 1.5',
        address: '1C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq8',
        nonce: '0123456789abcdef0123456789abcdef'
      })
      assert.equal(
        doc,
        'article=net.bitwrk%2Fblender%2F0%2F2.80%2F512M&type=BUY&price=mBTC1.5&address=1C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq8&nonce=0123456789abcdef0123456789abcdef'
      )
      assert.equal(
        signMessage(HORSE.privateKey, doc, { nonce: 1n }),
        'H3m+Zn753LusVaBilc6HCwcCm/zbLc4o2VnygVsW+BeYbIMEtMhrjA2F+sFsLyWg7UgyzS3s4Np3QjZ/dFWzXJc='
      )
      assert.equal(
        signMessage(HORSE.privateKey, doc, { nonce: 1n, compressed: false }),
        'G3m+Zn753LusVaBilc6HCwcCm/zbLc4o2VnygVsW+BeYbIMEtMhrjA2F+sFsLyWg7UgyzS3s4Np3QjZ/dFWzXJc='
      )
      assert.equal(formatMoney(originalFee(parseMoney('mBTC 1.5'))), 'uBTC 45')
      assert.equal(matchKey('net.bitwrk/blender/0/2.80/512M', 'BTC'), 'net.bitwrk/blender/0/2.80/512M:BTC')
    })

    it('reproduces the SELL document of a trusted article', () => {
      const doc = originalBidDocument({
        type: 'SELL',
        article: 'foobar~trusted',
        price: 'BTC 0.0001',
        address: '1C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq8',
        nonce: 'aabbccddeeff00112233445566778899'
      })
      assert.equal(
        doc,
        'article=foobar~trusted&type=SELL&price=BTC0.0001&address=1C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq8&nonce=aabbccddeeff00112233445566778899'
      )
      assert.equal(formatMoney(originalFee(parseMoney('BTC 0.0001'))), 'uBTC 3')
    })

    it('refuses an original document as a bid (no kind field)', () => {
      const doc = originalBidDocument({
        type: 'BUY',
        article: 'fnord',
        price: 'mBTC 1',
        address: HORSE.address,
        nonce: '0123456789abcdef0123456789abcdef'
      })
      const bytes = new TextEncoder().encode(`${doc}\n${signMessage(HORSE.privateKey, doc)}`)
      assert.deepEqual(validateBid(bytes, { nowMs: 0, maxClockSkewMs: 0 }), {
        result: 'reject',
        code: 'BID_MALFORMED'
      })
    })
  })

  describe('fees (vector C)', () => {
    const table: [string, bigint][] = [
      ['satoshi 0', 0n],
      ['satoshi 1', 1n],
      ['satoshi 33', 1n],
      ['satoshi 34', 2n],
      ['satoshi 100', 3n],
      ['uBTC 100', 300n],
      ['mBTC 1', 3000n],
      ['mBTC 1.5', 4500n],
      ['BTC 1', 3_000_000n],
      ['EUR 1', 30_000_000n]
    ]
    for (const [price, fee] of table)
      it(`charges ${fee} smallest units on ${price} with the original 3 % and nothing by default`, () => {
        const p = parseMoney(price)
        assert.equal(originalFee(p).amount, fee)
        assert.equal(feeAmount(p.amount, ORIGINAL_FEE_RATIO), fee)
        assert.equal(feeFor(p).amount, 0n)
        assert.equal(feeAmount(p.amount, NO_FEE), 0n)
      })
    it('refuses a negative price or a bad ratio as a bug', () => {
      assert.throws(() => feeAmount(-1n, ORIGINAL_FEE_RATIO), RangeError)
      assert.throws(() => feeAmount(1n, { numerator: 1n, denominator: 0n }), RangeError)
      assert.throws(() => feeAmount(1n, { numerator: -1n, denominator: 1n }), RangeError)
    })
  })

  describe('query escaping (Go url.QueryEscape)', () => {
    const table: [string, string][] = [
      ['net.bitwrk/gorays/0', 'net.bitwrk%2Fgorays%2F0'],
      ['a+b=c:d', 'a%2Bb%3Dc%3Ad'],
      ['€', '%E2%82%AC'],
      ['a b', 'a+b'],
      ['-_.~', '-_.~'],
      ['\n&%', '%0A%26%25'],
      ['', '']
    ]
    for (const [raw, escaped] of table)
      it(`escapes ${JSON.stringify(raw)} as ${escaped}`, () => {
        assert.equal(queryEscape(raw), escaped)
      })
    const unescapes: [string, string | undefined][] = [
      ['net.bitwrk%2Fgorays%2F0', 'net.bitwrk/gorays/0'],
      ['%e2%82%ac', '€'],
      ['a+b', 'a b'],
      ['plain', 'plain'],
      ['%', undefined],
      ['%2', undefined],
      ['%G0', undefined],
      ['%FF', undefined],
      ['%C0%AF', undefined],
      ['é', undefined]
    ]
    for (const [text, value] of unescapes)
      it(`unescapes ${JSON.stringify(text)} strictly to ${JSON.stringify(value)}`, () => {
        assert.equal(queryUnescape(text), value)
      })
    it('normalizes like the original: spaces removed first', () => {
      assert.equal(normalize('mBTC 1.5'), 'mBTC1.5')
      assert.equal(normalize(' a b '), 'ab')
    })
  })

  describe('our documents (fixed vectors, spec bids.md)', () => {
    for (const [name, v] of [
      ['BUY', VECTOR_BUY],
      ['SELL', VECTOR_SELL]
    ] as const)
      it(`reproduces the ${name} vector: document, id, signature, decode, validate`, () => {
        const bid = signBid(HORSE, v.fields)
        assert.equal(bid.document, v.document)
        assert.equal(bid.id, v.id)
        assert.equal(bid.id, sha256hex(v.document))
        assert.equal(bid.signature, v.signature)
        assert.equal(bitcoinMessage.verify(v.document, HORSE.address, v.signature), true)
        const bytes = encodeSigned(bid)
        assert.equal(new TextDecoder().decode(bytes), `${v.document}\n${v.signature}`)
        assert.deepEqual(decodeSignedBid(bytes), bid)
        assert.equal(verifyBidSignature(bid), true)
        const r = validateBid(bytes, { nowMs: v.fields.createdMs, maxClockSkewMs: 0 })
        assert.deepEqual(r, { result: 'accept', bid })
      })

    it('reproduces the k = 1 vector', () => {
      const bid = signBid(HORSE, VECTOR_K1.fields, { signingNonce: 1n })
      assert.equal(bid.document, VECTOR_K1.document)
      assert.equal(bid.id, VECTOR_K1.id)
      assert.equal(bid.signature, VECTOR_K1.signature)
      assert.equal(validateBid(encodeSigned(bid), { nowMs: 0, maxClockSkewMs: 0 }).result, 'accept')
    })

    it('reproduces the cancel vector', () => {
      const c = signCancel(HORSE, { bidId: VECTOR_BUY.id, createdMs: 1_700_000_030_000 })
      assert.equal(c.document, VECTOR_CANCEL.document)
      assert.equal(c.id, VECTOR_CANCEL.id)
      assert.equal(c.id, sha256hex(VECTOR_CANCEL.document))
      assert.equal(c.signature, VECTOR_CANCEL.signature)
      assert.equal(bitcoinMessage.verify(c.document, HORSE.address, c.signature), true)
      const bytes = encodeSigned(c)
      assert.deepEqual(decodeSignedCancel(bytes), c)
      assert.deepEqual(validateCancel(bytes, { nowMs: c.createdMs, maxClockSkewMs: 0 }), {
        result: 'accept',
        cancel: c
      })
    })
  })
})
