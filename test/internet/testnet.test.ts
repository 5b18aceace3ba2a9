import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { listNamespaces } from '../../scripts/testnet/internet/index.js'
import { ownView, requireInternet } from './helpers.js'

/** The compiled testnet script (this file runs from dist/test/internet/). */
const TESTNET = fileURLToPath(new URL('../../scripts/testnet.js', import.meta.url))

/** Deadline of the whole run (6 daemons, 2 tiles: ~20 s on a 2-core machine, measured). */
const RUN_TIMEOUT_MS = 90_000

describe('scripts/testnet --internet', function () {
  this.timeout(RUN_TIMEOUT_MS + 10_000)
  let out: string | undefined

  before(function () {
    requireInternet(this)
  })

  after(async () => {
    if (out !== undefined) await rm(out, { recursive: true, force: true })
  })

  it('a buyer behind a NAT buys from sellers on public nodes; gossip crosses the NATs; nothing is left behind', async () => {
    const initial = await listNamespaces()
    out = await mkdtemp(join(tmpdir(), 'bitwrk-testnet-internet-'))
    const dir = out
    let child = 0
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve, reject) => {
        child = execFile(
          process.execPath,
          [TESTNET, '--internet', '--public-sellers', '--jobs', '2', '--json', '--out', dir],
          { timeout: RUN_TIMEOUT_MS, encoding: 'utf8', killSignal: 'SIGINT' },
          (err, so, se) => {
            if (err !== null && typeof err.code !== 'number') reject(new Error(`testnet failed: ${se}`))
            else resolve({ code: err === null ? 0 : (err.code as number), stdout: so, stderr: se })
          }
        ).pid as number
      }
    )
    assert.deepEqual(ownView(await listNamespaces(), initial, [child]), initial)
    const s = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>
    assert.equal(s['nodes'], 6, stderr)
    assert.equal(s['nat_nodes'], 4)
    assert.equal(s['finished'], 2, stderr)
    assert.equal(s['image_matches_reference'], true)
    assert.equal(s['match_digests_agree'], true)
    assert.equal(s['nodes_off_chain'], 0)
    assert.match(stderr, /every node's book holds the 2 sellers' offers/)
    assert.equal(code, 0)
    assert.ok(existsSync(join(dir, 'image.png')))
  })
})
