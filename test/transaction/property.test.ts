import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  applyMessage,
  deadlineAfter,
  type MessageKind,
  nextPhase,
  PHASES,
  retire,
  signReceipt,
  signTxMessage,
  TRANSITIONS,
  type Transaction,
  type TxMessage,
  transactionId
} from '../../protocol/transaction/index.js'
import {
  BUYER,
  CONTENT,
  ENC_RESULT_HASH,
  freshTx,
  MESSAGES,
  SEALED_RESULT_KEY,
  SELLER,
  SIGNER,
  snapshot,
  T0,
  TXID
} from './helpers.js'

/** A message together with whether a correct machine may ever accept it. */
interface Candidate {
  readonly kind: MessageKind
  readonly message: TxMessage
  readonly valid: boolean
}

const OTHER_TX = transactionId('c'.repeat(64), 'd'.repeat(64))

/** Valid messages of every kind, and for each kind some that must always be refused. */
const POOL: readonly Candidate[] = [
  ...Object.entries(MESSAGES).map(([kind, message]) => ({ kind: kind as MessageKind, message, valid: true })),
  ...Object.entries(CONTENT).flatMap(([k, content]) => {
    const kind = k as MessageKind
    const other = SIGNER[kind] === BUYER ? SELLER : BUYER
    const good = MESSAGES[kind]
    return [
      { kind, message: signTxMessage(other, TXID, content), valid: false },
      {
        kind,
        message: { ...good, signature: MESSAGES['reject-work'].signature },
        valid: kind === 'reject-work'
      },
      { kind, message: signTxMessage(SIGNER[kind], OTHER_TX, content), valid: false }
    ]
  }),
  {
    kind: 'publish-secret',
    message: signTxMessage(SELLER, TXID, { kind: 'publish-secret', buyerSecret: 'ab'.repeat(32) }),
    valid: false
  },
  {
    kind: 'transmit-finished',
    message: signTxMessage(SELLER, TXID, {
      kind: 'transmit-finished',
      encResultHash: ENC_RESULT_HASH,
      encResultHashSig: signReceipt(SELLER, TXID, ENC_RESULT_HASH),
      sealedResultKey: SEALED_RESULT_KEY
    }),
    valid: false
  }
]

type Step =
  | { readonly action: 'message'; readonly index: number; readonly dt: number }
  | { readonly action: 'retire'; readonly dt: number }

const dt = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 20_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 10 * 60_000 }) }
)
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({ action: fc.constant('message' as const), index: fc.nat(POOL.length - 1), dt })
  },
  { weight: 1, arbitrary: fc.record({ action: fc.constant('retire' as const), dt }) }
)

/** Invariants every reachable record satisfies. */
function checkRecord(tx: Transaction): void {
  assert.ok(PHASES.includes(tx.phase))
  assert.equal(tx.revision, tx.evidence.length + (tx.state === 'retired' ? 1 : 0))
  let phase = 'ESTABLISHING'
  for (const e of tx.evidence) {
    assert.equal(e.from, phase)
    assert.equal(nextPhase(e.from, e.kind), e.to)
    assert.equal(TRANSITIONS[e.kind].party, e.party)
    phase = e.to
  }
  assert.equal(tx.phase, phase)
  assert.equal(tx.outcome === null, tx.state === 'active')
}

describe('transaction phase machine (property)', () => {
  it('never leaves the table, accepts exactly what the table allows, and refusals change nothing', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 14 }), (steps) => {
        let tx = freshTx()
        let now = T0
        for (const s of steps) {
          now += s.dt
          const before = snapshot(tx)
          if (s.action === 'retire') {
            const r = retire(tx, now)
            assert.equal(r.ok, tx.state === 'active' && now >= tx.deadlineMs)
            if (r.ok) tx = r.tx
            else assert.deepEqual(snapshot(tx), before)
          } else {
            const c = POOL[s.index]
            assert.ok(c)
            const r = applyMessage(tx, c.message, now)
            const to = nextPhase(tx.phase, c.kind)
            const allowed = c.valid && tx.state === 'active' && to !== undefined && now < tx.deadlineMs
            assert.equal(r.ok, allowed, r.ok ? 'accepted' : r.code)
            if (r.ok) {
              assert.equal(r.tx.phase, to)
              assert.equal(r.tx.deadlineMs, deadlineAfter(r.tx.phase, tx.deadlineMs, now))
              assert.deepEqual(snapshot(tx), before)
              tx = r.tx
            } else assert.deepEqual(snapshot(tx), before)
          }
          checkRecord(tx)
        }
      }),
      { numRuns: 150 }
    )
  })
})
