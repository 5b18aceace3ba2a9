import assert from 'node:assert/strict'
import type { Libp2p } from '@libp2p/interface'
import { MemoryTxNetwork, TestClock, TradeCode, type TradeWorker } from '../../../node/trade/index.js'
import { isBitwrkError } from '../../../protocol/errors.js'
import { createRelay, relayedConnection, reserveOn } from '../host/direct-helpers.js'
import { establish, lcgBytes, makeNode, reversed, type TradeNode } from './helpers.js'

const worker: TradeWorker = { work: async (w: Uint8Array) => reversed(w) }

/** TRADE-20 / DIRECT-12: the trade's bulk data over a direct connection, a relay within its limits, or not at all. */
describe('node/trade over a relay (TRADE-20)', function () {
  this.timeout(40_000)
  let clock: TestClock
  let network: MemoryTxNetwork
  const nodes: TradeNode[] = []
  const relays: Libp2p[] = []

  beforeEach(() => {
    clock = new TestClock()
    network = new MemoryTxNetwork()
  })
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
    for (const r of relays.splice(0)) await r.stop()
    network.close()
  })

  async function node(opts?: Parameters<typeof makeNode>[2]): Promise<TradeNode> {
    const n = await makeNode(network, clock, opts)
    nodes.push(n)
    return n
  }

  /** A relay, a private seller with a reservation on it and a private buyer connected to it through the relay only. */
  async function relayedPair(
    sellerWebRTC: boolean,
    relayLimits?: Parameters<typeof createRelay>[0]
  ): Promise<{ buyer: TradeNode; seller: TradeNode; circuit: string }> {
    const r = await createRelay(relayLimits)
    relays.push(r)
    const seller = await node({ host: { listen: [], direct: { webrtc: sellerWebRTC } } })
    const buyer = await node({ host: { listen: [], direct: { webrtc: true } } })
    const circuit = await reserveOn(seller.host, r)
    await buyer.host.libp2p.dial(r.getMultiaddrs()[0] as never, { signal: AbortSignal.timeout(5000) })
    await relayedConnection(buyer.host, circuit)
    return { buyer, seller, circuit: circuit.toString() }
  }

  it('moves work and result over a WebRTC connection when the seller is reachable only through a relay', async () => {
    const { buyer, seller, circuit } = await relayedPair(true)
    // 300 kB: more than the relay's default 128 KiB data limit
    const work = lcgBytes(300_000, 3)
    // TX-7 holds 255 bytes of addresses: the circuit address (the WebRTC one is derived from it)
    const { tx, secret } = await establish(network, clock, buyer, seller, work, undefined, [circuit])
    const sell = seller.trade.onEstablished(tx, worker)
    const bought = await buyer.trade.runBuyer(tx, work, secret)
    assert.deepEqual(bought.result, reversed(work))
    assert.equal((await sell).error, null)
    const conns = buyer.host.libp2p
      .getConnections(seller.host.libp2p.peerId)
      .filter((c) => c.limits === undefined)
    assert.ok(conns.some((c) => c.remoteAddr.toString().includes('/webrtc')))
  })

  it('moves a small trade over the relay when no upgrade works and the relay limits allow it', async () => {
    const { buyer, seller } = await relayedPair(false)
    const work = lcgBytes(8_000, 4)
    const { tx, secret } = await establish(network, clock, buyer, seller, work)
    const sell = seller.trade.onEstablished(tx, worker)
    const bought = await buyer.trade.runBuyer(tx, work, secret)
    assert.deepEqual(bought.result, reversed(work))
    assert.equal((await sell).error, null)
    assert.ok(
      buyer.host.libp2p.getConnections(seller.host.libp2p.peerId).every((c) => c.limits !== undefined)
    )
  })

  it('fails with TRADE_SELLER_UNREACHABLE (reason relay-limit) within its deadline when no upgrade works and the work exceeds the relay limit', async () => {
    const { buyer, seller } = await relayedPair(false)
    const work = lcgBytes(200_000, 5)
    const { tx, secret } = await establish(network, clock, buyer, seller, work)
    void seller.trade.onEstablished(tx, worker).catch(() => {})
    const started = Date.now()
    await assert.rejects(buyer.trade.runBuyer(tx, work, secret), (err: unknown) => {
      assert.ok(isBitwrkError(err, TradeCode.SELLER_UNREACHABLE), String(err))
      const d = err.details as { reason?: string; attempts?: string[] }
      assert.equal(d.reason, 'relay-limit')
      assert.equal(d.attempts?.length, 1)
      assert.match(d.attempts?.[0] ?? '', /^webrtc:/)
      return true
    })
    // one upgrade attempt (10 s at most), no redials: far inside TRANSMITTING's 60 s
    assert.ok(Date.now() - started < 15_000)
    assert.equal(buyer.channel.current(tx.id)?.state, 'active')
  })

  it('fails with TRADE_SELLER_UNREACHABLE when the relay grants too few bytes for even a small work plus the result reserve', async () => {
    // 32 KiB: a relay sized for signalling only (DIRECT-12's reserve for the result is 64 KiB)
    const { buyer, seller } = await relayedPair(false, { data: 32n * 1024n })
    const work = lcgBytes(1_000, 6)
    const { tx, secret } = await establish(network, clock, buyer, seller, work)
    void seller.trade.onEstablished(tx, worker).catch(() => {})
    await assert.rejects(buyer.trade.runBuyer(tx, work, secret), (err: unknown) => {
      assert.ok(isBitwrkError(err, TradeCode.SELLER_UNREACHABLE), String(err))
      assert.equal((err.details as { reason?: string }).reason, 'relay-limit', JSON.stringify(err.details))
      return true
    })
  })
})
