import assert from 'node:assert/strict'
import { keyFromHex, keyToHex } from '../../../cafs/keys.js'
import { importStream } from '../../../cafs/stream.js'
import type { Manifest } from '../../../cafs/types.js'
import type { BitwrkNode } from '../../../node/index.js'
import { waitFor } from '../../../node/testing.js'
import { money } from '../../../protocol/money/index.js'
import { waitForRoutingTables } from '../../cafs/adapters/helpers.js'
import { ARTICLE, connect, memoryNode, random, waitMeshes } from '../market/helpers.js'

describe('node/content: what a trade provides (CHUNK-16) and what stays private (CHUNK-14)', function () {
  this.timeout(60_000)
  const nodes: BitwrkNode[] = []
  after(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
  })

  it('the buyer provides the accepted result; the work and the ciphertext stay "not held" to a stranger', async () => {
    const buyer = await memoryNode()
    const seller = await memoryNode()
    const stranger = await memoryNode()
    nodes.push(buyer, seller, stranger)
    seller.sell({ work: async (w) => Uint8Array.from(w).reverse() })
    const all = [buyer, seller, stranger]
    await connect(all, [
      [0, 1],
      [0, 2],
      [1, 2]
    ])
    await waitMeshes(all)
    await waitForRoutingTables(all.map((n) => n.host))
    const offer = await seller.placeBid({ article: ARTICLE, side: 'SELL', price: money('BTC', 1000n) })
    await waitFor(() => buyer.book.get(offer.id) !== undefined, {
      timeoutMs: 10_000,
      what: 'offer at the buyer'
    })
    const work: Manifest = await importStream([random(300_000)], buyer.chunks)
    const bought = await buyer.buy(ARTICLE, work, {
      price: money('BTC', 2000n),
      signal: AbortSignal.timeout(40_000)
    })

    const peer = (n: BitwrkNode) => n.host.libp2p.peerId
    // the buyer provides the result it accepted; the seller does not provide the work it
    // received: its hash is public on the transaction topic (CHUNK-16)
    assert.equal(buyer.content.provided.get(bought.result.fileKey)?.reason, 'result')
    assert.equal(seller.content.provided.get(work.fileKey), undefined)
    assert.equal(await stranger.exchange.getManifest(peer(seller), work.fileKey), undefined)
    assert.deepEqual(
      await stranger.exchange.has(
        peer(seller),
        work.chunks.map((c) => c.key)
      ),
      work.chunks.map(() => false)
    )
    const fromBuyer = await stranger.exchange.getManifest(peer(buyer), bought.result.fileKey)
    assert.equal(fromBuyer?.size, bought.result.size)
    assert.deepEqual(
      await stranger.exchange.has(
        peer(buyer),
        bought.result.chunks.map((c) => c.key)
      ),
      bought.result.chunks.map(() => true)
    )

    // the ciphertext: held by the seller, never provided, "not held" to anyone but its buyer
    const cipherHex = bought.tx.receipt?.encResultHash
    assert.ok(cipherHex !== undefined)
    const cipherKey = keyFromHex(cipherHex)
    assert.equal(seller.content.provided.get(cipherKey), undefined)
    assert.equal(await stranger.exchange.getManifest(peer(seller), cipherKey), undefined)
    assert.equal(buyer.content.provided.get(cipherKey), undefined)
    // the work is the buyer's own upload here (POST /buy, not /api/v1/files): not provided by it
    assert.equal(buyer.content.provided.get(work.fileKey), undefined)
    assert.equal(await stranger.exchange.getManifest(peer(buyer), work.fileKey), undefined)

    // a stranger fetches the result by key alone, from the buyer (the DHT names it)
    await buyer.content.provided.idle()
    const fetched = await stranger.content.gateway.fetch(bought.result.fileKey, {
      signal: AbortSignal.timeout(20_000)
    })
    assert.equal(keyToHex(fetched.fileKey), keyToHex(bought.result.fileKey))
    assert.equal(stranger.content.provided.get(bought.result.fileKey)?.reason, 'fetched')
  })
})
