import assert from 'node:assert/strict'
import { type DrillResult, drillLine, loadDrills, runDrill } from '../../scripts/drill.js'
import { drill as corruptChunks } from '../../scripts/drills/corrupt-chunks.js'
import { drill as crashRestart } from '../../scripts/drills/crash-restart.js'
import { drill as invalidBidFlood } from '../../scripts/drills/invalid-bid-flood.js'
import { drill as oversized } from '../../scripts/drills/oversized.js'
import { drill as partitionHeal } from '../../scripts/drills/partition-heal.js'
import { drill as replay } from '../../scripts/drills/replay.js'
import { drill as sellerKilled } from '../../scripts/drills/seller-killed-mid-transfer.js'
import { drill as slowPeer } from '../../scripts/drills/slow-peer.js'

/** Every drill at its small size (`{ small: true }`, as `npm run drill -- --quick`): about 40 s in all. */
describe('scripts/drills', function () {
  this.timeout(60_000)

  const small = async (d: typeof replay): Promise<DrillResult> => {
    const r = await runDrill(d, { small: true })
    assert.equal(r.passed, true, drillLine(d.name, r))
    return r
  }

  it('runs every other drill module found in scripts/drills/ at its small size', async () => {
    const named = new Set(
      [
        corruptChunks,
        crashRestart,
        invalidBidFlood,
        oversized,
        partitionHeal,
        replay,
        sellerKilled,
        slowPeer
      ].map((d) => d.name)
    )
    // a drill added later without a test of its own still runs in CI
    for (const d of (await loadDrills()).filter((x) => !named.has(x.name))) await small(d)
  })

  it('corrupt-chunks: the liar is reported, the fetch completes, no corrupted chunk is stored', async () => {
    const r = await small(corruptChunks)
    assert.equal(r.stored_corrupt, 0)
    assert.equal(r.liar_chunks_accepted, 0)
  })

  it('crash-restart: after SIGKILL the identity, transactions and chunks come back intact', async () => {
    const r = await small(crashRestart)
    assert.equal(r.identity_kept, true)
    assert.equal(r.duplicates, 0)
    assert.equal(r.chunks_corrupt_removed, 0)
  })

  it('seller-killed-mid-transfer: the work is bought again from the other seller, the dead one retires', async () => {
    const r = await small(sellerKilled)
    assert.equal(r.result_correct, true)
    assert.equal(r.retry_code, 'TRADE_SELLER_UNREACHABLE')
    assert.equal(r.first_tx_outcome, 'buyer-refunded')
    assert.equal(r.bids_reused, 0)
  })

  it('partition-heal: no bid in two transactions, the books converge after the heal', async () => {
    const r = await small(partitionHeal)
    assert.equal(r.converged, true)
    assert.equal(r.contested_bid_established_txs, 1)
  })

  it('replay: replayed bids and phase messages are ignored with their codes and change nothing', async () => {
    const r = await small(replay)
    assert.equal(r.accepted, 0)
    assert.equal(r.state_unchanged, true)
    assert.equal(r.new_transactions, 0)
  })

  it('oversized: every surface refuses oversized input with its code and the node keeps working', async () => {
    const r = await small(oversized)
    assert.equal(r.unexpected, 'none')
    assert.equal(r.honest_fetch_ok, true)
    assert.equal(r.honest_sync_ok, true)
  })

  it('slow-peer: stalled streams are cut, stream counts bounded, honest work goes on', async () => {
    const r = await small(slowPeer)
    assert.equal(r.streams_cut_late, 0)
    assert.equal(r.honest_fetch_failures, 0)
  })

  it('invalid-bid-flood: the attacker is graylisted and banned, no forged bid is delivered', async () => {
    // The throughput ratio is a timing figure: `npm run drill` judges it (the drill's `passed`);
    // on a shared CI machine the test asserts only the outcomes that do not depend on timing.
    const r = await runDrill(invalidBidFlood, { small: true })
    const line = drillLine(invalidBidFlood.name, r)
    assert.equal(r.attacker_graylisted, true, line)
    assert.equal(r.attacker_still_connected, 0, line)
    assert.equal(r.forged_delivered, 0, line)
    assert.equal(r.flood_sent, 2000, line)
    assert.ok(typeof r.ratio === 'number' && r.ratio > 0, line)
  })
})
