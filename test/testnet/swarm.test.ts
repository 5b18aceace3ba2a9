import assert from 'node:assert/strict'
import { runSwarm } from '../../scripts/bench/swarm.js'

/**
 * The `swarm` bench at a small size (issue 16 §2): 1 buyer, 3 sellers, 4 tiles sharing one
 * 2 MiB asset, on real daemons, once with the swarm and once with sellers that do not
 * re-provide (`--no-provide`). Needs the daemon bundle (`npm run build`), as the testnet test.
 */
describe('scripts/bench/swarm (small)', function () {
  // two 4-node testnets: ~20 s each on a 2-core machine
  this.timeout(150_000)

  it('buys tiles sharing an asset: images match, and the buyer uploads less than sellers × asset', async () => {
    const sellers = 3
    const f = await runSwarm({ sellers, tiles: 4, assetMib: 2 })
    assert.equal(f.images_match, true)
    assert.ok(
      f.buyer_upload_bytes_per_asset_byte < sellers,
      `the buyer uploaded ${f.buyer_upload_bytes_per_asset_byte} × the asset with the swarm`
    )
    // the baseline measures something: every seller that sold a tile fetched the asset from the buyer
    assert.ok(f.without_swarm >= 1, `baseline ${f.without_swarm}`)
    assert.ok(f.wall_ms > 0 && f.wall_ms_without_swarm > 0)
  })
})
