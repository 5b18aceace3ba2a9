import assert from 'node:assert/strict'
import {
  BID_IGNORE_CODES,
  type BidErrorCode,
  type BidValidationContext,
  BidCode as Code,
  decodeSignedBid,
  encodeSigned,
  Identity,
  isBitwrkError,
  parseMoney,
  signBid,
  signMessage,
  validateBid
} from '../../protocol/index.js'
import { HORSE, ONE, VECTOR_BUY, wire } from './fixtures.js'

const DOC = VECTOR_BUY.document
const T0 = VECTOR_BUY.fields.createdMs
const CTX: BidValidationContext = { nowMs: T0 + 1000, maxClockSkewMs: 2000 }

/** VECTOR_BUY's document with one `name=value` field replaced (then freshly signed by HORSE). */
function withField(name: string, value: string): string {
  const re = new RegExp(`(^|&)${name}=[^&]*`)
  assert.match(DOC, re)
  return DOC.replace(re, `$1${name}=${value}`)
}

function rejectCode(bytes: Uint8Array, ctx: BidValidationContext = CTX): string {
  const r = validateBid(bytes, ctx)
  assert.equal(r.result, 'reject', `expected reject, got ${JSON.stringify(r)}`)
  return r.result === 'reject' ? r.code : ''
}

const enc = (s: string) => new TextEncoder().encode(s)
const good = enc(`${DOC}\n${VECTOR_BUY.signature}`)

describe('bid decoder: hostile input', () => {
  const table: [string, Uint8Array, BidErrorCode][] = [
    ['empty input', new Uint8Array(0), Code.malformed],
    ['a lone newline', enc('\n'), Code.malformed],
    ['document without signature', enc(DOC), Code.malformed],
    ['document with empty signature', enc(`${DOC}\n`), Code.malformed],
    ['signature without document', enc(`\n${VECTOR_BUY.signature}`), Code.malformed],
    ['two newlines', enc(`${DOC}\n${VECTOR_BUY.signature}\n`), Code.malformed],
    ['CRLF', enc(`${DOC}\r\n${VECTOR_BUY.signature}`), Code.malformed],
    ['a space', enc(`${DOC} \n${VECTOR_BUY.signature}`), Code.malformed],
    ['a NUL byte', Uint8Array.from([...good.subarray(0, 10), 0, ...good.subarray(10)]), Code.malformed],
    [
      'a raw 0xff byte (bad UTF-8)',
      Uint8Array.from([...good.subarray(0, 30), 0xff, ...good.subarray(30)]),
      Code.malformed
    ],
    ['raw UTF-8 é', wire(DOC.replace('net.bitwrk', 'nét.bitwrk')), Code.malformed],
    ['truncated in the document', good.subarray(0, 100), Code.malformed],
    ['oversized (article of 800)', wire(withField('article', 'a'.repeat(800))), Code.tooLarge],
    [
      'exactly 1024 bytes (size ok, extra field)',
      enc(`${DOC}&${'x'.repeat(1023 - good.length)}\n${VECTOR_BUY.signature}`),
      Code.malformed
    ],
    [
      'exactly 1025 bytes',
      enc(`${DOC}&${'x'.repeat(1024 - good.length)}\n${VECTOR_BUY.signature}`),
      Code.tooLarge
    ],
    ['huge (1 MiB)', new Uint8Array(1 << 20).fill(0x61), Code.tooLarge],
    ['no kind field', wire(DOC.replace(/^kind=[^&]*&/, '')), Code.malformed],
    ['kind not first', wire(DOC.replace(/^(kind=[^&]*)&(article=[^&]*)/, '$2&$1')), Code.malformed],
    ['kind of a cancel', wire(withField('kind', 'bitwrk-cancel-v1')), Code.wrongKind],
    ['kind of a future version', wire(withField('kind', 'bitwrk-bid-v2')), Code.wrongKind],
    ['empty kind', wire(withField('kind', '')), Code.wrongKind],
    ['kind only', wire('kind=bitwrk-bid-v1'), Code.malformed],
    ['duplicated field', wire(`${DOC}&nonce=0123456789abcdef0123456789abcdef`), Code.malformed],
    ['unknown extra field', wire(`${DOC}&x=1`), Code.malformed],
    ['missing field', wire(DOC.replace(/&nonce=[^&]*/, '')), Code.malformed],
    ['reordered fields', wire(DOC.replace(/(type=[^&]*)&(price=[^&]*)/, '$2&$1')), Code.malformed],
    ['field name in upper case', wire(DOC.replace('&type=', '&TYPE=')), Code.malformed],
    ['field without =', wire(DOC.replace('&type=BUY', '&typeBUY')), Code.malformed],
    ['empty field (&&)', wire(DOC.replace('&type=', '&&type=')), Code.malformed],
    ['lower-case escape %2f', wire(withField('article', 'net.bitwrk%2fgorays%2f0')), Code.malformed],
    ['unescaped /', wire(withField('article', 'net.bitwrk/gorays/0')), Code.malformed],
    ['escaped unreserved %7E', wire(withField('article', 'foobar%7Etrusted')), Code.malformed],
    ['truncated escape', wire(withField('article', 'fnord%2')), Code.malformed],
    ['bad escape hex', wire(withField('article', 'fnord%ZZ')), Code.malformed],
    ['escaped bad UTF-8 %FF', wire(withField('article', 'fnord%FF')), Code.malformed],
    ['escaped overlong UTF-8 %C0%AF', wire(withField('article', 'fnord%C0%AF')), Code.malformed],
    ['escaped é (valid UTF-8, bad article)', wire(withField('article', 'fnord%C3%A9')), Code.badArticle],
    ['escaped space', wire(withField('article', 'fn+ord')), Code.badArticle],
    ['empty article', wire(withField('article', '')), Code.badArticle],
    ['article of 129 characters', wire(withField('article', 'a'.repeat(129))), Code.badArticle],
    ['article with empty segment', wire(withField('article', 'a%2F%2Fb')), Code.badArticle],
    ['article with bad suffix', wire(withField('article', 'fnord~untrusted')), Code.badArticle],
    ['type in lower case', wire(withField('type', 'buy')), Code.badType],
    ['type 0', wire(withField('type', '0')), Code.badType],
    ['empty type', wire(withField('type', '')), Code.badType],
    ['price NaN', wire(withField('price', 'NaN')), Code.badPrice],
    ['empty price', wire(withField('price', '')), Code.badPrice],
    ['price with trailing zero', wire(withField('price', 'mBTC1.50')), Code.badPrice],
    ['price in a non-canonical unit', wire(withField('price', 'BTC0.0015')), Code.badPrice],
    ['price with a space', wire(withField('price', 'mBTC+1.5')), Code.badPrice],
    ['price with a symbol', wire(withField('price', '%E2%82%AC1')), Code.badPrice],
    ['negative price', wire(withField('price', 'mBTC-1.5')), Code.badPrice],
    ['huge price', wire(withField('price', 'BTC99999999999999999999')), Code.badPrice],
    ['price text of 300 characters', wire(withField('price', '9'.repeat(300))), Code.badPrice],
    ['testnet address', wire(withField('address', 'mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r')), Code.badAddress],
    [
      'address with bad checksum',
      wire(withField('address', '1C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq9')),
      Code.badAddress
    ],
    ['empty address', wire(withField('address', '')), Code.badAddress],
    [
      'Ed25519 peer id',
      wire(withField('peer', '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')),
      Code.badPeerId
    ],
    ['peer id of 0s', wire(withField('peer', '0'.repeat(53))), Code.badPeerId],
    ['peer id of another key', wire(withField('peer', ONE.peerId)), Code.peerMismatch],
    ['upper-case nonce', wire(withField('nonce', '0123456789ABCDEF0123456789ABCDEF')), Code.badNonce],
    ['short nonce', wire(withField('nonce', '0123456789abcdef')), Code.badNonce],
    ['empty nonce', wire(withField('nonce', '')), Code.badNonce],
    ['created NaN', wire(withField('created', 'NaN')), Code.badTime],
    ['created negative', wire(withField('created', '-1')), Code.badTime],
    ['created with leading zero', wire(withField('created', `0${T0}`)), Code.badTime],
    ['created fractional', wire(withField('created', `${T0}.5`)), Code.badTime],
    ['created in exponent form', wire(withField('created', '1.7e12')), Code.badTime],
    ['created beyond 2^53', wire(withField('created', '9007199254740993')), Code.badTime],
    ['created of 30 digits', wire(withField('created', '9'.repeat(30))), Code.badTime],
    ['empty expires', wire(withField('expires', '')), Code.badTime],
    ['expires = created', wire(withField('expires', String(T0))), Code.badTime],
    ['expires before created', wire(withField('expires', String(T0 - 1))), Code.badTime],
    ['lifetime 120001 ms', wire(withField('expires', String(T0 + 120_001))), Code.lifetimeTooLong]
  ]
  for (const [name, bytes, code] of table)
    it(`rejects ${name} with ${code}`, () => {
      assert.equal(rejectCode(bytes), code)
      assert.throws(
        () => decodeSignedBid(bytes),
        (e: unknown) => isBitwrkError(e, code)
      )
    })

  it('accepts the unmodified vector', () => {
    assert.equal(validateBid(good, CTX).result, 'accept')
  })

  it('never accepts a single-byte change of a valid bid', () => {
    for (let i = 0; i < good.length; i++)
      for (const delta of [1, 0x20]) {
        const b = good.slice()
        b[i] = (b[i] as number) ^ delta
        assert.notEqual(validateBid(b, CTX).result, 'accept', `byte ${i} ^ ${delta}`)
      }
  })
})

describe('bid validator', () => {
  const sign = (over: Partial<typeof VECTOR_BUY.fields> = {}, who: Identity = HORSE) =>
    encodeSigned(signBid(who, { ...VECTOR_BUY.fields, ...over }))

  it('ignores an expired bid (BID-14), but only once it expired', () => {
    const b = sign()
    assert.deepEqual(validateBid(b, { ...CTX, nowMs: VECTOR_BUY.fields.expiresMs }), {
      result: 'ignore',
      code: Code.expired
    })
    assert.equal(validateBid(b, { ...CTX, nowMs: VECTOR_BUY.fields.expiresMs - 1 }).result, 'accept')
  })

  it('ignores a bid dated beyond the clock skew (BID-15), accepts one within it', () => {
    const b = sign()
    assert.deepEqual(validateBid(b, { ...CTX, nowMs: T0 - 2001 }), {
      result: 'ignore',
      code: Code.fromFuture
    })
    assert.equal(validateBid(b, { ...CTX, nowMs: T0 - 2000 }).result, 'accept')
  })

  it('ignores a bid created before the late cutoff (BID-16)', () => {
    const b = sign()
    assert.deepEqual(validateBid(b, { ...CTX, nowMs: T0 + 5001, lateCutoffMs: 5000 }), {
      result: 'ignore',
      code: Code.tooLate
    })
    assert.equal(validateBid(b, { ...CTX, nowMs: T0 + 5000, lateCutoffMs: 5000 }).result, 'accept')
  })

  it('ignores a duplicate by id, before checking the signature (BID-17)', () => {
    const seen = new Set([VECTOR_BUY.id])
    const isDuplicate = (id: string) => seen.has(id)
    assert.deepEqual(validateBid(sign(), { ...CTX, isDuplicate }), { result: 'ignore', code: Code.duplicate })
    // A copy with a broken signature has the same id: still only a duplicate.
    const broken = wire(DOC, signMessage(ONE.privateKey, DOC))
    assert.deepEqual(validateBid(broken, { ...CTX, isDuplicate }), { result: 'ignore', code: Code.duplicate })
  })

  it('rejects a signature by another key (BID-18)', () => {
    assert.equal(rejectCode(wire(DOC, undefined, ONE)), Code.badSignature)
  })

  it('rejects an uncompressed-key signature by the right private key (BID-18)', () => {
    assert.equal(
      rejectCode(wire(DOC, signMessage(HORSE.privateKey, DOC, { compressed: false }))),
      Code.badSignature
    )
  })

  it('rejects a signature over another document (BID-18)', () => {
    assert.equal(rejectCode(wire(DOC, signMessage(HORSE.privateKey, `${DOC}x`))), Code.badSignature)
  })

  it('rejects malformed signature text (BID-18)', () => {
    for (const sig of [
      'x',
      '=',
      VECTOR_BUY.signature.slice(0, -1),
      `${VECTOR_BUY.signature}AAAA`,
      'A'.repeat(88)
    ])
      assert.equal(rejectCode(wire(DOC, sig)), Code.badSignature, sig)
  })

  it('accepts a high-S signature (not normalised, like the original)', () => {
    // k = 1 gives high S for about half of all documents; find one and check it is accepted.
    let found = false
    for (let i = 0; i < 16 && !found; i++) {
      const bid = signBid(
        HORSE,
        { ...VECTOR_BUY.fields, nonce: `${i.toString(16).padStart(2, '0')}${'0'.repeat(30)}` },
        { signingNonce: 1n }
      )
      const s = BigInt(`0x${Buffer.from(bid.signature, 'base64').subarray(33).toString('hex')}`)
      const highS = s > 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n
      if (highS) {
        found = true
        assert.equal(validateBid(encodeSigned(bid), CTX).result, 'accept')
      }
    }
    assert.equal(found, true)
  })

  it('rejects price + fee beyond the largest money amount only under a fee ratio (BID-7)', () => {
    const b = sign({ price: parseMoney('BTC 999999999.99999999') })
    assert.equal(validateBid(b, CTX).result, 'accept')
    assert.equal(
      rejectCode(b, { ...CTX, feeRatio: { numerator: 3n, denominator: 100n } }),
      Code.priceOutOfRange
    )
  })

  it('rejects a mainnet bid on a testnet market (BID-8)', () => {
    assert.equal(rejectCode(sign(), { ...CTX, network: 'testnet' }), Code.badAddress)
  })

  it('refuses to sign a bid it would reject', () => {
    const uncompressed = Identity.fromWif('5KJvsngHeMpm884wtkJNzQGaCErckhHJBGFsvd3VyK5qMZXj3hS')
    assert.throws(
      () => sign({}, uncompressed),
      (e: unknown) => isBitwrkError(e, Code.peerMismatch)
    )
    assert.throws(
      () => sign({ expiresMs: T0 + 120_001 }),
      (e: unknown) => isBitwrkError(e, Code.lifetimeTooLong)
    )
    assert.throws(
      () => sign({ article: 'a b' }),
      (e: unknown) => isBitwrkError(e, Code.badArticle)
    )
    assert.throws(
      () => sign({ price: parseMoney('mBTC -1') }),
      (e: unknown) => isBitwrkError(e, Code.badPrice)
    )
    assert.throws(
      () => sign({ nonce: 'x' }),
      (e: unknown) => isBitwrkError(e, Code.badNonce)
    )
    assert.throws(
      () => sign({ createdMs: Number.NaN }),
      (e: unknown) => isBitwrkError(e, Code.badTime)
    )
    assert.throws(
      () => sign({ type: 'HOLD' as 'BUY' }),
      (e: unknown) => isBitwrkError(e, Code.badType)
    )
  })

  it('gives the same answers for known participants (memo) as for new ones', () => {
    // Warm the participant memo with HORSE and ONE, then pair their names crosswise.
    assert.equal(validateBid(sign(), CTX).result, 'accept')
    assert.equal(validateBid(sign({}, ONE), CTX).result, 'accept')
    assert.equal(rejectCode(wire(withField('peer', ONE.peerId))), Code.peerMismatch)
    assert.equal(rejectCode(wire(withField('address', ONE.address))), Code.peerMismatch)
    assert.equal(rejectCode(sign(), { ...CTX, network: 'testnet' }), Code.badAddress)
    assert.equal(validateBid(sign(), CTX).result, 'accept')
  })

  it('classifies exactly the time and duplicate codes as ignore', () => {
    assert.deepEqual(
      [...BID_IGNORE_CODES].sort(),
      [Code.duplicate, Code.expired, Code.fromFuture, Code.tooLate].sort()
    )
  })
})
