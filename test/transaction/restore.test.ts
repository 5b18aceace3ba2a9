import assert from 'node:assert/strict'
import { isBitwrkError } from '../../protocol/errors.js'
import {
  PHASES,
  restoreTransaction,
  retire,
  signTxMessage,
  TxCode,
  validateTxMessage
} from '../../protocol/transaction/index.js'
import { CONTENT, freshTx, MESSAGES, SELLER, STRANGER, snapshot, T0, TERMS, TXID, txIn } from './helpers.js'

describe('transaction validation and restore', () => {
  it('accepts a valid message with the new record', () => {
    const v = validateTxMessage(freshTx(), MESSAGES['establish-buyer'], T0 + 1)
    assert.equal(v.result, 'accept')
    assert.equal(v.result === 'accept' && v.tx.phase, 'BUYER_ESTABLISHED')
  })

  it('ignores view-dependent refusals and rejects provable misbehaviour', () => {
    const tx = freshTx()
    assert.deepEqual(validateTxMessage(tx, MESSAGES['reject-result'], T0 + 1), {
      result: 'ignore',
      code: TxCode.WRONG_PHASE
    })
    assert.deepEqual(validateTxMessage(tx, MESSAGES['accept-result'], T0 + 60_000), {
      result: 'ignore',
      code: TxCode.EXPIRED
    })
    assert.deepEqual(validateTxMessage(tx, signTxMessage(SELLER, TXID, CONTENT['accept-result']), T0 + 1), {
      result: 'reject',
      code: TxCode.WRONG_PARTY
    })
    assert.deepEqual(validateTxMessage(tx, signTxMessage(STRANGER, TXID, CONTENT['accept-result']), T0 + 1), {
      result: 'reject',
      code: TxCode.BAD_SIGNATURE
    })
    const forged = { ...MESSAGES['accept-result'], signature: MESSAGES['reject-result'].signature }
    assert.deepEqual(validateTxMessage(tx, forged, T0 + 1), { result: 'reject', code: TxCode.BAD_SIGNATURE })
  })

  for (const phase of PHASES)
    it(`restores a transaction in ${phase} from its terms and evidence, active and retired`, () => {
      const tx = txIn(phase)
      assert.deepEqual(snapshot(restoreTransaction(TERMS, tx.evidence)), snapshot(tx))
      const r = retire(tx, tx.deadlineMs)
      assert.ok(r.ok)
      assert.deepEqual(snapshot(restoreTransaction(TERMS, r.tx.evidence, r.tx.retiredMs)), snapshot(r.tx))
    })

  it('refuses stored evidence that does not replay', () => {
    const ev = txIn('WORKING').evidence
    const cases: [typeof ev, string][] = [
      [[ev[1]!, ev[0]!, ev[2]!], TxCode.WRONG_PHASE],
      [[ev[0]!, ev[1]!, { ...ev[2]!, to: 'FINISHED' }], TxCode.WRONG_PHASE],
      [[ev[0]!, { ...ev[1]!, receivedMs: T0 + 61_000 }], TxCode.EXPIRED],
      [
        [
          {
            ...ev[0]!,
            message: { ...ev[0]!.message, signature: ev[1]!.message.signature }
          }
        ],
        TxCode.BAD_SIGNATURE
      ]
    ]
    for (const [evidence, code] of cases)
      assert.throws(
        () => restoreTransaction(TERMS, evidence),
        (e: unknown) => isBitwrkError(e, code)
      )
    assert.throws(
      () => restoreTransaction(TERMS, ev, T0),
      (e: unknown) => isBitwrkError(e, TxCode.NOT_DUE)
    )
  })
})
