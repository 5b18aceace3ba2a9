import assert from 'node:assert/strict'
import { drillLine, runDrill } from '../../scripts/drill.js'
import { drill as corruptChunks } from '../../scripts/drills/corrupt-chunks.js'

describe('scripts/drills', () => {
  it('corrupt-chunks: the liar is reported, the fetch completes, no corrupted chunk is stored', async () => {
    const r = await runDrill(corruptChunks, { small: true })
    assert.equal(r.passed, true, drillLine(corruptChunks.name, r))
    assert.equal(r.stored_corrupt, 0)
    assert.equal(r.liar_chunks_accepted, 0)
  })
})
