import assert from 'node:assert/strict'
import {
  addressFromPublicKey,
  bitcoinVarint,
  bytesToHex,
  decodeAddress,
  decodeWif,
  encodeWif,
  hash160,
  hexToBytes,
  Identity,
  IdentityCode,
  isBitwrkErrorWith,
  messageDigest,
  publicKeyFromPrivate,
  recoverAddress,
  signMessage,
  verifyMessage
} from './helpers.js'

// Test vectors of the original BitWrk (notes/bitwrk-original.md "Test vectors" A and B).
const HORSE_WIF_U = '5KJvsngHeMpm884wtkJNzQGaCErckhHJBGFsvd3VyK5qMZXj3hS'
const HORSE_WIF_C = 'L3p8oAcQTtuokSCRHQ7i4MhjWc9zornvpJLfmg62sYpLRJF9woSu'
const HORSE_ADDR_U = '1JwSSubhmg6iPtRjtyqhUYYH7bZg3Lfy1T'
const HORSE_ADDR_C = '1C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq8'
const FRENCH =
  "C'est par mon ordre et pour le bien de l'Etat que le porteur du présent a fait ce qu'il a fait."
const ONE = hexToBytes('0000000000000000000000000000000000000000000000000000000000000001')

describe('identity vectors A: keys and addresses', () => {
  it('derives the "correct horse battery staple" addresses from both WIF forms', () => {
    const u = decodeWif(HORSE_WIF_U)
    const c = decodeWif(HORSE_WIF_C)
    assert.equal(u.compressed, false)
    assert.equal(c.compressed, true)
    assert.deepEqual(u.privateKey, c.privateKey)
    assert.equal(addressFromPublicKey(publicKeyFromPrivate(u.privateKey, false)), HORSE_ADDR_U)
    assert.equal(addressFromPublicKey(publicKeyFromPrivate(c.privateKey, true)), HORSE_ADDR_C)
    assert.equal(Identity.fromWif(HORSE_WIF_U).address, HORSE_ADDR_U)
    assert.equal(Identity.fromWif(HORSE_WIF_C).address, HORSE_ADDR_C)
    assert.equal(encodeWif(u.privateKey, false), HORSE_WIF_U)
    assert.equal(encodeWif(c.privateKey, true), HORSE_WIF_C)
  })

  it('decodes the bitsign_test WIF to its raw key and address', () => {
    const id = Identity.fromWif('5JeWZ1z6sRcLTJXdQEDdB986E6XfLAkj9CgNE4EHzr5GmjrVFpf')
    assert.equal(
      bytesToHex(id.privateKey),
      '6d7f6815bd7927423a728db28c5f4ea4032a81ab8dbca06ec41476508de48a6d'
    )
    assert.equal(id.address, '17mDAmveV5wBwxajBsY7g1trbMW1DVWcgL')
    assert.equal(id.compressed, false)
  })

  it('reproduces every vector of private key d = 1', () => {
    assert.equal(encodeWif(ONE, false), '5HpHagT65TZzG1PH3CSu63k8DbpvD8s5ip4nEB3kEsreAnchuDf')
    assert.equal(encodeWif(ONE, true), 'KwDiBf89QgGbjEhKnhXJuH7LrciVrZi3qYjgd9M7rFU73sVHnoWn')
    const pc = publicKeyFromPrivate(ONE, true)
    const pu = publicKeyFromPrivate(ONE, false)
    assert.equal(bytesToHex(pc), '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798')
    assert.equal(
      bytesToHex(pu),
      '0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8'
    )
    assert.equal(bytesToHex(hash160(pc)), '751e76e8199196d454941c45d1b3a323f1433bd6')
    assert.equal(addressFromPublicKey(pu), '1EHNa6Q4Jz2uvNExL497mE43ikXhwF6kZm')
    assert.equal(addressFromPublicKey(pu, 'testnet'), 'mtoKs9V381UAhUia3d7Vb9GNak8Qvmcsme')
    assert.equal(addressFromPublicKey(pc), '1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH')
    assert.equal(addressFromPublicKey(pc, 'testnet'), 'mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r')
    const t = decodeAddress('mrCDrCybB6J1vRfbwM5hemdJz73FwDBC8r')
    assert.equal(t.network, 'testnet')
    assert.equal(bytesToHex(t.hash160), '751e76e8199196d454941c45d1b3a323f1433bd6')
    assert.equal(decodeAddress('1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH').network, 'mainnet')
  })

  it('refuses the d = 1 address with its last character changed as a checksum error', () => {
    assert.throws(
      () => decodeAddress('1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMx'),
      isBitwrkErrorWith(IdentityCode.BAD_ADDRESS, 'checksum')
    )
  })

  it('decodes the original constant addresses', () => {
    assert.equal(decodeAddress('1TrsjuCvBch1D9h6nRkadGKakv9KyaiP6').network, 'mainnet')
    assert.equal(decodeAddress('1C1oudoQRdNh6mKr6VaTg2DPveVq97VAyT').network, 'mainnet')
  })
})

describe('identity vectors B: message digest and signatures', () => {
  it('computes the repo SignatureDigest of the French message and the generated ones', () => {
    assert.equal(
      bytesToHex(messageDigest(FRENCH)),
      'f5500457bb6c21f77e5a5a2818cce63cf9f90af501c73475e7f411e94a0cace4'
    )
    assert.equal(
      bytesToHex(messageDigest('test')),
      '9ce428d58e8e4caf619dc6fc7b2c2c28f0561654d1f80f322c038ad5e67ff8a6'
    )
    assert.equal(
      bytesToHex(messageDigest('')),
      '80e795d4a4caadd7047af389d9f7f220562feb6196032e2131e10563352c4bcc'
    )
  })

  const mustVerify: [string, string, string][] = [
    [
      FRENCH,
      '17mDAmveV5wBwxajBsY7g1trbMW1DVWcgL',
      'HDTbD+paOyf7BJ3Fwlvu3Ul+goCQqZF7mfijfva5CkX6NpXrKN7wi9O/MQ/aEWFcXVrSBQXYyTb4FuvPdKn0gmw='
    ],
    [
      'test',
      '13mgtNQiU7gCWpfmypGfijyX9jzqpPr6co',
      'IJlJB/iYZ/j/Edh2EBLrHfBD5E1FF10Gf0QuS/jZWsHzHswQSxTRCBNQ7oiB939COu53jfOOuBe+tW8wJ80WXRs='
    ],
    [
      'test2',
      '13mgtNQiU7gCWpfmypGfijyX9jzqpPr6co',
      'H9i6klOr/QYanX+0KGFBImAJ/g4JMqqjFvA+4+/QnCk0WorcBvgll378N3cmwKNAfSpEIDjT5/xf4bSt/tnNn9A='
    ],
    [
      'article=fnord&type=buy&price=mBTC1.00&address=13mgtNQiU7gCWpfmypGfijyX9jzqpPr6co&nonce=b58d10ad7eaf93e4246c069830e6e27f',
      '13mgtNQiU7gCWpfmypGfijyX9jzqpPr6co',
      'IM60m+j5YvuKNUAu23Si9FQeMdwtzuajh2wCGGQ3U3kULM3dsya9hyJfJnzGpAXy9kKlC/STnhrcVuBy4WSuVLM='
    ],
    [
      'article=fnord&type=buy&price=mBTC1.00&address=13mgtNQiU7gCWpfmypGfijyX9jzqpPr6co&nonce=ab934e9f221e5b64595a24e3343600f1',
      '13mgtNQiU7gCWpfmypGfijyX9jzqpPr6co',
      // High S: a verifier must not enforce low S.
      'IJcnLRN4oz9dAL0FSjEUSDU3uYml22+7GomNfXaj3cydiAuqn4JvKak3lvNw8C7TkvKMW2oqwPj85VeHYjwYiNw='
    ]
  ]
  for (const [i, [message, address, signature]] of mustVerify.entries()) {
    it(`verifies repo signature vector ${i + 1} and recovers its address`, () => {
      assert.equal(verifyMessage(address, signature, message), true)
      assert.equal(recoverAddress(signature, message), address)
      assert.equal(verifyMessage(address, signature, message + '-'), false)
    })
  }

  it('refuses vector 2 against the wrong address', () => {
    const [message, , signature] = mustVerify[1]!
    assert.equal(verifyMessage(HORSE_ADDR_U, signature, message), false)
  })

  it('reproduces the k = 1 signatures of the French message for both key forms', () => {
    const { privateKey } = decodeWif(HORSE_WIF_U)
    const u = 'G3m+Zn753LusVaBilc6HCwcCm/zbLc4o2VnygVsW+BeYHfF5m5zp8W1Faaj1edleVhM2jpYWVNClI3MvCNHhNmg='
    const c = 'H3m+Zn753LusVaBilc6HCwcCm/zbLc4o2VnygVsW+BeYHfF5m5zp8W1Faaj1edleVhM2jpYWVNClI3MvCNHhNmg='
    assert.equal(signMessage(privateKey, FRENCH, { compressed: false, nonce: 1n }), u)
    assert.equal(signMessage(privateKey, FRENCH, { compressed: true, nonce: 1n }), c)
    assert.equal(verifyMessage(HORSE_ADDR_U, u, FRENCH), true)
    assert.equal(verifyMessage(HORSE_ADDR_C, c, FRENCH), true)
    assert.equal(verifyMessage(HORSE_ADDR_U, u, FRENCH + '-'), false)
    assert.equal(verifyMessage(HORSE_ADDR_C, c, FRENCH + '-'), false)
    // The header binds the key form: the compressed signature is not the uncompressed address's.
    assert.equal(verifyMessage(HORSE_ADDR_U, c, FRENCH), false)
  })

  it('reproduces the k = 1 bid-document signatures of vector C', () => {
    const { privateKey } = decodeWif(HORSE_WIF_C)
    const doc =
      'article=net.bitwrk%2Fblender%2F0%2F2.80%2F512M&type=BUY&price=mBTC1.5&address=1C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq8&nonce=0123456789abcdef0123456789abcdef'
    assert.equal(
      signMessage(privateKey, doc, { nonce: 1n }),
      'H3m+Zn753LusVaBilc6HCwcCm/zbLc4o2VnygVsW+BeYbIMEtMhrjA2F+sFsLyWg7UgyzS3s4Np3QjZ/dFWzXJc='
    )
    assert.equal(
      signMessage(privateKey, doc, { nonce: 1n, compressed: false }),
      'G3m+Zn753LusVaBilc6HCwcCm/zbLc4o2VnygVsW+BeYbIMEtMhrjA2F+sFsLyWg7UgyzS3s4Np3QjZ/dFWzXJc='
    )
  })

  it('reproduces the k = 1 transaction-message signatures of vector D shorter than 253 bytes', () => {
    const { privateKey } = decodeWif(HORSE_WIF_C)
    const establish =
      'txid=aghzfmJpdHdya3IPCxICVHgYgICAhPeVzwoM&workhash=587ab93cc2172e9f1f52e710d8a32665cb3b893d1b03513efd04dc386beedfc3&worksecrethash=1dc794023b143cff6b5ef527225f4eeb5c8eecdc7896aba658f500d29b355650'
    const sig = signMessage(privateKey, establish, { nonce: 1n })
    assert.equal(
      sig,
      'H3m+Zn753LusVaBilc6HCwcCm/zbLc4o2VnygVsW+BeYxcQ4+m/ucEpHxc/OddeOh6nRVqmLazV3SDKL1qWfU6o='
    )
    assert.equal(verifyMessage(HORSE_ADDR_C, sig, establish), true)
    const receipt = 'ba2742dd6f589c363cbc4b4d97a02f3670ad81e18fb98687e08b75ec2ed0329f'
    assert.equal(
      signMessage(privateKey, receipt, { nonce: 1n }),
      'H3m+Zn753LusVaBilc6HCwcCm/zbLc4o2VnygVsW+BeYnKqag/LBkS4FSBxnDuhDVWkGQO56wqQlmbVMPnxnPiA='
    )
  })

  it('writes Bitcoin’s correct varint, not the original’s quirk for 253..65535', () => {
    const hex = (n: number) => bytesToHex(bitcoinVarint(n))
    // Lengths where the original and Bitcoin agree.
    assert.equal(hex(0), '00')
    assert.equal(hex(252), 'fc')
    assert.equal(hex(65535), 'fdffff')
    assert.equal(hex(65536), 'fe00000100')
    // Lengths where the original wrote (len >> 1): 253 -> fdfd7e, 256 -> fd0080, 300 -> fd2c96.
    assert.equal(hex(253), 'fdfd00')
    assert.equal(hex(255), 'fdff00')
    assert.equal(hex(256), 'fd0001')
    assert.equal(hex(300), 'fd2c01')
    assert.equal(hex(511), 'fdff01')
    assert.equal(hex(1000), 'fde803')
    assert.equal(hex(2 ** 32), 'ff0000000001000000')
  })

  it('signs with RFC 6979 exactly as Bitcoin Core (spec identity.md vector ID-V4)', () => {
    assert.equal(
      signMessage(ONE, 'bitwrk'),
      'H73sJ8I59yvv1T0sVbMkDi4YxsiRywWktr9uqusIdXCoVWaVtA9zZkEuDflqBGSJt05gEAC9wsbMxOP+hBgdXzo='
    )
    assert.equal(
      signMessage(ONE, 'bitwrk', { compressed: false }),
      'G73sJ8I59yvv1T0sVbMkDi4YxsiRywWktr9uqusIdXCoVWaVtA9zZkEuDflqBGSJt05gEAC9wsbMxOP+hBgdXzo='
    )
  })

  it('hashes a 300-byte message like Bitcoin Core, so the original’s quirky vector does not hold', () => {
    const long = 'a'.repeat(300)
    assert.equal(
      bytesToHex(messageDigest(long)),
      '3ec158a43b80359df647352dac1d37dbf26a94e5f06e5790760290c75cd11dc0'
    )
    assert.notEqual(
      bytesToHex(messageDigest(long)),
      'f8915c6a9423a261400cafc9e2efe4447f2594e614d609818bfda4214a3f8acc'
    )
    const quirky = 'H3m+Zn753LusVaBilc6HCwcCm/zbLc4o2VnygVsW+BeYITLRrnWhcdcHG/6XQ/xcXZhjGIcpY6Wwx3zBQNIUFFA='
    assert.equal(verifyMessage(HORSE_ADDR_C, quirky, long), false)
    const ours = signMessage(decodeWif(HORSE_WIF_C).privateKey, long, { nonce: 1n })
    assert.equal(
      ours,
      'H3m+Zn753LusVaBilc6HCwcCm/zbLc4o2VnygVsW+BeYZ2LN6Bz+BRO9VoP7DSmv88ZW9W20RJP7cVQMc7Tb6IU='
    )
    assert.equal(verifyMessage(HORSE_ADDR_C, ours, long), true)
  })
})
