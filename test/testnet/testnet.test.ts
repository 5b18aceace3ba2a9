import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The compiled testnet script (this file runs from dist/test/testnet/). */
const TESTNET = fileURLToPath(new URL('../../scripts/testnet.js', import.meta.url))

/** Deadline of the whole run (3 processes, 2 tiles: ~10 s on a 2-core machine, measured). */
const RUN_TIMEOUT_MS = 55_000

describe('scripts/testnet', function () {
  this.timeout(RUN_TIMEOUT_MS + 5_000)
  let out: string | undefined
  after(async () => {
    if (out !== undefined) await rm(out, { recursive: true, force: true })
  })

  it('runs 3 node processes, buys 2 tiles over the real trade and reproduces the reference image', async () => {
    out = await mkdtemp(join(tmpdir(), 'bitwrk-testnet-out-'))
    const dir = out
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve, reject) => {
      execFile(
        process.execPath,
        [TESTNET, '--nodes', '3', '--jobs', '2', '--json', '--out', dir],
        { timeout: RUN_TIMEOUT_MS, encoding: 'utf8', killSignal: 'SIGINT' },
        (err, so, se) => {
          if (err !== null && typeof err.code !== 'number') reject(new Error(`testnet failed: ${se}`))
          else resolve({ code: err === null ? 0 : (err.code as number), stdout: so })
        }
      )
    })
    const last = stdout.trim().split('\n').at(-1) ?? ''
    const s = JSON.parse(last) as Record<string, unknown>
    assert.deepEqual(Object.keys(s), [
      'nodes',
      'jobs',
      'finished',
      'failed',
      'image_matches_reference',
      'match_digests_agree',
      'epochs_compared',
      'epochs_all_agree_share',
      'nodes_off_chain',
      'trade_latency_ms',
      'trades_per_s'
    ])
    assert.equal(s['finished'], 2)
    assert.equal(s['failed'], 0)
    assert.equal(s['image_matches_reference'], true)
    assert.equal(s['match_digests_agree'], true)
    assert.equal(s['epochs_all_agree_share'], 1)
    assert.equal(s['nodes_off_chain'], 0)
    assert.equal(code, 0)
    assert.ok(existsSync(join(dir, 'image.png')))
  })
})
