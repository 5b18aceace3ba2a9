import assert from 'node:assert/strict'
import fc from 'fast-check'
import { nativeSecp256k1Available, recoverNative, recoverNoble } from '../../protocol/identity/recover.js'
import {
  addressFromHash160,
  base58Decode,
  base58Encode,
  base64Decode,
  base64Encode,
  decodeAddress,
  decodeCompactSignature,
  decodeWif,
  encodeWif,
  Identity,
  messageDigest,
  publicKeyFromPrivate,
  recoverAddress,
  signMessage,
  verifyMessage
} from './helpers.js'

const privateKey = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .filter((k) => k.some((b) => b !== 0) && k[0] !== 0xff)

describe('identity properties', () => {
  it('round-trips WIF for any key and form', () => {
    fc.assert(
      fc.property(privateKey, fc.boolean(), (key, compressed) => {
        const wif = encodeWif(key, compressed)
        assert.match(wif, compressed ? /^[KL]/ : /^5/)
        assert.deepEqual(decodeWif(wif), { privateKey: key, compressed })
      })
    )
  })

  it('round-trips addresses for any hash and network', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.constantFrom('mainnet', 'testnet'),
        (h, n) => {
          const a = addressFromHash160(h, n)
          assert.match(a, n === 'mainnet' ? /^1/ : /^[mn]/)
          assert.deepEqual(decodeAddress(a), { network: n, hash160: h })
        }
      )
    )
  })

  it('round-trips Base58 and Base64 for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        assert.deepEqual(base58Decode(base58Encode(b), 200) ?? new Uint8Array(0), b)
        assert.deepEqual(base64Decode(base64Encode(b)), b)
        assert.equal(base64Encode(b), Buffer.from(b).toString('base64'))
      })
    )
  })

  it('verifies what it signs and nothing else (RFC 6979 and explicit nonces)', () => {
    fc.assert(
      fc.property(
        privateKey,
        fc.string({ maxLength: 300 }),
        fc.boolean(),
        fc.option(fc.bigInt({ min: 1n, max: 2n ** 255n })),
        (key, message, compressed, nonce) => {
          const options = nonce === null ? { compressed } : { compressed, nonce }
          const sig = signMessage(key, message, options)
          const address = Identity.fromPrivateKey(key, compressed).address
          assert.equal(verifyMessage(address, sig, message), true)
          assert.equal(recoverAddress(sig, message), address)
          assert.equal(verifyMessage(address, sig, `${message}.`), false)
        }
      ),
      { numRuns: 50 }
    )
  })

  it('recovers the same key with libsecp256k1 and the @noble/curves fallback, high S included', () => {
    assert.equal(nativeSecp256k1Available(), true)
    fc.assert(
      fc.property(
        privateKey,
        fc.string({ maxLength: 50 }),
        fc.boolean(),
        fc.bigInt({ min: 1n, max: 2n ** 255n }),
        (key, message, compressed, nonce) => {
          // Explicit nonces give high S about half the time (no normalisation).
          const sig = decodeCompactSignature(signMessage(key, message, { compressed, nonce }))!
          const digest = messageDigest(message)
          const expected = publicKeyFromPrivate(key, compressed)
          assert.deepEqual(recoverNative(sig.rs, sig.recid, digest, compressed), expected)
          assert.deepEqual(recoverNoble(sig.rs, sig.recid, digest, compressed), expected)
        }
      ),
      { numRuns: 30 }
    )
  })

  it('refuses out-of-range r and s identically in both recovery engines', () => {
    const digest = messageDigest('x')
    for (const rs of [new Uint8Array(64), new Uint8Array(64).fill(0xff)])
      for (let recid = 0; recid < 4; recid++) {
        assert.equal(recoverNative(rs, recid, digest, true), undefined)
        assert.equal(recoverNoble(rs, recid, digest, true), undefined)
      }
  })

  it('generates compressed identities from the injected random source only', () => {
    let counter = 0
    const random = (n: number) => new Uint8Array(n).fill(++counter)
    const a = Identity.generate(random)
    counter = 0
    const b = Identity.generate(random)
    assert.equal(a.address, b.address)
    assert.equal(a.compressed, true)
    assert.match(a.toWif(), /^[KL]/)
    assert.deepEqual(Identity.fromWif(a.toWif()).publicKey, a.publicKey)
    assert.equal(verifyMessage(a.address, a.sign('hi'), 'hi'), true)
  })
})
