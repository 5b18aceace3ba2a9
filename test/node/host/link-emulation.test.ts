import assert from 'node:assert/strict'
import { drawDelay } from '../../../node/host/link-emulation.js'
import type { BitwrkNode } from '../../../node/index.js'
import { connect, memoryNode } from '../market/helpers.js'

describe('node/host/link-emulation (emulated one-way delay, issue 14)', () => {
  const nodes: BitwrkNode[] = []
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  it('delays what each end receives: a ping takes at least both one-way delays', async () => {
    for (let i = 0; i < 2; i++)
      nodes.push(await memoryNode({ host: { dhtSelfQuery: false, inboundDelayMs: () => 80 } }))
    await connect(nodes, [[0, 1]])
    const [a, b] = nodes as [BitwrkNode, BitwrkNode]
    const t0 = performance.now()
    await a.host.libp2p.services.ping.ping(b.host.libp2p.peerId, { signal: AbortSignal.timeout(10_000) })
    assert.ok(performance.now() - t0 >= 160, 'the ping crossed two delayed links')
  })

  it('draws uniformly within mean ± jitter, never below 0', () => {
    const xs = [0, 0.5, 0.999].map((r) => drawDelay({ meanMs: 50, jitterMs: 20 }, () => r))
    assert.deepEqual(
      xs.map((x) => Math.round(x)),
      [30, 50, 70]
    )
    assert.equal(
      drawDelay({ meanMs: 10, jitterMs: 50 }, () => 0),
      0
    )
  })
})
