import assert from 'node:assert/strict'
import { encodeEquivocation, equivocationId, verifyEquivocation } from '../../protocol/reputation/index.js'
import { BUYER, MESSAGES } from '../transaction/helpers.js'

/**
 * The vector of protocol/spec/reputation.md: the notes §A key (WIF L3p8oAcQ…, address
 * 1C7zdTfn…) signed both accept-result and reject-result of transaction TXID (buy bid a×64,
 * sell bid b×64), RFC 6979 signatures.
 */
const VECTOR = [
  'kind=bitwrk-equivocation-v1&case=conflicting-messages&participant=1C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq8',
  'kind=bitwrk-tx-v1&msg=accept-result&txid=0a2f3e3d91467f4c108fb2a3d449c3c3cc9c67cc3a770932b1b1d8131a02f4e8',
  'H0Qgt7Fl63Sbv6ZtjXsKMiGbzvrRpAfFH6nBqQAtCvC2Zlr7Az9F4TNZWTV0zjggTg292HkgIGOSTQQ7PCArMnE=',
  'kind=bitwrk-tx-v1&msg=reject-result&txid=0a2f3e3d91467f4c108fb2a3d449c3c3cc9c67cc3a770932b1b1d8131a02f4e8',
  'H0SrILgAEVNUXJA+FuZMaX+Jen4l5sFb0S4WSaOypQvyI7AjsZxVstvsjdx7t/Y/Gd6mR5paaMqVyJ+BeNWi91w='
].join('\n')
const VECTOR_ID = '2befc4a8160eb1baae43b2708447151827a27c26847ebf0fbb13e7f23ae809b5'

describe('reputation vectors', () => {
  it('verifies the specification vector of an equivocation proof (490 bytes)', () => {
    const bytes = Uint8Array.from(VECTOR, (c) => c.charCodeAt(0))
    assert.equal(bytes.length, 490)
    assert.deepEqual(verifyEquivocation(bytes), {
      ok: true,
      participant: BUYER.address,
      kind: 'conflicting-messages',
      id: VECTOR_ID
    })
  })

  it('reproduces the vector from the transaction fixtures', () => {
    const proof = {
      case: 'conflicting-messages' as const,
      participant: BUYER.address,
      a: MESSAGES['reject-result'],
      b: MESSAGES['accept-result']
    }
    assert.equal(String.fromCharCode(...encodeEquivocation(proof)), VECTOR)
    assert.equal(equivocationId(proof), VECTOR_ID)
  })
})
