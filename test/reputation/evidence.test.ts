import assert from 'node:assert/strict'
import { isBitwrkError } from '../../protocol/errors.js'
import {
  equivocationEvent,
  groupEvents,
  localEvent,
  ReputationCode,
  type ReputationCounter,
  transactionEvents
} from '../../protocol/reputation/index.js'
import {
  applyMessage,
  createTransaction,
  PHASES,
  type Phase,
  restoreTransaction,
  retire,
  signTxMessage,
  type Transaction
} from '../../protocol/transaction/index.js'
import {
  BUYER,
  CONTENT,
  MESSAGES,
  mustApply,
  PATHS,
  SELLER,
  T0,
  TERMS,
  TXID,
  txIn
} from '../transaction/helpers.js'

/** The events of each retirement phase (REP-7), written out independently: [buyer, seller]. */
const EXPECTED: Record<Phase, [ReputationCounter[], ReputationCounter[]]> = {
  ESTABLISHING: [[], []],
  BUYER_ESTABLISHED: [[], ['noShows']],
  SELLER_ESTABLISHED: [['noShows'], []],
  TRANSMITTING: [[], []],
  WORKING: [[], ['latePhases']],
  UNVERIFIED: [['latePhases'], ['finished']],
  // The fixture reaches FINISHED by an acceptance without delivery: nobody is credited.
  FINISHED: [[], []],
  WORK_DISPUTED: [['rejectedWork'], ['rejectedWork']],
  RESULT_DISPUTED: [['rejectedResults'], ['rejectedResults']]
}

function retired(tx: Transaction): Transaction {
  const r = retire(tx, tx.deadlineMs)
  assert.ok(r.ok)
  return r.tx
}

function split(tx: Transaction): [ReputationCounter[], ReputationCounter[]] {
  const events = transactionEvents(tx)
  for (const e of events) {
    assert.equal(e.scope, 'global')
    assert.equal(e.source, `tx:${TXID}`)
    assert.equal(e.subject.kind, 'address')
  }
  return [
    events.filter((e) => e.subject.id === BUYER.address).map((e) => e.counter),
    events.filter((e) => e.subject.id === SELLER.address).map((e) => e.counter)
  ]
}

describe('reputation evidence', () => {
  for (const phase of PHASES)
    it(`derives ${JSON.stringify(EXPECTED[phase])} from a transaction retired in ${phase}`, () => {
      assert.deepEqual(split(retired(txIn(phase))), EXPECTED[phase])
    })

  it('credits both parties when the buyer accepts a delivered result', () => {
    const tx = mustApply(txIn('UNVERIFIED'), MESSAGES['accept-result'], T0 + 10_000)
    assert.equal(tx.phase, 'FINISHED')
    assert.deepEqual(split(retired(tx)), [['finished'], ['finished']])
  })

  it('credits nobody for an acceptance before any delivery, in every phase that allows it', () => {
    for (const phase of [
      'ESTABLISHING',
      'BUYER_ESTABLISHED',
      'SELLER_ESTABLISHED',
      'TRANSMITTING',
      'WORKING'
    ] as const) {
      const tx = mustApply(txIn(phase), MESSAGES['accept-result'], T0 + 10_000)
      assert.deepEqual(split(retired(tx)), [[], []], phase)
    }
  })

  it('charges the seller who rejects work after publishing the secret, and the buyer, alike', () => {
    const tx = mustApply(txIn('WORKING'), MESSAGES['reject-work'], T0 + 10_000)
    assert.deepEqual(split(retired(tx)), [['rejectedWork'], ['rejectedWork']])
  })

  it('derives the same events on every node that accepted the same signed messages', () => {
    for (const phase of PHASES) {
      const mine = retired(txIn(phase))
      // Another node received the same messages at other times and retired later.
      const theirs = restoreTransaction(
        TERMS,
        mine.evidence.map((e, i) => ({ ...e, receivedMs: T0 + 20_000 + i * 7 })),
        (mine.retiredMs ?? 0) + 123_456
      )
      assert.deepEqual(transactionEvents(theirs), transactionEvents(mine), phase)
    }
  })

  it('derives nothing from a self-trade, where a no-show would otherwise count', () => {
    const self = { ...TERMS, seller: BUYER.address, sellerPeerId: BUYER.peerId }
    let tx = createTransaction(self)
    tx = mustApply(tx, signTxMessage(BUYER, tx.id, CONTENT['establish-buyer']), T0 + 1_000)
    assert.deepEqual(transactionEvents(retired(tx)), [])
  })

  it('refuses to derive events from an active transaction', () => {
    const tx = txIn('WORKING')
    assert.throws(
      () => transactionEvents(tx),
      (e) => isBitwrkError(e, ReputationCode.NOT_RETIRED)
    )
  })

  it('does not change the transaction', () => {
    const tx = retired(txIn('RESULT_DISPUTED'))
    const before = structuredClone(tx)
    transactionEvents(tx)
    assert.deepEqual(structuredClone(tx), before)
    assert.ok(!applyMessage(tx, MESSAGES['accept-result'], T0).ok)
  })

  it('builds local events only for counters a node may observe itself', () => {
    const peer = { kind: 'peer' as const, id: SELLER.peerId }
    const e = localEvent(peer, 'wrongChunks', 'wrong-chunk')
    assert.deepEqual(e, {
      subject: peer,
      counter: 'wrongChunks',
      scope: 'local',
      source: 'local:wrong-chunk'
    })
    for (const c of ['latePhases', 'rejectedResults', 'invalidGossip'] as const)
      assert.equal(localEvent(peer, c, 'x').scope, 'local')
    for (const c of ['finished', 'noShows', 'rejectedWork', 'equivocations'])
      assert.throws(
        () => localEvent(peer, c as 'wrongChunks', 'x'),
        (err) => isBitwrkError(err, ReputationCode.BAD_ARGUMENT),
        c
      )
  })

  it('groups events into one increment per subject, global events once per source', () => {
    const tx = retired(txIn('RESULT_DISPUTED'))
    const proofId = 'f'.repeat(64)
    const deltas = groupEvents([
      ...transactionEvents(tx),
      ...transactionEvents(tx),
      equivocationEvent(BUYER.address, proofId),
      equivocationEvent(BUYER.address, proofId),
      localEvent({ kind: 'peer', id: SELLER.peerId }, 'wrongChunks', 'wrong-chunk'),
      localEvent({ kind: 'peer', id: SELLER.peerId }, 'wrongChunks', 'wrong-chunk')
    ])
    assert.deepEqual(deltas, [
      {
        subject: { kind: 'address', id: BUYER.address },
        add: { rejectedResults: 1, equivocations: 1 },
        evidenceIds: [proofId]
      },
      { subject: { kind: 'address', id: SELLER.address }, add: { rejectedResults: 1 }, evidenceIds: [] },
      { subject: { kind: 'peer', id: SELLER.peerId }, add: { wrongChunks: 2 }, evidenceIds: [] }
    ])
    assert.deepEqual(groupEvents([]), [])
    assert.equal(PATHS.RESULT_DISPUTED.length, tx.evidence.length)
  })
})
