import assert from 'node:assert/strict'
import { runScenario } from '../../scripts/agreement/run.js'

/**
 * The `agreement` bench at a small size (issue 14): four node processes with an emulated
 * 50 ± 20 ms one-way delay on every link and crossing bids from every node. Every match both
 * parties saw must establish, every epoch agree, and no user see a late bid.
 */
describe('agreement under latency (scripts/agreement, small)', function () {
  this.timeout(180_000)

  it('establishes every match and agrees on every epoch at 50 ± 20 ms', async () => {
    const line = await runScenario({
      name: 'latency_50',
      nodes: 4,
      bidsPerSec: 12,
      loadMs: 6000,
      epochParams: { epochMs: 1000, settleMs: 1500 },
      delay: { meanMs: 50, jitterMs: 20 }
    })
    assert.ok(line.matches > 0, 'crossing bids matched')
    assert.equal(line.own_bids_late, 0)
    assert.equal(line.buys_failed, 0)
    assert.equal(line.nodes_off_chain, 0)
    assert.ok(line.agreement_share >= 0.99, `agreement share ${line.agreement_share}`)
    assert.notEqual(line.reconverge_ms, null)
  })
})
