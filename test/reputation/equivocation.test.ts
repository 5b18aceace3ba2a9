import assert from 'node:assert/strict'
import { signBid } from '../../protocol/bid/index.js'
import type { Identity } from '../../protocol/identity/index.js'
import { money } from '../../protocol/money/index.js'
import {
  canonicalProof,
  decodeEquivocation,
  type EquivocationProof,
  encodeEquivocation,
  equivocationId,
  MAX_EQUIVOCATION_BYTES,
  ReputationCode,
  type SignedDocument,
  validateEquivocation,
  verifyEquivocation
} from '../../protocol/reputation/index.js'
import {
  type MessageContent,
  signReceipt,
  signTxMessage,
  transactionId
} from '../../protocol/transaction/index.js'
import {
  BUYER,
  CONTENT,
  ENC_RESULT_HASH,
  MESSAGES,
  SELLER,
  STRANGER,
  sealedKey,
  TXID,
  WORK_HASH
} from '../transaction/helpers.js'
import { malleate } from './helpers.js'

const A = 'a'.repeat(64)
const B = 'b'.repeat(64)
const C = 'c'.repeat(64)
const D = 'd'.repeat(64)
const OTHER_HASH = '11'.repeat(32)

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0))
const text = (b: Uint8Array): string => String.fromCharCode(...b)

function conflicting(who: Identity, a: SignedDocument, b: SignedDocument): EquivocationProof {
  return { case: 'conflicting-messages', participant: who.address, a, b }
}

function bidFor(who: Identity, nonce: string, priceSatoshi: bigint): SignedDocument {
  const bid = signBid(who, {
    article: 'net.bitwrk/gorays/0',
    type: 'SELL',
    price: money('BTC', priceSatoshi),
    nonce,
    createdMs: 1_700_000_000_000,
    expiresMs: 1_700_000_060_000
  })
  return { document: bid.document, signature: bid.signature }
}

const NONCE = '0123456789abcdef0123456789abcdef'

/** The buyer used buy bid A in transactions (A, B) and (A, C). */
const BUYER_BID_REUSE: EquivocationProof = {
  case: 'bid-reuse',
  participant: BUYER.address,
  a: signTxMessage(BUYER, transactionId(A, B), CONTENT['establish-buyer']),
  b: signTxMessage(BUYER, transactionId(A, C), CONTENT['establish-buyer']),
  context: { bid: A, otherA: B, otherB: C }
}

/** The seller used sell bid B in transactions (A, B) and (D, B). */
const SELLER_BID_REUSE: EquivocationProof = {
  case: 'bid-reuse',
  participant: SELLER.address,
  a: signTxMessage(SELLER, transactionId(A, B), CONTENT['establish-seller']),
  b: signTxMessage(SELLER, transactionId(D, B), CONTENT['establish-seller']),
  context: { bid: B, otherA: A, otherB: D }
}

const secondWork: MessageContent = {
  kind: 'establish-buyer',
  workHash: OTHER_HASH,
  workSecretHash: OTHER_HASH
}
const secondResult: MessageContent = {
  kind: 'transmit-finished',
  encResultHash: OTHER_HASH,
  encResultHashSig: signReceipt(BUYER, TXID, OTHER_HASH),
  sealedResultKey: sealedKey(OTHER_HASH)
}

/** Valid proofs of every case, by name. */
const VALID: Record<string, EquivocationProof> = {
  'bid reuse by a buyer': BUYER_BID_REUSE,
  'bid reuse by a seller': SELLER_BID_REUSE,
  'two work commitments': conflicting(
    BUYER,
    MESSAGES['establish-buyer'],
    signTxMessage(BUYER, TXID, secondWork)
  ),
  'accept and reject of one result': conflicting(BUYER, MESSAGES['accept-result'], MESSAGES['reject-result']),
  'delivery and rejection of one work': conflicting(
    SELLER,
    MESSAGES['transmit-finished'],
    MESSAGES['reject-work']
  ),
  'two different results': conflicting(
    SELLER,
    MESSAGES['transmit-finished'],
    signTxMessage(SELLER, TXID, secondResult)
  ),
  'two bids with one nonce': {
    case: 'nonce-reuse',
    participant: SELLER.address,
    a: bidFor(SELLER, NONCE, 100n),
    b: bidFor(SELLER, NONCE, 200n)
  }
}

function verify(p: EquivocationProof): ReturnType<typeof verifyEquivocation> {
  return verifyEquivocation(encodeEquivocation(p))
}

function code(p: EquivocationProof): string | undefined {
  const v = verify(p)
  return v.ok ? undefined : v.code
}

/** The proof text with line `i` replaced. */
function withLine(p: EquivocationProof, i: number, line: string): Uint8Array {
  const lines = text(encodeEquivocation(p)).split('\n')
  lines[i] = line
  return ascii(lines.join('\n'))
}

function refusal(bytes: Uint8Array): string | undefined {
  const v = verifyEquivocation(bytes)
  return v.ok ? undefined : v.code
}

describe('reputation equivocation', () => {
  for (const [name, proof] of Object.entries(VALID))
    it(`verifies a proof of ${name}`, () => {
      const v = verify(proof)
      assert.deepEqual(v, {
        ok: true,
        participant: proof.participant,
        kind: proof.case,
        id: equivocationId(proof)
      })
      assert.match(equivocationId(proof), /^[0-9a-f]{64}$/)
      assert.deepEqual(validateEquivocation(encodeEquivocation(proof)), {
        result: 'accept',
        participant: proof.participant,
        kind: proof.case,
        id: equivocationId(proof)
      })
    })

  it('round-trips every proof through its codec in canonical order', () => {
    for (const proof of Object.values(VALID)) {
      const swapped: EquivocationProof = {
        ...proof,
        a: proof.b,
        b: proof.a,
        ...(proof.context && {
          context: { bid: proof.context.bid, otherA: proof.context.otherB, otherB: proof.context.otherA }
        })
      }
      const bytes = encodeEquivocation(proof)
      assert.deepEqual(encodeEquivocation(swapped), bytes, 'one encoding whatever the order given')
      const d = decodeEquivocation(bytes)
      assert.ok(d.ok)
      assert.deepEqual(d.proof, canonicalProof(proof))
      assert.ok(d.proof.a.document < d.proof.b.document)
      assert.ok(bytes.length <= MAX_EQUIVOCATION_BYTES)
      assert.equal(equivocationId(swapped), equivocationId(proof))
    }
  })

  it('gives one id to one conflict whatever the signatures (ECDSA malleability)', () => {
    const p = VALID['accept and reject of one result'] as EquivocationProof
    const m: EquivocationProof = {
      ...p,
      a: { ...p.a, signature: malleate(p.a.signature) },
      b: { ...p.b, signature: malleate(p.b.signature) }
    }
    assert.notEqual(m.a.signature, p.a.signature)
    const v = verify(m)
    assert.ok(v.ok)
    assert.equal(v.id, equivocationId(p))
  })

  it('never accepts the same document twice, with the same or a malleated signature', () => {
    const msg = MESSAGES['accept-result']
    assert.equal(code(conflicting(BUYER, msg, msg)), ReputationCode.SAME_DOCUMENT)
    const twin = { document: msg.document, signature: malleate(msg.signature) }
    assert.equal(code(conflicting(BUYER, msg, twin)), ReputationCode.SAME_DOCUMENT)
    const bid = bidFor(SELLER, NONCE, 100n)
    assert.equal(
      code({ case: 'nonce-reuse', participant: SELLER.address, a: bid, b: bid }),
      ReputationCode.SAME_DOCUMENT
    )
  })

  it('never accepts documents by different signers', () => {
    const mine = MESSAGES['establish-buyer']
    const theirs = signTxMessage(STRANGER, TXID, secondWork)
    assert.equal(code(conflicting(BUYER, mine, theirs)), ReputationCode.WRONG_SIGNER)
    assert.equal(code(conflicting(STRANGER, mine, theirs)), ReputationCode.WRONG_SIGNER)
    // Both by the buyer, but the header names somebody else.
    const both = VALID['two work commitments'] as EquivocationProof
    assert.equal(code({ ...both, participant: SELLER.address }), ReputationCode.WRONG_SIGNER)
    // Bids name their signer: a stranger's bid with the same nonce is refused before any signature check.
    const nonce: EquivocationProof = {
      case: 'nonce-reuse',
      participant: SELLER.address,
      a: bidFor(SELLER, NONCE, 100n),
      b: bidFor(STRANGER, NONCE, 100n)
    }
    assert.equal(code(nonce), ReputationCode.WRONG_SIGNER)
    // Different establishing parties of one bid pair: the seller's message in a buyer's proof.
    const mixed: EquivocationProof = {
      ...BUYER_BID_REUSE,
      b: signTxMessage(STRANGER, transactionId(A, C), CONTENT['establish-buyer'])
    }
    assert.equal(code(mixed), ReputationCode.WRONG_SIGNER)
  })

  it('refuses pairs an honest participant may sign, as not conflicting', () => {
    const table: [string, EquivocationProof][] = [
      [
        'two seller addresses',
        conflicting(
          SELLER,
          MESSAGES['establish-seller'],
          signTxMessage(SELLER, TXID, { kind: 'establish-seller', peerId: SELLER.peerId, addrs: [] })
        )
      ],
      [
        'publish-secret then reject-work',
        conflicting(SELLER, MESSAGES['publish-secret'], MESSAGES['reject-work'])
      ],
      ['two steps of the buyer', conflicting(BUYER, MESSAGES['establish-buyer'], MESSAGES['accept-result'])],
      [
        'one result with another receipt signature',
        conflicting(
          SELLER,
          MESSAGES['transmit-finished'],
          signTxMessage(SELLER, TXID, {
            ...(CONTENT['transmit-finished'] as Extract<MessageContent, { kind: 'transmit-finished' }>),
            encResultHashSig: malleate(signReceipt(BUYER, TXID, ENC_RESULT_HASH))
          })
        )
      ],
      [
        'accept in two transactions',
        conflicting(
          BUYER,
          MESSAGES['accept-result'],
          signTxMessage(BUYER, transactionId(A, C), CONTENT['reject-result'])
        )
      ],
      [
        'bid reuse within one transaction',
        {
          ...BUYER_BID_REUSE,
          b: signTxMessage(BUYER, transactionId(A, B), secondWork),
          context: { bid: A, otherA: B, otherB: B }
        }
      ],
      [
        'two bids with different nonces',
        {
          case: 'nonce-reuse',
          participant: SELLER.address,
          a: bidFor(SELLER, NONCE, 100n),
          b: bidFor(SELLER, 'f'.repeat(32), 100n)
        }
      ]
    ]
    for (const [name, p] of table) assert.equal(code(p), ReputationCode.NOT_CONFLICTING, name)
  })

  it('refuses establishing messages of both roles as bid reuse', () => {
    // The buyer's establish-buyer and a seller's establish-seller never name one bid in one role.
    const p: EquivocationProof = {
      ...BUYER_BID_REUSE,
      b: signTxMessage(BUYER, transactionId(C, A), {
        kind: 'establish-seller',
        peerId: BUYER.peerId,
        addrs: []
      })
    }
    assert.equal(code(p), ReputationCode.NOT_CONFLICTING)
  })

  it('refuses bid ids that do not hash to the transaction ids', () => {
    const ctx = BUYER_BID_REUSE.context as NonNullable<EquivocationProof['context']>
    for (const context of [
      { ...ctx, otherA: D },
      { ...ctx, otherB: D },
      { ...ctx, bid: D },
      { bid: B, otherA: A, otherB: C }
    ])
      assert.equal(
        code({ ...BUYER_BID_REUSE, context }),
        ReputationCode.CONTEXT_MISMATCH,
        JSON.stringify(context)
      )
  })

  it('refuses documents of the wrong kind for the case', () => {
    const bid = bidFor(SELLER, NONCE, 100n)
    const table: [string, EquivocationProof][] = [
      [
        'bids as transaction messages',
        { case: 'conflicting-messages', participant: SELLER.address, a: bid, b: bidFor(SELLER, NONCE, 200n) }
      ],
      [
        'transaction messages as bids',
        {
          case: 'nonce-reuse',
          participant: SELLER.address,
          a: MESSAGES['transmit-finished'],
          b: MESSAGES['reject-work']
        }
      ],
      [
        'non-establishing messages as bid reuse',
        { ...BUYER_BID_REUSE, a: signTxMessage(BUYER, transactionId(A, B), CONTENT['accept-result']) }
      ],
      [
        'a document that is not canonical',
        conflicting(BUYER, MESSAGES['accept-result'], {
          document: `${MESSAGES['reject-result'].document}&x=1`,
          signature: MESSAGES['reject-result'].signature
        })
      ]
    ]
    for (const [name, p] of table) assert.equal(code(p), ReputationCode.BAD_DOCUMENT, name)
  })

  it('refuses tampered signatures and documents', () => {
    const p = VALID['accept and reject of one result'] as EquivocationProof
    const canon = canonicalProof(p)
    const sig = canon.a.signature
    // Header byte 0x1f ('H' in Base64) changed to 0x5f: outside 27..34.
    assert.equal(refusal(withLine(p, 2, `X${sig.slice(1)}`)), ReputationCode.BAD_SIGNATURE)
    assert.equal(refusal(withLine(p, 2, sig.slice(0, 87))), ReputationCode.BAD_SIGNATURE)
    assert.equal(refusal(withLine(p, 2, `${sig.slice(0, 86)}!=`)), ReputationCode.BAD_SIGNATURE)
    // r = 0 recovers no key.
    assert.equal(
      refusal(withLine(p, 2, `${sig.slice(0, 1)}${'A'.repeat(43)}${sig.slice(44)}`)),
      ReputationCode.BAD_SIGNATURE
    )
    // A changed commitment still conflicts, but its signature now recovers some other key.
    const forged: EquivocationProof = {
      ...VALID['two work commitments'],
      b: {
        document: MESSAGES['establish-buyer'].document.replace(WORK_HASH, OTHER_HASH),
        signature: MESSAGES['establish-buyer'].signature
      }
    } as EquivocationProof
    assert.equal(code(forged), ReputationCode.WRONG_SIGNER)
    // A signature of the other document.
    assert.equal(code({ ...p, a: { ...p.a, signature: p.b.signature } }), ReputationCode.WRONG_SIGNER)
  })

  it('refuses oversized proofs before reading them', () => {
    const big = new Uint8Array(MAX_EQUIVOCATION_BYTES + 1).fill(0x41)
    assert.equal(refusal(big), ReputationCode.TOO_LARGE)
    assert.deepEqual(validateEquivocation(big), { result: 'reject', code: ReputationCode.TOO_LARGE })
    assert.equal(refusal(new Uint8Array(MAX_EQUIVOCATION_BYTES).fill(0x41)), ReputationCode.MALFORMED)
    // A document beyond the transaction document limit inside an otherwise valid frame.
    const long = withLine(
      VALID['two work commitments'] as EquivocationProof,
      1,
      `kind=bitwrk-tx-v1&msg=accept-result&txid=${'0'.repeat(1100)}`
    )
    assert.ok(long.length <= MAX_EQUIVOCATION_BYTES)
    assert.equal(refusal(long), ReputationCode.BAD_DOCUMENT)
  })

  it('refuses hostile framing and headers with specific codes', () => {
    const p = VALID['accept and reject of one result'] as EquivocationProof
    const good = text(encodeEquivocation(p))
    const head = `kind=bitwrk-equivocation-v1&case=conflicting-messages&participant=${BUYER.address}`
    const lines = good.split('\n')
    const table: [string, string, string][] = [
      ['empty', '', ReputationCode.MALFORMED],
      ['four lines', lines.slice(0, 4).join('\n'), ReputationCode.MALFORMED],
      ['six lines', `${good}\nx`, ReputationCode.MALFORMED],
      [
        'an empty line',
        good.replace('\n', '\n\n').split('\n').slice(0, 5).join('\n'),
        ReputationCode.MALFORMED
      ],
      ['a trailing LF', `${good}\n`, ReputationCode.MALFORMED],
      ['a space', good.replace('&case', ' &case'), ReputationCode.MALFORMED],
      ['a CR', good.replace('\n', '\r\n'), ReputationCode.MALFORMED],
      ['no kind field', good.replace('kind=bitwrk-equivocation-v1&', ''), ReputationCode.MALFORMED],
      ['another kind', good.replace('bitwrk-equivocation-v1', 'bitwrk-tx-v1'), ReputationCode.BAD_KIND],
      ['an unknown case', good.replace('conflicting-messages', 'double-spend'), ReputationCode.BAD_CASE],
      ['no case field', good.replace('case=', 'kase='), ReputationCode.MALFORMED],
      [
        'a bad participant',
        good.replace(BUYER.address, `${BUYER.address.slice(0, -1)}x`),
        ReputationCode.MALFORMED
      ],
      ['an extra field', good.replace(head, `${head}&bid=${A}`), ReputationCode.MALFORMED],
      ['an empty value', good.replace(head, `${head}&`), ReputationCode.MALFORMED],
      [
        'bid reuse without context',
        good.replace('conflicting-messages', 'bid-reuse'),
        ReputationCode.MALFORMED
      ],
      [
        'a header over 512 bytes',
        good.replace(head, `${head}${'&x=1'.repeat(110)}`),
        ReputationCode.MALFORMED
      ],
      [
        'documents in reverse order',
        [lines[0], lines[3], lines[4], lines[1], lines[2]].join('\n'),
        ReputationCode.MALFORMED
      ]
    ]
    for (const [name, t, c] of table) assert.equal(refusal(ascii(t)), c, name)
    const nonAscii = encodeEquivocation(p)
    nonAscii[10] = 0xc3
    assert.equal(refusal(nonAscii), ReputationCode.MALFORMED)
    assert.equal(decodeEquivocation('x' as unknown as Uint8Array).ok, false)
  })

  it('decodes the longest header: bid reuse with three 128-character bid ids', () => {
    const id = (c: string) => c.repeat(128)
    const p: EquivocationProof = {
      ...BUYER_BID_REUSE,
      context: { bid: id('x'), otherA: id('y'), otherB: id('z') }
    }
    const d = decodeEquivocation(encodeEquivocation(p))
    assert.ok(d.ok)
    assert.deepEqual(d.proof.context, p.context)
    assert.equal(code(p), ReputationCode.CONTEXT_MISMATCH)
    const tooLong = { ...p, context: { bid: id('x'), otherA: `${id('y')}y`, otherB: id('z') } }
    assert.equal(refusal(encodeEquivocation(tooLong)), ReputationCode.MALFORMED)
  })

  it('refuses to encode a bid-reuse proof without its context', () => {
    const { context: _, ...bare } = BUYER_BID_REUSE
    assert.throws(
      () => encodeEquivocation(bare),
      (e) => (e as { code?: string }).code === ReputationCode.BAD_ARGUMENT
    )
  })
})
