import assert from 'node:assert/strict'
import {
  base58CheckEncode,
  base58Decode,
  base58Encode,
  base64Decode,
  base64Encode,
  decodeAddress,
  decodeCompactSignature,
  decodeWif,
  encodeWif,
  Identity,
  IdentityCode,
  isBitwrkErrorWith,
  publicKeyFromPeerId,
  publicKeyFromPrivate,
  recoverAddress,
  signMessage,
  verifyMessage
} from './helpers.js'

const WIF_C = 'L3p8oAcQTtuokSCRHQ7i4MhjWc9zornvpJLfmg62sYpLRJF9woSu'
const ADDR_C = '1C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq8'
const KEY = decodeWif(WIF_C).privateKey
const HUGE = '1'.repeat(100_000)
const N_HEX = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16))
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** The Base64 character whose 6-bit value differs from `c`'s in the lowest bit only. */
function flipLowBit(c: string): string {
  return B64[B64.indexOf(c) ^ 1]!
}

/** Flips one bit of the character at `i` inside the Base58 alphabet (stays Base58). */
function flipChar(s: string, i: number): string {
  const c = s[i] === 'a' ? 'b' : 'a'
  return s.slice(0, i) + c + s.slice(i + 1)
}

describe('identity garbage input', () => {
  describe('decodeWif', () => {
    const payload = (bytes: number[]) => base58CheckEncode(Uint8Array.from(bytes))
    const key = Array.from(KEY)
    const table: [string, string, string][] = [
      ['empty', '', 'base58'],
      ['non-Base58 character 0', WIF_C.replace('o', '0'), 'base58'],
      ['non-Base58 character l', `l${WIF_C.slice(1)}`, 'base58'],
      ['non-ASCII', `${WIF_C.slice(0, -1)}é`, 'base58'],
      ['whitespace', ` ${WIF_C}`, 'base58'],
      ['huge string', HUGE, 'length'],
      ['wrong checksum', flipChar(WIF_C, WIF_C.length - 1), 'checksum'],
      ['bit-flipped body', flipChar(WIF_C, 10), 'checksum'],
      ['too short (31-byte key)', payload([0x80, ...key.slice(1)]), 'length'],
      ['too long (flag + extra)', payload([0x80, ...key, 1, 1]), 'length'],
      ['an address instead', ADDR_C, 'length'],
      ['wrong version (testnet 0xef)', payload([0xef, ...key, 1]), 'version'],
      ['wrong version (uncompressed)', payload([0x00, ...key]), 'version'],
      ['compression flag 0x02', payload([0x80, ...key, 2]), 'flag'],
      ['compression flag 0x00', payload([0x80, ...key, 0]), 'flag'],
      ['key zero', payload([0x80, ...new Array(32).fill(0), 1]), 'key'],
      ['key = n', payload([0x80, ...hexBytes(N_HEX), 1]), 'key']
    ]
    for (const [name, input, reason] of table)
      it(`refuses ${name} with ID_BAD_WIF (${reason})`, () => {
        assert.throws(() => decodeWif(input), isBitwrkErrorWith(IdentityCode.BAD_WIF, reason))
      })
    it('refuses non-string input', () => {
      assert.throws(() => decodeWif(42 as unknown as string), isBitwrkErrorWith(IdentityCode.BAD_WIF))
    })
  })

  describe('decodeAddress', () => {
    const hash = new Array(20).fill(7)
    const table: [string, string, string][] = [
      ['empty', '', 'base58'],
      ['non-Base58 character O', `1O${ADDR_C.slice(2)}`, 'base58'],
      ['huge string', HUGE, 'length'],
      ['wrong checksum', flipChar(ADDR_C, ADDR_C.length - 1), 'checksum'],
      ['bit-flipped body', flipChar(ADDR_C, 5), 'checksum'],
      ['truncated', base58Encode(base58Decode(ADDR_C, 100)!.subarray(0, 24)), 'length'],
      ['extended', ADDR_C + 'a', 'length'],
      ['a WIF instead', WIF_C, 'length'],
      ['Base58 of 26 bytes', base58Encode(new Uint8Array(26).fill(9)), 'length'],
      ['P2SH version 0x05', base58CheckEncode(Uint8Array.from([0x05, ...hash])), 'version'],
      ['19-byte hash', base58CheckEncode(Uint8Array.from([0x00, ...hash.slice(1)])), 'length']
    ]
    for (const [name, input, reason] of table)
      it(`refuses ${name} with ID_BAD_ADDRESS (${reason})`, () => {
        assert.throws(() => decodeAddress(input), isBitwrkErrorWith(IdentityCode.BAD_ADDRESS, reason))
      })
  })

  describe('compact signatures', () => {
    const msg = 'hello'
    const good = signMessage(KEY, msg)
    const bytes = base64Decode(good)!
    const withHeader = (h: number) => {
      const b = bytes.slice()
      b[0] = h
      return base64Encode(b)
    }
    const withR = (hex: string) => {
      const b = bytes.slice()
      b.set(hexBytes(hex), 1)
      return base64Encode(b)
    }
    const withS = (hex: string) => {
      const b = bytes.slice()
      b.set(hexBytes(hex), 33)
      return base64Encode(b)
    }
    const zero = '00'.repeat(32)
    const table: [string, string][] = [
      ['empty', ''],
      ['huge string', HUGE],
      ['64 bytes', base64Encode(bytes.subarray(0, 64))],
      ['66 bytes', base64Encode(Uint8Array.from([...bytes, 0]))],
      ['bad Base64 character', `!${good.slice(1)}`],
      ['missing padding', good.slice(0, -1)],
      ['padding moved inside', `${good.slice(0, 40)}=${good.slice(41)}`],
      ['non-canonical unused bits', `${good.slice(0, -2)}${flipLowBit(good.at(-2)!)}=`],
      ['URL-safe alphabet', good.replace(/\+/g, '-').replace(/\//g, '_')],
      ['header 26', withHeader(26)],
      ['header 35', withHeader(35)],
      ['header 0', withHeader(0)],
      ['header 255', withHeader(255)],
      ['r = 0', withR(zero)],
      ['s = 0', withS(zero)],
      ['r = n', withR(N_HEX)],
      ['s = n', withS(N_HEX)],
      ['r = 2^256 - 1', withR('ff'.repeat(32))],
      ['s = 2^256 - 1', withS('ff'.repeat(32))]
    ]
    for (const [name, sig] of table)
      it(`refuses a signature with ${name}`, () => {
        assert.equal(verifyMessage(ADDR_C, sig, msg), false)
        assert.equal(recoverAddress(sig, msg), undefined)
      })
    it('refuses every single-bit flip of a good signature', () => {
      assert.equal(verifyMessage(ADDR_C, good, msg), true)
      for (let i = 0; i < 65 * 8; i++) {
        const b = bytes.slice()
        b[i >> 3] = (b[i >> 3] as number) ^ (1 << (i & 7))
        assert.equal(verifyMessage(ADDR_C, base64Encode(b), msg), false, `bit ${i}`)
      }
    })
    it('parses headers 27..34 into recovery id and key form', () => {
      for (let h = 27; h <= 34; h++) {
        const s = decodeCompactSignature(withHeader(h))
        assert.deepEqual([s?.recid, s?.compressed], [(h - 27) & 3, h >= 31])
      }
    })
    it('answers false for a bad address instead of throwing', () => {
      assert.equal(verifyMessage('', good, msg), false)
      assert.equal(verifyMessage(flipChar(ADDR_C, 3), good, msg), false)
    })
  })

  describe('keys', () => {
    const bad: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['31 bytes', new Uint8Array(31).fill(1)],
      ['33 bytes', new Uint8Array(33).fill(1)],
      ['zero', new Uint8Array(32)],
      ['n', hexBytes(N_HEX)],
      ['2^256 - 1', new Uint8Array(32).fill(255)]
    ]
    for (const [name, key] of bad)
      it(`refuses a private key of ${name}`, () => {
        const isBad = isBitwrkErrorWith(IdentityCode.BAD_PRIVATE_KEY)
        assert.throws(() => publicKeyFromPrivate(key, true), isBad)
        assert.throws(() => encodeWif(key, true), isBad)
        assert.throws(() => signMessage(key, 'x'), isBad)
        assert.throws(() => Identity.fromPrivateKey(key), isBad)
      })
    it('refuses an explicit nonce outside [1, n-1]', () => {
      assert.throws(() => signMessage(KEY, 'x', { nonce: 0n }), isBitwrkErrorWith(IdentityCode.BAD_NONCE))
      assert.throws(
        () => signMessage(KEY, 'x', { nonce: BigInt(`0x${N_HEX}`) }),
        isBitwrkErrorWith(IdentityCode.BAD_NONCE)
      )
    })
    it('gives up on a random source that never yields a valid key', () => {
      assert.throws(
        () => Identity.generate((n) => new Uint8Array(n)),
        isBitwrkErrorWith(IdentityCode.BAD_PRIVATE_KEY)
      )
    })
  })

  describe('peer ids', () => {
    const good = Identity.fromWif(WIF_C).peerId
    const bytes = base58Decode(good, 100)!
    const withByte = (i: number, v: number) => {
      const b = bytes.slice()
      b[i] = v
      return base58Encode(b)
    }
    const table: [string, string, string][] = [
      ['empty', '', 'base58'],
      ['huge string', HUGE, 'length'],
      ['non-Base58 character', `0${good.slice(1)}`, 'base58'],
      ['CIDv1 text form', 'bafzaajaiaejcb', 'length'],
      ['truncated', base58Encode(bytes.subarray(0, 38)), 'length'],
      ['extended', base58Encode(Uint8Array.from([...bytes, 0])), 'length'],
      [
        'Ed25519 key type',
        base58Encode(Uint8Array.from([0, 0x24, 8, 1, 0x12, 0x20, ...bytes.subarray(7)])),
        'length'
      ],
      ['key type 1 (Ed25519) with 33 bytes', withByte(3, 1), 'prefix'],
      ['sha2-256 multihash', withByte(0, 0x12), 'prefix'],
      ['uncompressed tag 0x04', withByte(6, 4), 'point'],
      [
        'x not on the curve',
        base58Encode(Uint8Array.from([...bytes.subarray(0, 7), ...new Array(32).fill(0)])),
        'point'
      ]
    ]
    for (const [name, input, reason] of table)
      it(`refuses ${name} with ID_BAD_PEER_ID (${reason})`, () => {
        assert.throws(() => publicKeyFromPeerId(input), isBitwrkErrorWith(IdentityCode.BAD_PEER_ID, reason))
      })
  })
})
