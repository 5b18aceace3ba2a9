import assert from 'node:assert/strict'
import {
  applyMessage,
  isDue,
  outcomeOf,
  PHASES,
  type Phase,
  retire,
  TX_OUTCOMES,
  TxCode
} from '../../protocol/transaction/index.js'
import { BUYER, freshTx, MESSAGES, mustApply, PATHS, SELLER, snapshot, T0, TERMS, txIn } from './helpers.js'

/** The original's outcomes (notes §4.6, §4.9), written out independently. */
const EXPECTED: Record<Phase, [string, string, 'buyer' | 'seller' | null]> = {
  ESTABLISHING: ['buyer-refunded', 'not-established', null],
  BUYER_ESTABLISHED: ['buyer-refunded', 'not-established', null],
  SELLER_ESTABLISHED: ['buyer-refunded', 'not-established', null],
  TRANSMITTING: ['buyer-refunded', 'not-delivered', null],
  WORKING: ['buyer-refunded', 'not-delivered', null],
  UNVERIFIED: ['seller-paid', 'unverified-timeout', null],
  FINISHED: ['seller-paid', 'accepted', null],
  WORK_DISPUTED: ['disputed', 'work-rejected', 'seller'],
  RESULT_DISPUTED: ['disputed', 'result-rejected', 'buyer']
}

describe('transaction retirement', () => {
  it('defines an outcome for every phase', () => {
    assert.deepEqual(Object.keys(TX_OUTCOMES).sort(), [...PHASES].sort())
  })

  for (const phase of PHASES)
    it(`retires in ${phase} at its deadline as ${EXPECTED[phase][0]} (${EXPECTED[phase][1]})`, () => {
      const tx = txIn(phase)
      const before = snapshot(tx)
      assert.equal(isDue(tx, tx.deadlineMs - 1), false)
      assert.deepEqual(retire(tx, tx.deadlineMs - 1), { ok: false, code: TxCode.NOT_DUE })
      assert.equal(isDue(tx, tx.deadlineMs), true)
      const r = retire(tx, tx.deadlineMs)
      assert.ok(r.ok)
      const done = r.tx
      assert.deepEqual(snapshot(tx), before, 'input unchanged')
      assert.equal(done.state, 'retired')
      assert.equal(done.phase, phase)
      assert.equal(done.revision, tx.revision + 1)
      assert.equal(done.retiredMs, tx.deadlineMs)
      const o = done.outcome
      assert.ok(o)
      assert.deepEqual([o.result, o.reason, o.disputedBy], EXPECTED[phase])
      assert.equal(o.phase, phase)
      assert.deepEqual(
        o.evidence.map((e) => e.kind),
        PATHS[phase]
      )
      if (o.result === 'seller-paid')
        assert.deepEqual(o.debt, { debtor: BUYER.address, creditor: SELLER.address, amount: TERMS.price })
      else assert.equal(o.debt, null)
      assert.deepEqual(outcomeOf(done), o)
      assert.deepEqual(outcomeOf(tx), o, 'outcomeOf predicts the outcome before retirement')
      assert.deepEqual(retire(done, done.deadlineMs + 1), { ok: false, code: TxCode.RETIRED })
      assert.equal(isDue(done, done.deadlineMs + 1), false)
    })

  it('makes terminal phases due at once: a transaction accepted at t retires at t', () => {
    const tx = mustApply(freshTx(), MESSAGES['accept-result'], T0 + 5_000)
    assert.ok(isDue(tx, T0 + 5_000))
    assert.ok(retire(tx, T0 + 5_000).ok)
  })

  it('pays the seller when the buyer accepts in any phase before UNVERIFIED (notes §4.6)', () => {
    for (const phase of [
      'ESTABLISHING',
      'BUYER_ESTABLISHED',
      'SELLER_ESTABLISHED',
      'TRANSMITTING',
      'WORKING'
    ] as const) {
      const tx = mustApply(txIn(phase), MESSAGES['accept-result'], T0 + 30_000)
      const r = retire(tx, T0 + 30_000)
      assert.ok(r.ok)
      assert.equal(r.tx.outcome?.result, 'seller-paid')
    }
  })

  it('makes RESULT_DISPUTED reachable: the buyer rejecting the result is recorded as its dispute', () => {
    const tx = txIn('RESULT_DISPUTED')
    assert.deepEqual(tx.evidence.map((e) => [e.from, e.to]).at(-1), ['UNVERIFIED', 'RESULT_DISPUTED'])
    const r = retire(tx, tx.deadlineMs)
    assert.ok(r.ok)
    assert.equal(r.tx.outcome?.disputedBy, 'buyer')
    // The seller still holds the evidence of delivery: the buyer's receipt in transmit-finished.
    assert.ok(r.tx.outcome?.evidence.some((e) => e.kind === 'transmit-finished'))
  })

  it('ends every transaction within 23 minutes of its match', () => {
    let worst = 0
    for (const phase of PHASES) worst = Math.max(worst, txIn(phase).deadlineMs - T0)
    assert.ok(worst <= 23 * 60_000)
  })

  it('refuses messages after retirement and never changes the retired record', () => {
    const r = retire(freshTx(), T0 + 60_000)
    assert.ok(r.ok)
    const before = snapshot(r.tx)
    for (const m of Object.values(MESSAGES))
      assert.deepEqual(applyMessage(r.tx, m, T0 + 60_001), { ok: false, code: TxCode.RETIRED })
    assert.deepEqual(snapshot(r.tx), before)
  })
})
