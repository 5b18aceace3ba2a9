import assert from 'node:assert/strict'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey as libp2pPeerId, peerIdFromString } from '@libp2p/peer-id'
import bitcoinMessage from 'bitcoinjs-message'
import fc from 'fast-check'
import {
  addressFromPublicKey,
  bytesToHex,
  decodeWif,
  Identity,
  messageDigest,
  peerIdFromPublicKey,
  publicKeyFromPeerId,
  publicKeyFromPrivate,
  signMessage,
  verifyMessage
} from './helpers.js'

const KEY = decodeWif('L3p8oAcQTtuokSCRHQ7i4MhjWc9zornvpJLfmg62sYpLRJF9woSu').privateKey
const MESSAGES: [string, string][] = [
  ['empty', ''],
  ['short ASCII', 'hello bitwrk'],
  ['UTF-8', 'prix: 1,5 € — ok ✓'],
  ['252 bytes', 'x'.repeat(252)],
  ['253 bytes', 'x'.repeat(253)],
  ['300 bytes', 'a'.repeat(300)],
  ['70000 bytes', 'z'.repeat(70_000)]
]

describe('identity interop with bitcoinjs-message and libp2p', () => {
  for (const compressed of [true, false]) {
    const address = addressFromPublicKey(publicKeyFromPrivate(KEY, compressed))
    for (const [name, message] of MESSAGES) {
      it(`${compressed ? 'compressed' : 'uncompressed'}, ${name}: ours verifies theirs and theirs verifies ours`, () => {
        assert.equal(bytesToHex(messageDigest(message)), bitcoinMessage.magicHash(message).toString('hex'))
        const theirs = bitcoinMessage.sign(message, Buffer.from(KEY), compressed).toString('base64')
        assert.equal(verifyMessage(address, theirs, message), true)
        const ours = signMessage(KEY, message, { compressed })
        assert.equal(bitcoinMessage.verify(message, address, ours), true)
        // Both use RFC 6979 with low S, so the signatures are byte-identical.
        assert.equal(ours, theirs)
        const k1 = signMessage(KEY, message, { compressed, nonce: 1n })
        assert.equal(bitcoinMessage.verify(message, address, k1), true)
      })
    }
  }

  it('agrees with bitcoinjs-message on random keys and messages', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.boolean(),
        (raw, message, compressed) => {
          fc.pre(raw.some((b) => b !== 0) && raw[0] !== 0xff)
          const address = addressFromPublicKey(publicKeyFromPrivate(raw, compressed))
          const ours = signMessage(raw, message, { compressed })
          assert.equal(bitcoinMessage.verify(message, address, ours), true)
          const theirs = bitcoinMessage.sign(message, Buffer.from(raw), compressed).toString('base64')
          assert.equal(verifyMessage(address, theirs, message), true)
        }
      ),
      { numRuns: 40 }
    )
  })

  it('derives the same peer id as @libp2p/peer-id, both ways', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (raw) => {
        fc.pre(raw.some((b) => b !== 0) && raw[0] !== 0xff)
        const pub = publicKeyFromPrivate(raw, true)
        const ours = peerIdFromPublicKey(pub)
        const theirs = libp2pPeerId(publicKeyFromRaw(pub))
        assert.equal(ours, theirs.toString())
        assert.deepEqual(publicKeyFromPeerId(ours), pub)
        const parsed = peerIdFromString(ours)
        assert.equal(parsed.type, 'secp256k1')
        assert.deepEqual(parsed.publicKey?.raw, pub)
      }),
      { numRuns: 30 }
    )
  })

  it('gives the d = 1 key its well-known libp2p peer id', () => {
    const one = new Uint8Array(32)
    one[31] = 1
    const id = Identity.fromPrivateKey(one)
    assert.equal(id.peerId, '16Uiu2HAm3cuhhRL2msUuLF62KRSfneFDx94RsuouyW25Ho42cFMq')
    assert.equal(id.peerId, libp2pPeerId(publicKeyFromRaw(id.publicKey)).toString())
  })

  it('uses the compressed key for the peer id of an uncompressed identity', () => {
    const u = Identity.fromWif('5KJvsngHeMpm884wtkJNzQGaCErckhHJBGFsvd3VyK5qMZXj3hS')
    const c = Identity.fromWif('L3p8oAcQTtuokSCRHQ7i4MhjWc9zornvpJLfmg62sYpLRJF9woSu')
    assert.equal(u.peerId, c.peerId)
    assert.notEqual(u.address, c.address)
  })
})
