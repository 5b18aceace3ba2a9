import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { bytesToHex } from '@noble/hashes/utils.js'
import { type Daemon, startDaemon } from '../../node/daemon/index.js'
import { bidTopic, txTopic } from '../../node/gossip/index.js'
import { createLogger } from '../../node/logger.js'
import { loadKeyFile } from '../../node/store/identity.js'
import { waitFor, waitForMesh } from '../../node/testing.js'
import type { Identity } from '../../protocol/identity/index.js'
import { money } from '../../protocol/money/index.js'

const ARTICLE = 'net.bitwrk/drill/logs'
/** The compiled CLI entry point (this file runs from dist/test/security/). */
const CLI = fileURLToPath(new URL('../../cli/main.js', import.meta.url))

/** Every form a private key could take in a log line. */
function keyForms(id: Identity): string[] {
  const raw = Buffer.from(id.privateKey)
  return [id.toWif(), bytesToHex(id.privateKey), raw.toString('base64'), raw.toString('base64url')]
}

/**
 * Local security (issue 6): with logging at trace level, nodes that place, cancel and match
 * bids and establish a transaction never write a private key (WIF, hex, Base64) or a full
 * signature of a bid, cancel or transaction message into their logs; nor does the CLI daemon.
 */
describe('local security: logs', function () {
  this.timeout(60_000)
  const dirs: string[] = []
  const daemons: Daemon[] = []
  after(async () => {
    await Promise.all(daemons.map((d) => d.stop()))
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
  })
  const dir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'bitwrk-logs-'))
    dirs.push(d)
    return d
  }

  it('two daemons trading at trace level log no private key and no full signature', async () => {
    const lines: string[] = []
    const logger = createLogger({ level: 'trace', destination: { write: (l) => lines.push(l) } })
    const opts = { apiPort: 0, articles: [ARTICLE], epochParams: { epochMs: 250, settleMs: 1000 }, logger }
    const seller = await startDaemon({ ...opts, dataDir: await dir() })
    daemons.push(seller)
    const buyer = await startDaemon({ ...opts, dataDir: await dir(), bootstrap: seller.info.listen })
    daemons.push(buyer)
    const hosts = [seller.node.host, buyer.node.host]
    await waitForMesh(hosts, bidTopic(ARTICLE), 15_000)
    await waitForMesh(hosts, txTopic(ARTICLE), 15_000)

    let established = 0
    for (const d of daemons) d.node.market.addEventListener('tx:established', () => established++)
    const signatures: string[] = []
    const sell = await seller.node.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 900n) })
    signatures.push(sell.signature)
    await waitFor(() => buyer.node.book.get(sell.id) !== undefined, {
      timeoutMs: 10_000,
      what: 'sell at the buyer'
    })
    const buy = await buyer.node.placeBid({
      article: ARTICLE,
      side: 'BUY',
      price: money('BTC', 1000n),
      work: { workHash: 'ab'.repeat(32), buyerSecret: 'cd'.repeat(32) }
    })
    signatures.push(buy.signature)
    await waitFor(() => established >= 2, { timeoutMs: 20_000, what: 'transaction established at both' })
    // a cancelled bid too
    const other = await seller.node.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 5000n) })
    signatures.push(other.signature)
    await seller.node.cancelBid(other.id)
    for (const d of daemons)
      for (const e of d.node.market.txs.list())
        for (const ev of e.tx.evidence) signatures.push(ev.message.signature)
    const secrets = daemons.flatMap((d) => keyForms(d.node.identity))
    await Promise.all(daemons.splice(0).map((d) => d.stop()))

    const text = lines.join('')
    assert.ok(lines.length > 20, `only ${lines.length} log lines`)
    // the buyer's secret is a secret too until the seller needs it (TX-15)
    for (const s of [...secrets, 'cd'.repeat(32)])
      assert.ok(!text.includes(s), 'a private key or secret was logged')
    assert.ok(signatures.length >= 5)
    for (const s of signatures) assert.ok(!text.includes(s), 'a full signature was logged')
  })

  it('the CLI daemon at LOG_LEVEL=trace logs no form of its key', async () => {
    const d = await dir()
    const child = spawn(process.execPath, [CLI, 'start', '--data-dir', d, '--api-port', '0'], {
      env: { PATH: process.env['PATH'] ?? '', HOME: d, LOG_LEVEL: 'trace' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString()
    })
    child.stderr.on('data', (b: Buffer) => {
      out += b.toString()
    })
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
    try {
      await waitFor(() => /^ready$/m.test(out), { timeoutMs: 20_000, what: 'daemon ready' })
    } finally {
      child.kill('SIGTERM')
    }
    assert.equal(await exited, 0, out)
    const { identity } = await loadKeyFile(d)
    assert.ok(
      out.includes(identity.address) || out.includes(identity.peerId),
      'the daemon printed its identity'
    )
    for (const s of keyForms(identity)) assert.ok(!out.includes(s), 'the CLI daemon logged its private key')
  })
})
