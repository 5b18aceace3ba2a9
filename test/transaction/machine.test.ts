import assert from 'node:assert/strict'
import {
  applyMessage,
  createTransaction,
  ESTABLISH_TIMEOUT_MS,
  MAX_TRANSACTION_LIFE_MS,
  MESSAGE_KINDS,
  nextPhase,
  PHASES,
  type Phase,
  retire,
  signReceipt,
  signTxMessage,
  TERMINAL_PHASES,
  TRANSITIONS,
  TxCode,
  transactionId
} from '../../protocol/transaction/index.js'
import {
  BUYER,
  CONTENT,
  ENC_RESULT_HASH,
  freshTx,
  MESSAGES,
  mustApply,
  NOT_ON_CURVE,
  RESULT_KEY,
  SEALED_RESULT_KEY,
  SELLER,
  SELLER_ADDRS,
  SIGNER,
  STRANGER,
  snapshot,
  T0,
  TXID,
  txIn,
  WORK_HASH,
  WORK_SECRET_HASH
} from './helpers.js'

/** The original's table (notes §4.3) with the RESULT_DISPUTED fix, written out independently. */
const EXPECTED: [Phase, string, Phase][] = [
  ['ESTABLISHING', 'establish-buyer', 'BUYER_ESTABLISHED'],
  ['SELLER_ESTABLISHED', 'establish-buyer', 'TRANSMITTING'],
  ['ESTABLISHING', 'establish-seller', 'SELLER_ESTABLISHED'],
  ['BUYER_ESTABLISHED', 'establish-seller', 'TRANSMITTING'],
  ['BUYER_ESTABLISHED', 'publish-secret', 'WORKING'],
  ['TRANSMITTING', 'publish-secret', 'WORKING'],
  ['SELLER_ESTABLISHED', 'reject-work', 'WORK_DISPUTED'],
  ['TRANSMITTING', 'reject-work', 'WORK_DISPUTED'],
  ['WORKING', 'reject-work', 'WORK_DISPUTED'],
  ['WORKING', 'transmit-finished', 'UNVERIFIED'],
  ['UNVERIFIED', 'reject-result', 'RESULT_DISPUTED'],
  ['ESTABLISHING', 'accept-result', 'FINISHED'],
  ['BUYER_ESTABLISHED', 'accept-result', 'FINISHED'],
  ['SELLER_ESTABLISHED', 'accept-result', 'FINISHED'],
  ['TRANSMITTING', 'accept-result', 'FINISHED'],
  ['WORKING', 'accept-result', 'FINISHED'],
  ['UNVERIFIED', 'accept-result', 'FINISHED']
]

const NOW_IN_PHASE = T0 + 30_000

describe('transaction phase machine', () => {
  it('has exactly the 17 transitions of the original table, with reject-result leading to RESULT_DISPUTED', () => {
    const actual: [Phase, string, Phase][] = []
    for (const kind of MESSAGE_KINDS)
      for (const phase of PHASES) {
        const to = nextPhase(phase, kind)
        if (to !== undefined) actual.push([phase, kind, to])
      }
    const key = (t: [Phase, string, Phase]) => t.join(' ')
    assert.deepEqual(actual.map(key).sort(), EXPECTED.map(key).sort())
    assert.equal(nextPhase('UNVERIFIED', 'reject-result'), 'RESULT_DISPUTED')
  })

  it('assigns each message kind to the original party', () => {
    const parties = Object.fromEntries(MESSAGE_KINDS.map((k) => [k, TRANSITIONS[k].party]))
    assert.deepEqual(parties, {
      'establish-buyer': 'buyer',
      'establish-seller': 'seller',
      'publish-secret': 'seller',
      'reject-work': 'seller',
      'transmit-finished': 'seller',
      'reject-result': 'buyer',
      'accept-result': 'buyer'
    })
  })

  it('creates a transaction in ESTABLISHING with the 60 s establish deadline', () => {
    const tx = freshTx()
    assert.equal(tx.id, TXID)
    assert.equal(tx.phase, 'ESTABLISHING')
    assert.equal(tx.state, 'active')
    assert.equal(tx.revision, 0)
    assert.equal(tx.deadlineMs, T0 + ESTABLISH_TIMEOUT_MS)
    assert.equal(ESTABLISH_TIMEOUT_MS, 60_000)
    assert.deepEqual(tx.evidence, [])
  })

  for (const phase of PHASES)
    for (const kind of MESSAGE_KINDS) {
      const to = nextPhase(phase, kind)
      if (to !== undefined)
        it(`accepts ${kind} in ${phase} and moves to ${to}`, () => {
          const tx = txIn(phase)
          const before = snapshot(tx)
          const next = mustApply(tx, MESSAGES[kind], NOW_IN_PHASE)
          assert.equal(next.phase, to)
          assert.equal(next.revision, tx.revision + 1)
          assert.equal(next.evidence.length, tx.evidence.length + 1)
          const ev = next.evidence.at(-1)
          assert.deepEqual(
            { kind: ev?.kind, from: ev?.from, to: ev?.to, at: ev?.receivedMs, party: ev?.party },
            { kind, from: phase, to, at: NOW_IN_PHASE, party: TRANSITIONS[kind].party }
          )
          assert.deepEqual(ev?.message, MESSAGES[kind])
          assert.deepEqual(snapshot(tx), before, 'input unchanged')
        })
      else
        it(`refuses ${kind} in ${phase} with TX_WRONG_PHASE and leaves the transaction unchanged`, () => {
          const tx = txIn(phase)
          const before = snapshot(tx)
          const r = applyMessage(tx, MESSAGES[kind], NOW_IN_PHASE)
          assert.deepEqual(r, { ok: false, code: TxCode.WRONG_PHASE })
          assert.deepEqual(snapshot(tx), before)
        })
    }

  it('refuses a replay of an accepted message with TX_WRONG_PHASE', () => {
    const tx = mustApply(freshTx(), MESSAGES['establish-buyer'], T0 + 1)
    assert.deepEqual(applyMessage(tx, MESSAGES['establish-buyer'], T0 + 2), {
      ok: false,
      code: TxCode.WRONG_PHASE
    })
  })

  it('records the arguments of each message', () => {
    const tx = txIn('UNVERIFIED')
    assert.equal(tx.workHash, WORK_HASH)
    assert.equal(tx.workSecretHash, WORK_SECRET_HASH)
    assert.deepEqual(tx.sellerAddrs, SELLER_ADDRS)
    assert.equal(tx.buyerSecret, '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f')
    assert.deepEqual(tx.receipt, {
      encResultHash: ENC_RESULT_HASH,
      signature: signReceipt(BUYER, TXID, ENC_RESULT_HASH)
    })
    assert.equal(tx.sealedResultKey, SEALED_RESULT_KEY)
  })

  it('returns frozen records', () => {
    const tx = txIn('WORKING')
    assert.ok(Object.isFrozen(tx) && Object.isFrozen(tx.evidence) && Object.isFrozen(tx.evidence[0]))
  })

  describe('deadlines', () => {
    it('extends the deadline from its current value on arrival: TRANSMITTING +2 min, WORKING +5, UNVERIFIED +15', () => {
      let tx = freshTx()
      const deadlines: [Phase, number][] = []
      for (const kind of [
        'establish-buyer',
        'establish-seller',
        'publish-secret',
        'transmit-finished'
      ] as const) {
        tx = mustApply(tx, MESSAGES[kind], T0 + 50_000)
        deadlines.push([tx.phase, tx.deadlineMs - T0])
      }
      assert.deepEqual(deadlines, [
        ['BUYER_ESTABLISHED', 60_000],
        ['TRANSMITTING', 180_000],
        ['WORKING', 480_000],
        ['UNVERIFIED', 1_380_000]
      ])
      assert.equal(tx.deadlineMs - T0, MAX_TRANSACTION_LIFE_MS)
    })

    it('grants no extension to SELLER_ESTABLISHED and only +5 min on the BUYER_ESTABLISHED → WORKING shortcut', () => {
      assert.equal(txIn('SELLER_ESTABLISHED').deadlineMs, T0 + 60_000)
      const working = mustApply(txIn('BUYER_ESTABLISHED'), MESSAGES['publish-secret'], T0 + 59_999)
      assert.equal(working.phase, 'WORKING')
      assert.equal(working.deadlineMs, T0 + 60_000 + 300_000)
    })

    for (const phase of TERMINAL_PHASES)
      it(`sets the deadline to the arrival time on reaching ${phase}`, () => {
        const tx = txIn(phase)
        assert.equal(tx.deadlineMs, tx.evidence.at(-1)?.receivedMs)
      })

    for (const phase of PHASES.filter((p) => !TERMINAL_PHASES.has(p)))
      it(`accepts a message in ${phase} until 1 ms before the deadline and refuses it at the deadline`, () => {
        const tx = txIn(phase)
        const kind = MESSAGE_KINDS.find((k) => nextPhase(phase, k) !== undefined)
        assert.ok(kind)
        const before = snapshot(tx)
        assert.deepEqual(applyMessage(tx, MESSAGES[kind], tx.deadlineMs), {
          ok: false,
          code: TxCode.EXPIRED
        })
        assert.deepEqual(applyMessage(tx, MESSAGES[kind], tx.deadlineMs + 3_600_000), {
          ok: false,
          code: TxCode.EXPIRED
        })
        assert.deepEqual(snapshot(tx), before)
        assert.ok(applyMessage(tx, MESSAGES[kind], tx.deadlineMs - 1).ok)
      })
  })

  describe('parties', () => {
    for (const kind of MESSAGE_KINDS)
      it(`refuses ${kind} signed by the other party with TX_WRONG_PARTY, by a stranger with TX_BAD_SIGNATURE`, () => {
        const phase = PHASES.find((p) => nextPhase(p, kind) !== undefined)
        assert.ok(phase)
        const tx = txIn(phase)
        const other = SIGNER[kind] === BUYER ? SELLER : BUYER
        assert.deepEqual(applyMessage(tx, signTxMessage(other, TXID, CONTENT[kind]), NOW_IN_PHASE), {
          ok: false,
          code: TxCode.WRONG_PARTY
        })
        assert.deepEqual(applyMessage(tx, signTxMessage(STRANGER, TXID, CONTENT[kind]), NOW_IN_PHASE), {
          ok: false,
          code: TxCode.BAD_SIGNATURE
        })
      })

    it('refuses garbage and bit-flipped signatures with TX_BAD_SIGNATURE', () => {
      const m = MESSAGES['accept-result']
      const flipped = m.signature.slice(0, 10) + (m.signature[10] === 'A' ? 'B' : 'A') + m.signature.slice(11)
      for (const signature of [flipped, '', 'not base64', 'AAAA', MESSAGES['reject-result'].signature])
        assert.deepEqual(applyMessage(freshTx(), { ...m, signature }, T0 + 1), {
          ok: false,
          code: TxCode.BAD_SIGNATURE
        })
    })

    it('lets one participant play both parties (the original has no self-trade rule, notes §3)', () => {
      const terms = { ...freshTx().terms, seller: BUYER.address, sellerPeerId: BUYER.peerId }
      let tx = createTransaction(terms)
      const establish = signTxMessage(BUYER, tx.id, {
        kind: 'establish-seller',
        peerId: BUYER.peerId,
        addrs: []
      })
      tx = mustApply(tx, establish, T0 + 1)
      tx = mustApply(tx, signTxMessage(BUYER, tx.id, CONTENT['establish-buyer']), T0 + 2)
      assert.equal(tx.phase, 'TRANSMITTING')
    })
  })

  describe('arguments', () => {
    it('refuses establish-seller naming another peer than the sell bid with TX_BAD_ARGUMENT', () => {
      const msg = signTxMessage(SELLER, TXID, {
        kind: 'establish-seller',
        peerId: STRANGER.peerId,
        addrs: []
      })
      assert.deepEqual(applyMessage(freshTx(), msg, T0 + 1), { ok: false, code: TxCode.BAD_ARGUMENT })
    })

    it('accepts establish-seller without multiaddrs', () => {
      const msg = signTxMessage(SELLER, TXID, { kind: 'establish-seller', peerId: SELLER.peerId, addrs: [] })
      assert.deepEqual(mustApply(freshTx(), msg, T0 + 1).sellerAddrs, [])
    })

    it('refuses a buyer secret that does not open the commitment with TX_BAD_SECRET', () => {
      const msg = signTxMessage(SELLER, TXID, { kind: 'publish-secret', buyerSecret: 'ff'.repeat(32) })
      for (const phase of ['BUYER_ESTABLISHED', 'TRANSMITTING'] as const)
        assert.deepEqual(applyMessage(txIn(phase), msg, NOW_IN_PHASE), {
          ok: false,
          code: TxCode.BAD_SECRET
        })
    })

    it('refuses a transmit-finished whose receipt is not the buyer’s signature of this receipt with TX_BAD_RECEIPT', () => {
      const tx = txIn('WORKING')
      const otherTx = transactionId('c'.repeat(64), 'd'.repeat(64))
      const receipts = [
        signReceipt(SELLER, TXID, ENC_RESULT_HASH), // wrong signer
        signReceipt(BUYER, TXID, 'ee'.repeat(32)), // another hash
        signReceipt(BUYER, otherTx, ENC_RESULT_HASH), // another transaction
        BUYER.sign(ENC_RESULT_HASH) // the original's bare-hash receipt (notes §4.8): no domain, no txid
      ]
      for (const encResultHashSig of receipts) {
        const msg = signTxMessage(SELLER, TXID, {
          kind: 'transmit-finished',
          encResultHash: ENC_RESULT_HASH,
          encResultHashSig,
          sealedResultKey: SEALED_RESULT_KEY
        })
        assert.deepEqual(applyMessage(tx, msg, NOW_IN_PHASE), { ok: false, code: TxCode.BAD_RECEIPT })
      }
    })

    it('refuses invalid argument values with TX_BAD_ARGUMENT', () => {
      const bad = [
        { kind: 'establish-buyer', workHash: WORK_HASH.toUpperCase(), workSecretHash: WORK_SECRET_HASH },
        { kind: 'establish-buyer', workHash: WORK_HASH.slice(1), workSecretHash: WORK_SECRET_HASH },
        { kind: 'establish-buyer', workHash: WORK_HASH, workSecretHash: '' },
        { kind: 'establish-seller', peerId: '', addrs: [] },
        { kind: 'establish-seller', peerId: 'not-base58!', addrs: [] },
        { kind: 'establish-seller', peerId: SELLER.peerId, addrs: ['ip4/1.2.3.4'] },
        { kind: 'establish-seller', peerId: SELLER.peerId, addrs: ['/'] },
        { kind: 'establish-seller', peerId: SELLER.peerId, addrs: ['/ip4/1.2.3.4', ''] },
        { kind: 'establish-seller', peerId: SELLER.peerId, addrs: ['/a b'] },
        { kind: 'establish-seller', peerId: SELLER.peerId, addrs: Array(5).fill('/ip4/1.2.3.4') },
        { kind: 'establish-seller', peerId: SELLER.peerId, addrs: ['/' + 'x'.repeat(255)] },
        { kind: 'publish-secret', buyerSecret: '00' },
        {
          kind: 'transmit-finished',
          encResultHash: ENC_RESULT_HASH,
          encResultHashSig: 'AAAA',
          sealedResultKey: SEALED_RESULT_KEY
        },
        ...[
          'key',
          RESULT_KEY, // the plain key of bitwrk-tx-v1 before TX-23
          SEALED_RESULT_KEY.slice(2),
          SEALED_RESULT_KEY + '00',
          SEALED_RESULT_KEY.toUpperCase(),
          '04' + SEALED_RESULT_KEY.slice(2), // not a compressed point
          NOT_ON_CURVE + SEALED_RESULT_KEY.slice(66) // x has no y on secp256k1
        ].map(
          (sealedResultKey) =>
            ({
              kind: 'transmit-finished',
              encResultHash: ENC_RESULT_HASH,
              encResultHashSig: signReceipt(BUYER, TXID, ENC_RESULT_HASH),
              sealedResultKey
            }) as const
        )
      ] as const
      for (const content of bad) {
        const signer = content.kind === 'establish-buyer' ? BUYER : SELLER
        const r = applyMessage(txIn('WORKING'), signTxMessage(signer, TXID, content), NOW_IN_PHASE)
        assert.deepEqual(r, { ok: false, code: TxCode.BAD_ARGUMENT }, JSON.stringify(content))
      }
    })
  })

  describe('replay across kinds and transactions', () => {
    it('refuses a message of another transaction with TX_WRONG_TXID', () => {
      const other = transactionId('c'.repeat(64), 'd'.repeat(64))
      const msg = signTxMessage(BUYER, other, CONTENT['accept-result'])
      assert.deepEqual(applyMessage(freshTx(), msg, T0 + 1), { ok: false, code: TxCode.WRONG_TXID })
    })

    it('refuses a signed document whose kind was changed with TX_BAD_SIGNATURE', () => {
      const m = MESSAGES['accept-result']
      const document = m.document.replace('msg=accept-result', 'msg=reject-result')
      assert.deepEqual(applyMessage(txIn('UNVERIFIED'), { ...m, document }, NOW_IN_PHASE), {
        ok: false,
        code: TxCode.BAD_SIGNATURE
      })
    })

    it('refuses the buyer’s signed receipt presented as a message with TX_BAD_KIND', () => {
      const document = `kind=bitwrk-tx-v1&msg=receipt&txid=${TXID}&encresulthash=${ENC_RESULT_HASH}`
      const msg = { document, signature: signReceipt(BUYER, TXID, ENC_RESULT_HASH) }
      assert.deepEqual(applyMessage(txIn('UNVERIFIED'), msg, NOW_IN_PHASE), {
        ok: false,
        code: TxCode.BAD_KIND
      })
    })

    it('refuses documents of another domain (a bid, an original BitWrk message) with TX_BAD_KIND or TX_MALFORMED', () => {
      const bid = 'kind=bitwrk-bid-v1&msg=accept-result&txid=' + TXID
      const original = 'acceptresult=on&txid=' + TXID
      for (const [document, code] of [
        [bid, TxCode.BAD_KIND],
        [original, TxCode.BAD_KIND],
        ['', TxCode.MALFORMED]
      ] as const)
        assert.deepEqual(applyMessage(freshTx(), { document, signature: BUYER.sign(document) }, T0 + 1), {
          ok: false,
          code
        })
    })
  })

  it('refuses any message to a retired transaction with TX_RETIRED', () => {
    const r = retire(freshTx(), T0 + 60_000)
    assert.ok(r.ok)
    assert.deepEqual(applyMessage(r.tx, MESSAGES['accept-result'], T0 + 60_001), {
      ok: false,
      code: TxCode.RETIRED
    })
  })

  it('throws on a nowMs that is not a safe integer (a caller bug)', () => {
    assert.throws(() => applyMessage(freshTx(), MESSAGES['accept-result'], Number.NaN), TypeError)
  })
})
