import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import type { ReputationEntryView, ReputationReader } from '../../../node/api/facade.js'
import { ApiServer } from '../../../node/api/server.js'
import { createTestFacade } from '../../../node/api/testing.js'
import { MandateBook } from '../../../node/mandates/index.js'
import { createMemoryController } from '../../../node/store/db.js'
import { waitFor } from '../../../node/testing.js'
import { WorkerPool } from '../../../node/workers/index.js'
import { encodeEquivocation } from '../../../protocol/reputation/index.js'
import { signTxMessage } from '../../../protocol/transaction/index.js'
import { call, errorOf } from '../api/helpers.js'
import { newIdentity } from '../market/helpers.js'
import { Nodes } from './helpers.js'

const ctx = { topic: '/bitwrk/evidence/2', kind: 'evidence', article: '', from: 'x', nowMs: 0 } as const

describe('node/api (reputation)', function () {
  this.timeout(20_000)
  const nodes = new Nodes()
  const stops: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const s of stops.splice(0)) await s()
    await nodes.stop()
  })

  async function api(reputation?: ReputationReader): Promise<string> {
    const kv = createMemoryController()
    const { book: mandates } = await MandateBook.open(kv)
    const workers = new WorkerPool({ mandates })
    const facade = { ...createTestFacade({ workers }), ...(reputation !== undefined ? { reputation } : {}) }
    const server = new ApiServer({ facade, mandates, workers, host: '127.0.0.1', port: 0 })
    await server.start()
    stops.push(async () => {
      await server.stop()
      workers.stop()
      await kv.close()
    })
    return server.url
  }

  it('GET /api/v1/reputation shows scores with the evidence behind them', async () => {
    const node = await nodes.node()
    const url = await api({
      list: async () => ({ thresholds: { ...node.reputation.thresholds }, subjects: node.reputation.list() }),
      get: (s) => node.reputation.view(s)
    })
    const liar = newIdentity()
    const stranger = newIdentity()
    const txid = randomBytes(32).toString('hex')
    const proof = encodeEquivocation({
      case: 'conflicting-messages',
      participant: liar.address,
      a: signTxMessage(liar, txid, { kind: 'accept-result' }),
      b: signTxMessage(liar, txid, { kind: 'reject-result' })
    })
    assert.equal((await node.reputation.validateEvidence(proof, ctx)).result, 'accept')
    node.reputation.onWrongChunk(stranger.peerId, 'CAFS_HASH_MISMATCH')
    const peer = { kind: 'peer', id: stranger.peerId } as const
    await waitFor(() => node.reputation.record(peer) !== undefined, { timeoutMs: 5000, what: 'flush' })

    const all = (await (await call(`${url}/api/v1/reputation`)).json()) as {
      thresholds: { establishMin: number }
      subjects: ReputationEntryView[]
    }
    assert.equal(all.thresholds.establishMin, -0.5)
    const liarView = all.subjects.find((s) => s.subject.id === liar.address)
    assert.equal(liarView?.blocked, true)
    assert.equal(liarView?.counters.equivocations, 1)

    const one = (await (await call(`${url}/api/v1/reputation/${liar.address}`)).json()) as ReputationEntryView
    assert.equal(one.score, -1)
    assert.equal(one.proofs[0]?.proof, Buffer.from(proof).toString('latin1'))
    assert.match(one.recent[0]?.source ?? '', /^equivocation:[0-9a-f]{64}$/)

    const p = (await (
      await call(`${url}/api/v1/reputation/peer/${stranger.peerId}`)
    ).json()) as ReputationEntryView
    assert.deepEqual(p.subject, peer)
    assert.equal(p.address, stranger.address)
    assert.equal(p.counters.wrongChunks, 1)
    assert.equal(p.weights.wrongChunks, -5)
    assert.equal(p.recent[0]?.source, 'local:wrong-chunk:CAFS_HASH_MISMATCH')
    // By bare peer id too; an unknown subject is neutral.
    const bare = (await (
      await call(`${url}/api/v1/reputation/${stranger.peerId}`)
    ).json()) as ReputationEntryView
    assert.equal(bare.subject.kind, 'peer')
    const fresh = (await (
      await call(`${url}/api/v1/reputation/${newIdentity().address}`)
    ).json()) as ReputationEntryView
    assert.equal(fresh.score, 0)
    assert.equal(fresh.lastUpdatedMs, null)

    for (const bad of ['not-an-id', 'address/x', 'peer/0OIl', 'a/b/c'])
      assert.deepEqual(await errorOf(await call(`${url}/api/v1/reputation/${bad}`)), {
        status: 400,
        code: 'API_BAD_REQUEST',
        detail: 'REPUTATION_BAD_SUBJECT'
      })
  })

  it('answers 404 when the node has no reputation service', async () => {
    const url = await api()
    const e = await errorOf(await call(`${url}/api/v1/reputation`))
    assert.equal(e.status, 404)
  })
})
