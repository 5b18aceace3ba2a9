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
  /** Every run's output directory, all removed at the end. */
  const outs: string[] = []

  before(function () {
    requireInternet(this)
  })

  after(async () => {
    await Promise.all(outs.map((d) => rm(d, { recursive: true, force: true })))
  })

  /** Runs the testnet with `args` (and `--json --out`), checks nothing is left behind, returns its summary. */
  async function run(
    args: string[]
  ): Promise<{ code: number; s: Record<string, unknown>; stderr: string; dir: string }> {
    const initial = await listNamespaces()
    const dir = await mkdtemp(join(tmpdir(), 'bitwrk-testnet-internet-'))
    outs.push(dir)
    let child = 0
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve, reject) => {
        child = execFile(
          process.execPath,
          [TESTNET, '--internet', ...args, '--json', '--out', dir],
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
    return { code, s, stderr, dir }
  }

  it('a buyer behind a NAT buys from sellers on public nodes; gossip crosses the NATs; nothing is left behind', async () => {
    const { code, s, stderr, dir } = await run(['--public-sellers', '--jobs', '2'])
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

  it('sellers behind other NATs: every trade runs over a direct WebRTC connection, none over the relay', async () => {
    const { code, s, stderr } = await run(['--random-nat', 'none', '--jobs', '3'])
    assert.equal(s['finished'], 3, stderr)
    assert.equal(s['image_matches_reference'], true)
    assert.equal(s['match_digests_agree'], true)
    const trades = s['trades'] as { buyer_nat: boolean; seller_nat: boolean }[]
    assert.ok(trades.length >= 3 && trades.every((t) => t.buyer_nat && t.seller_nat), stderr)
    assert.ok((s['direct_upgrades'] as number) >= 1, stderr)
    assert.equal(s['direct_upgrades'], s['direct_upgrade_attempts'], stderr)
    assert.ok((s['trades_direct'] as number) >= 3, stderr)
    assert.equal(s['trades_over_relay'], 0, stderr)
    // NET-4: the public nodes were told no private or loopback address of any peer
    assert.equal(s['private_addrs_at_public_nodes'], 0, stderr)
    assert.equal(code, 0)
  })

  it('NATed nodes without a reachable relay report it (NO_RELAY) and the NATed buyer still buys from public sellers', async () => {
    const { code, s, stderr } = await run(['--public-sellers', '--no-relays', '--jobs', '2'])
    assert.equal(s['nat_nodes_without_relay'], 4, stderr)
    assert.equal(s['finished'], 2, stderr)
    assert.equal(s['image_matches_reference'], true)
    assert.equal(s['relayed_connections'], 0, stderr)
    assert.equal(code, 0)
  })

  it('a public buyer buys from sellers behind NATs (even the fully-random one) over direct connections', async () => {
    const { code, s, stderr } = await run(['--public-nodes', '3', '--public-buyer', '--jobs', '3'])
    assert.equal(s['nat_nodes'], 4)
    assert.equal(s['finished'], 3, stderr)
    assert.equal(s['image_matches_reference'], true)
    const trades = s['trades'] as { buyer_nat: boolean; seller_nat: boolean }[]
    assert.ok(trades.length >= 3 && trades.every((t) => !t.buyer_nat && t.seller_nat), stderr)
    assert.ok((s['trades_direct'] as number) >= 3, stderr)
    assert.equal(s['trades_over_relay'], 0, stderr)
    assert.equal(s['private_addrs_at_public_nodes'], 0, stderr)
    assert.equal(code, 0)
  })

  it('a seller behind a fully-random NAT: hole punching fails, the small demo trades run over the relay (TRADE-20)', async () => {
    const { code, s, stderr } = await run(['--homes', '2', '--per-home', '1,1', '--jobs', '2'])
    assert.equal(s['nat_nodes'], 2)
    assert.equal(s['finished'], 2, stderr)
    assert.equal(s['image_matches_reference'], true)
    assert.equal(s['direct_upgrades'], 0, stderr)
    assert.ok((s['direct_upgrade_attempts'] as number) >= 1, stderr)
    assert.equal(s['trades_direct'], 0, stderr)
    assert.ok((s['trades_over_relay'] as number) >= 2, stderr)
    assert.equal(code, 0)
  })
})
