import assert from 'node:assert/strict'
import { drillLine, runDrill } from '../../scripts/drill.js'
import { drill as corruptChunks } from '../../scripts/drills/corrupt-chunks.js'
import { drill as crashRestart } from '../../scripts/drills/crash-restart.js'

// The two cheapest drills at small sizes (each a few seconds); the others run via `npm run drill`.
describe('scripts/drills', function () {
  this.timeout(60_000)

  it('corrupt-chunks: the liar is reported, the fetch completes, no corrupted chunk is stored', async () => {
    const r = await runDrill(corruptChunks, { small: true })
    assert.equal(r.passed, true, drillLine(corruptChunks.name, r))
    assert.equal(r.stored_corrupt, 0)
    assert.equal(r.liar_chunks_accepted, 0)
  })

  it('crash-restart: after SIGKILL the identity, transactions and chunks come back intact', async () => {
    const r = await runDrill(crashRestart, { small: true })
    assert.equal(r.passed, true, drillLine(crashRestart.name, r))
    assert.equal(r.identity_kept, true)
    assert.equal(r.duplicates, 0)
    assert.equal(r.chunks_corrupt_removed, 0)
  })
})
