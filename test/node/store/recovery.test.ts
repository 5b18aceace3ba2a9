import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { openDataDir } from '../../../node/store/index.js'
import { PHASES, type Phase, TERMINAL_PHASES, type Transaction } from '../../../protocol/transaction/index.js'
import { driveTo, T0, tempDir, termsN } from './helpers.js'

/** Outcome of retiring in each phase (the original's rules, notes §4.6), written out independently. */
const EXPECTED_OUTCOME: Record<Phase, [string, string]> = {
  ESTABLISHING: ['buyer-refunded', 'not-established'],
  BUYER_ESTABLISHED: ['buyer-refunded', 'not-established'],
  SELLER_ESTABLISHED: ['buyer-refunded', 'not-established'],
  TRANSMITTING: ['buyer-refunded', 'not-delivered'],
  WORKING: ['buyer-refunded', 'not-delivered'],
  UNVERIFIED: ['seller-paid', 'unverified-timeout'],
  FINISHED: ['seller-paid', 'accepted'],
  WORK_DISPUTED: ['disputed', 'work-rejected'],
  RESULT_DISPUTED: ['disputed', 'result-rejected']
}

const random = (n: number) => new Uint8Array(randomBytes(n))

describe('node/store restart recovery', () => {
  let dir: string
  beforeEach(async () => {
    dir = await tempDir()
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** Stores one open transaction in every phase (terminal ones still active: crashed before retiring). */
  async function storeAll(): Promise<Map<Phase, Transaction>> {
    const data = await openDataDir(dir, { nowMs: T0, random })
    const byPhase = new Map<Phase, Transaction>()
    for (const [i, phase] of PHASES.entries()) {
      const tx = driveTo(termsN(100 + i), phase)
      await data.transactions.save(tx)
      byPhase.set(phase, tx)
    }
    assert.equal((await data.transactions.openIds()).length, PHASES.length)
    await data.close()
    return byPhase
  }

  it('resumes every non-terminal transaction before its deadline and retires the terminal ones at once', async () => {
    const txs = await storeAll()
    // One ms before the earliest non-terminal deadline (ESTABLISHING: matched + 60 s).
    const nowMs =
      Math.min(...[...txs.values()].filter((t) => !TERMINAL_PHASES.has(t.phase)).map((t) => t.deadlineMs)) - 1
    const data = await openDataDir(dir, { nowMs, random })
    try {
      const { resumed, retired, corrupt } = data.report.recovery
      assert.deepEqual(corrupt, [])
      assert.deepEqual(
        resumed.map((t) => t.phase).sort(),
        PHASES.filter((p) => !TERMINAL_PHASES.has(p)).sort()
      )
      for (const t of resumed) assert.deepEqual(t, txs.get(t.phase))
      assert.deepEqual(retired.map((t) => t.outcome?.phase).sort(), [...TERMINAL_PHASES].sort())
      for (const t of retired) {
        assert.equal(t.state, 'retired')
        assert.equal(t.retiredMs, nowMs)
        assert.deepEqual([t.outcome?.result, t.outcome?.reason], EXPECTED_OUTCOME[t.phase])
        assert.deepEqual(t.outcome?.evidence, txs.get(t.phase)?.evidence)
      }
      assert.equal((await data.transactions.openIds()).length, resumed.length)
    } finally {
      await data.close()
    }
  })

  it('retires every transaction whose deadline passed while the node was down, with the phase outcome', async () => {
    const txs = await storeAll()
    const nowMs = Math.max(...[...txs.values()].map((t) => t.deadlineMs))
    let data = await openDataDir(dir, { nowMs, random })
    const { resumed, retired } = data.report.recovery
    assert.deepEqual(resumed, [])
    assert.equal(retired.length, PHASES.length)
    for (const t of retired) {
      const before = txs.get(t.phase)!
      assert.equal(t.revision, before.revision + 1)
      assert.deepEqual([t.outcome?.result, t.outcome?.reason], EXPECTED_OUTCOME[t.phase])
      assert.equal(t.outcome?.debt === null, EXPECTED_OUTCOME[t.phase][0] !== 'seller-paid')
    }
    await data.close()
    // A second restart finds nothing open; the retired records replay to the same state.
    data = await openDataDir(dir, { nowMs: nowMs + 1, random })
    try {
      assert.deepEqual(data.report.recovery.resumed, [])
      assert.deepEqual(data.report.recovery.retired, [])
      for (const t of retired) assert.deepEqual(await data.transactions.get(t.id), t)
    } finally {
      await data.close()
    }
  })

  it('retires exactly at the deadline and not one ms before (TX-18)', async () => {
    const data0 = await openDataDir(dir, { nowMs: T0, random })
    const tx = driveTo(termsN(200), 'WORKING')
    await data0.transactions.save(tx)
    await data0.close()
    let data = await openDataDir(dir, { nowMs: tx.deadlineMs - 1, random })
    assert.deepEqual(
      data.report.recovery.resumed.map((t) => t.id),
      [tx.id]
    )
    await data.close()
    data = await openDataDir(dir, { nowMs: tx.deadlineMs, random })
    try {
      assert.deepEqual(
        data.report.recovery.retired.map((t) => t.id),
        [tx.id]
      )
    } finally {
      await data.close()
    }
  })
})
