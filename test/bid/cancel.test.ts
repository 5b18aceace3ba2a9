import assert from 'node:assert/strict'
import {
  type CancelValidationContext,
  BidCode as Code,
  cancelApplies,
  decodeSignedBid,
  encodeSigned,
  Identity,
  isBitwrkError,
  peekKind,
  signCancel,
  signMessage,
  validateBid,
  validateCancel
} from '../../protocol/index.js'
import { HORSE, ONE, VECTOR_BUY, VECTOR_CANCEL, wire } from './fixtures.js'

const DOC = VECTOR_CANCEL.document
const T = 1_700_000_030_000
const CTX: CancelValidationContext = { nowMs: T, maxClockSkewMs: 2000 }
const enc = (s: string) => new TextEncoder().encode(s)

function withField(name: string, value: string): string {
  return DOC.replace(new RegExp(`(^|&)${name}=[^&]*`), `$1${name}=${value}`)
}

describe('bid cancel', () => {
  const rejects: [string, Uint8Array, string][] = [
    ['empty', new Uint8Array(0), Code.malformed],
    ['oversized', enc(`${DOC}&${'x'.repeat(600)}\n${VECTOR_CANCEL.signature}`), Code.tooLarge],
    ['a bid given as a cancel', wire(VECTOR_BUY.document), Code.wrongKind],
    ['no kind', wire(DOC.replace(/^kind=[^&]*&/, '')), Code.malformed],
    ['extra field', wire(`${DOC}&x=1`), Code.malformed],
    ['reordered fields', wire(DOC.replace(/(bid=[^&]*)&(address=[^&]*)/, '$2&$1')), Code.malformed],
    ['upper-case bid id', wire(withField('bid', VECTOR_BUY.id.toUpperCase())), Code.badBidId],
    ['short bid id', wire(withField('bid', VECTOR_BUY.id.slice(2))), Code.badBidId],
    ['bad address', wire(withField('address', '1C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq9')), Code.badAddress],
    ['escaped address', wire(withField('address', '%31C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq8')), Code.badAddress],
    ['created with leading zero', wire(withField('created', `0${T}`)), Code.badTime],
    ['created negative', wire(withField('created', '-5')), Code.badTime],
    ['signature by another key', wire(DOC, undefined, ONE), Code.badSignature],
    ['garbage signature', wire(DOC, 'A'.repeat(88)), Code.badSignature]
  ]
  for (const [name, bytes, code] of rejects)
    it(`rejects ${name} with ${code}`, () => {
      assert.deepEqual(validateCancel(bytes, CTX), { result: 'reject', code })
    })

  it('accepts an uncompressed-key cancel for that key’s own address', () => {
    const u = Identity.fromWif('5KJvsngHeMpm884wtkJNzQGaCErckhHJBGFsvd3VyK5qMZXj3hS')
    const c = signCancel(u, { bidId: VECTOR_BUY.id, createdMs: T })
    assert.equal(validateCancel(encodeSigned(c), CTX).result, 'accept')
  })

  it('ignores a cancel from the future, an outdated one and a duplicate', () => {
    const bytes = wire(DOC, VECTOR_CANCEL.signature)
    assert.deepEqual(validateCancel(bytes, { ...CTX, nowMs: T - 2001 }), {
      result: 'ignore',
      code: Code.fromFuture
    })
    assert.deepEqual(validateCancel(bytes, { ...CTX, nowMs: T + 122_001 }), {
      result: 'ignore',
      code: Code.expired
    })
    assert.equal(validateCancel(bytes, { ...CTX, nowMs: T + 122_000 }).result, 'accept')
    assert.deepEqual(validateCancel(bytes, { ...CTX, isDuplicate: (id) => id === VECTOR_CANCEL.id }), {
      result: 'ignore',
      code: Code.duplicate
    })
  })

  it('is never accepted as a bid, and a bid never as a cancel (domain separation)', () => {
    const cancel = wire(DOC, VECTOR_CANCEL.signature)
    assert.deepEqual(validateBid(cancel, { nowMs: T, maxClockSkewMs: 0 }), {
      result: 'reject',
      code: Code.wrongKind
    })
    assert.throws(
      () => decodeSignedBid(cancel),
      (e: unknown) => isBitwrkError(e, Code.wrongKind)
    )
    assert.equal(peekKind(DOC), 'bitwrk-cancel-v1')
    assert.equal(peekKind(VECTOR_BUY.document), 'bitwrk-bid-v1')
    assert.equal(peekKind('article=x'), undefined)
  })

  it('applies only to the same bid id and participant', () => {
    const c = signCancel(HORSE, { bidId: VECTOR_BUY.id, createdMs: T })
    assert.equal(cancelApplies(c, { id: VECTOR_BUY.id, address: HORSE.address }), true)
    assert.equal(cancelApplies(c, { id: VECTOR_BUY.id, address: ONE.address }), false)
    assert.equal(cancelApplies(c, { id: VECTOR_CANCEL.id, address: HORSE.address }), false)
  })

  it('refuses to sign a cancel it would reject', () => {
    assert.throws(
      () => signCancel(HORSE, { bidId: 'xyz', createdMs: T }),
      (e: unknown) => isBitwrkError(e, Code.badBidId)
    )
    assert.throws(
      () => signCancel(HORSE, { bidId: VECTOR_BUY.id, createdMs: -1 }),
      (e: unknown) => isBitwrkError(e, Code.badTime)
    )
    assert.equal(signMessage(HORSE.privateKey, DOC), VECTOR_CANCEL.signature)
  })
})
