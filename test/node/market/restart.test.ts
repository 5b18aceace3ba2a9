import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type BitwrkNode,
  type BitwrkNodeOptions,
  bidTopic,
  createBitwrkNode,
  EVIDENCE_TOPIC,
  txTopic
} from '../../../node/index.js'
import { waitFor } from '../../../node/testing.js'
import { money } from '../../../protocol/money/index.js'
import type { Transaction } from '../../../protocol/transaction/index.js'
import { ARTICLE, baseOptions, connect, memoryNode, newWork, waitMeshes } from './helpers.js'

describe('node/market (restart)', function () {
  this.timeout(30_000)
  const nodes: BitwrkNode[] = []
  let dir = ''
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bitwrk-market-'))
  })
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
    await rm(dir, { recursive: true, force: true })
  })

  /** A node on the data directory; `articles` only when given (a restart relies on the store). */
  async function diskNode(opts: Partial<BitwrkNodeOptions>, start = true): Promise<BitwrkNode> {
    const { articles: _ignored, ...base } = baseOptions()
    const node = await createBitwrkNode({ ...base, dataDir: dir, ...opts })
    nodes.push(node)
    if (start) await node.start()
    return node
  }

  it('comes back with its identity, subscriptions and open transactions, resumed or retired by the rules', async () => {
    let offset = 0
    const clock = (): number => Date.now() + offset
    const a = await diskNode({ articles: [ARTICLE], clock })
    const b = await memoryNode({ clock })
    nodes.push(b)
    await connect([a, b], [[0, 1]])
    await waitMeshes([a, b])
    const established = new Promise<Transaction>((resolve) =>
      a.market.addEventListener('tx:established', (e) => resolve(e.detail.tx), { once: true })
    )
    const sell = await a.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 700n) })
    await waitFor(() => b.book.get(sell.id) !== undefined, { timeoutMs: 5000, what: 'sell at B' })
    await b.placeBid({ article: ARTICLE, side: 'BUY', price: money('BTC', 800n), work: newWork() })
    const tx = await established
    assert.equal(tx.phase, 'TRANSMITTING')
    const peerId = a.peerId
    await a.stop()

    // Restart 1: same clock, no articles given: everything comes from the data directory.
    const a2 = await diskNode({ clock })
    assert.equal(a2.peerId, peerId)
    assert.deepEqual(a2.articles(), [ARTICLE])
    assert.deepEqual(
      a2.host.gossip.topics().sort(),
      [bidTopic(ARTICLE), txTopic(ARTICLE), EVIDENCE_TOPIC].sort()
    )
    const resumed = a2.market.txs.get(tx.id)
    assert.equal(resumed?.party, 'seller')
    assert.equal(resumed?.tx.state, 'active')
    assert.equal(resumed?.tx.phase, 'TRANSMITTING')
    assert.equal(resumed?.tx.evidence.length, 2)
    assert.equal((await a2.repos.bids.usedBy(sell.id))?.txId, tx.id)
    await a2.stop()

    // Restart 2: past the TRANSMITTING deadline (60 s + 2 min, TX-13): retired as not delivered.
    offset += 4 * 60_000
    const a3 = await diskNode({ clock }, false)
    const retired: Transaction[] = []
    a3.market.addEventListener('tx:retired', (e) => retired.push(e.detail.tx))
    await a3.start()
    assert.equal(a3.market.txs.get(tx.id), undefined)
    const stored = await a3.market.transaction(tx.id)
    assert.equal(stored?.state, 'retired')
    assert.equal(stored?.outcome?.reason, 'not-delivered')
    assert.deepEqual(
      retired.map((t) => t.id),
      [tx.id]
    )
  })
})
