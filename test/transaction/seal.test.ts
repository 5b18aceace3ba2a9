import assert from 'node:assert/strict'
import { createECDH, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { CURVE_ORDER } from '../../protocol/identity/index.js'
import {
  isSealedKeyText,
  openResultKey,
  RESULT_KEY_SEAL_TAG,
  SEALED_KEY_BYTES,
  SealCode,
  sealResultKey,
  transactionId
} from '../../protocol/transaction/index.js'
import { throwsCode } from '../support/errors.js'
import {
  BUYER,
  EPHEMERAL_KEY,
  NOT_ON_CURVE,
  RESULT_KEY,
  SEALED_RESULT_KEY,
  SELLER,
  STRANGER,
  TXID
} from './helpers.js'

/** The `name  hex` lines of the TX-23 vector block in protocol/spec/transactions.md. */
function specVector(): Record<string, string> {
  const spec = readFileSync(
    fileURLToPath(new URL('../../../protocol/spec/transactions.md', import.meta.url)),
    'utf8'
  )
  const section = spec.slice(spec.indexOf('### Sealed result key (TX-23)'))
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1]
  assert.ok(block !== undefined, 'the TX-23 vector block is in the spec')
  const out: Record<string, string> = {}
  for (const line of block.split('\n')) {
    const m = /^(\S+)\s+([0-9a-f]+)$/.exec(line.trim())
    if (m !== null) out[m[1] as string] = m[2] as string
  }
  return out
}

/** TX-23 written again with node:crypto (OpenSSL), independent of the module under test. */
function sealWithOpenSsl(recipient: Uint8Array, txid: string, key: Uint8Array, e: Uint8Array): string {
  const ecdh = createECDH('secp256k1')
  ecdh.setPrivateKey(e)
  const eph = ecdh.getPublicKey(null, 'compressed')
  const z = ecdh.computeSecret(recipient)
  const info = Buffer.concat([Buffer.from(RESULT_KEY_SEAL_TAG), Buffer.from(txid, 'hex'), eph, recipient])
  const okm = Buffer.from(hkdfSync('sha256', z, Buffer.alloc(0), info, 64))
  const c = Buffer.from(key.map((b, i) => b ^ (okm[i] as number)))
  const t = createHmac('sha256', okm.subarray(32)).update(c).digest()
  return Buffer.concat([eph, c, t]).toString('hex')
}

describe('protocol/transaction seal (TX-23)', () => {
  const key = hexToBytes(RESULT_KEY)
  const sealed = hexToBytes(SEALED_RESULT_KEY)

  it('matches the vector of transactions.md and an independent OpenSSL implementation', () => {
    const v = specVector()
    assert.equal(v['recipient'], bytesToHex(BUYER.publicKey))
    assert.equal(v['txid'], TXID)
    assert.equal(v['key'], RESULT_KEY)
    assert.equal(v['ephemeral'], bytesToHex(EPHEMERAL_KEY))
    assert.equal(v['sealed'], SEALED_RESULT_KEY)
    assert.equal(v['sealed'], sealWithOpenSsl(BUYER.publicKey, TXID, key, EPHEMERAL_KEY))
    // the parts as the spec lists them
    assert.equal(v['sealed'], (v['E'] ?? '') + (v['c'] ?? '') + (v['t'] ?? ''))
    assert.equal(sealed.length, SEALED_KEY_BYTES)
  })

  it('opens with the recipient key only, for its transaction only', () => {
    assert.deepEqual(openResultKey(BUYER.privateKey, TXID, sealed), key)
    for (const other of [SELLER, STRANGER])
      throwsCode(() => openResultKey(other.privateKey, TXID, sealed), SealCode.MISMATCH, other.address)
    const otherTx = transactionId('c'.repeat(64), 'd'.repeat(64))
    throwsCode(() => openResultKey(BUYER.privateKey, otherTx, sealed), SealCode.MISMATCH, 'another txid')
  })

  it('detects every flipped bit of the ciphertext and tag, and a flipped bit in each byte of the ephemeral key', () => {
    const bits = [
      ...Array.from({ length: 33 }, (_, i) => i * 8 + (i % 8)),
      ...Array.from({ length: 64 * 8 }, (_, i) => 33 * 8 + i)
    ]
    for (const i of bits) {
      const bad = sealed.slice()
      bad[i >> 3] = (bad[i >> 3] as number) ^ (1 << (i & 7))
      // a flipped E is either no point at all or another point (then the tag fails)
      assert.throws(
        () => openResultKey(BUYER.privateKey, TXID, bad),
        (err: unknown) =>
          isBitwrkError(err, SealCode.MISMATCH) || (i < 33 * 8 && isBitwrkError(err, SealCode.MALFORMED)),
        `bit ${i}`
      )
    }
  })

  it('refuses malformed sealed keys with TX_SEAL_MALFORMED', () => {
    const table: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['truncated', sealed.subarray(0, 96)],
      ['extended', Uint8Array.of(...sealed, 0)],
      ['plain 32-byte key (before TX-23)', key],
      ['uncompressed tag', Uint8Array.of(4, ...sealed.subarray(1))],
      ['x not on the curve', Uint8Array.of(...hexToBytes(NOT_ON_CURVE), ...sealed.subarray(33))],
      ['x = p (out of range)', Uint8Array.of(2, ...new Uint8Array(32).fill(0xff), ...sealed.subarray(33))]
    ]
    for (const [what, bad] of table)
      throwsCode(() => openResultKey(BUYER.privateKey, TXID, bad), SealCode.MALFORMED, what)
  })

  it('refuses unusable keys and a broken random source with TX_SEAL_BAD_KEY', () => {
    const e = () => EPHEMERAL_KEY.slice()
    const table: [string, () => unknown][] = [
      ['uncompressed recipient', () => sealResultKey(hexToBytes('04' + '11'.repeat(64)), TXID, key, e)],
      ['recipient not on the curve', () => sealResultKey(hexToBytes(NOT_ON_CURVE), TXID, key, e)],
      ['empty recipient', () => sealResultKey(new Uint8Array(0), TXID, key, e)],
      ['31-byte key', () => sealResultKey(BUYER.publicKey, TXID, key.subarray(1), e)],
      ['33-byte key', () => sealResultKey(BUYER.publicKey, TXID, Uint8Array.of(...key, 0), e)],
      ['upper-case txid', () => sealResultKey(BUYER.publicKey, TXID.toUpperCase(), key, e)],
      ['short txid', () => sealResultKey(BUYER.publicKey, TXID.slice(2), key, e)],
      ['random source of zeros', () => sealResultKey(BUYER.publicKey, TXID, key, (n) => new Uint8Array(n))],
      ['private key 0', () => openResultKey(new Uint8Array(32), TXID, sealed)],
      ['private key n', () => openResultKey(hexToBytes(CURVE_ORDER.toString(16)), TXID, sealed)],
      ['31-byte private key', () => openResultKey(BUYER.privateKey.subarray(1), TXID, sealed)],
      ['txid of another form', () => openResultKey(BUYER.privateKey, 'x'.repeat(64), sealed)]
    ]
    for (const [what, f] of table) throwsCode(f, SealCode.BAD_KEY, what)
  })

  it('draws again when the random source yields no scalar, and seals afresh each time', () => {
    const draws = [new Uint8Array(32), hexToBytes(CURVE_ORDER.toString(16)), EPHEMERAL_KEY.slice()]
    const retried = sealResultKey(BUYER.publicKey, TXID, key, () => draws.shift() as Uint8Array)
    assert.equal(bytesToHex(retried), SEALED_RESULT_KEY)
    const a = sealResultKey(BUYER.publicKey, TXID, key, (n) => new Uint8Array(randomBytes(n)))
    const b = sealResultKey(BUYER.publicKey, TXID, key, (n) => new Uint8Array(randomBytes(n)))
    assert.notDeepEqual(a, b)
    assert.deepEqual(openResultKey(BUYER.privateKey, TXID, a), key)
    assert.deepEqual(openResultKey(BUYER.privateKey, TXID, b), key)
  })

  it('tells the document form of a sealed key (TX-7) without opening it', () => {
    assert.ok(isSealedKeyText(SEALED_RESULT_KEY))
    for (const bad of [
      '',
      RESULT_KEY,
      SEALED_RESULT_KEY.toUpperCase(),
      SEALED_RESULT_KEY.slice(2),
      SEALED_RESULT_KEY + '00',
      '04' + SEALED_RESULT_KEY.slice(2),
      NOT_ON_CURVE + SEALED_RESULT_KEY.slice(66),
      SEALED_RESULT_KEY.slice(0, -1) + 'g'
    ])
      assert.equal(isSealedKeyText(bad), false, bad)
  })
})
