import { randomBytes } from 'node:crypto'
import { type BitwrkNode, bidTopic, createBitwrkNode, openStore, txTopic } from '../../node/index.js'
import { createMemoryController, topologyEdges, waitForMesh } from '../../node/testing.js'
import { Identity } from '../../protocol/identity/index.js'
import type { EpochParams } from '../../protocol/matching/index.js'

/**
 * Shared set-up of the market benchmarks (time-to-match, trade): not a benchmark itself (no
 * `bench` export, so the runner skips it).
 */

/** The q-quantile (0 ≤ q ≤ 1) of an ascending list, NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}

/**
 * Starts `count` market nodes in this process over memory stores, following `article`, connects
 * them on a random graph of average degree 4 and waits (20 s deadline) for the bid and
 * transaction meshes. `onCreated` runs for each node right after it started (to wire services).
 */
export async function startMarketNodes(
  count: number,
  article: string,
  epochParams: EpochParams,
  nodes: BitwrkNode[],
  onCreated: (node: BitwrkNode) => Promise<void> = async () => {}
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const node = await createBitwrkNode({
      store: await openStore(createMemoryController()),
      identity: Identity.generate((n) => new Uint8Array(randomBytes(n))),
      loopbackOnly: true,
      articles: [article],
      epochParams,
      host: { dhtSelfQuery: false }
    })
    await node.start()
    nodes.push(node)
    await onCreated(node)
  }
  const edges = topologyEdges(count, 'random', 4, Math.random)
  await Promise.all(
    edges.map(([a, b]) => {
      const addr = nodes[b]?.host.multiaddrs()[0]
      if (addr === undefined) throw new Error('no address')
      return nodes[a]?.host.libp2p.dial(addr, { signal: AbortSignal.timeout(10_000) })
    })
  )
  const hosts = nodes.map((n) => n.host)
  await waitForMesh(hosts, bidTopic(article), 20_000)
  await waitForMesh(hosts, txTopic(article), 20_000)
}
