import assert from 'node:assert/strict'
import type { Libp2p } from '@libp2p/interface'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import {
  DirectCode,
  type DirectOptions,
  isPublicScope,
  REVERSE_PROTOCOL,
  REVERSE_REQUEST,
  ReverseStatus
} from '../../../node/host/direct.js'
import type { BitwrkHost } from '../../../node/host/host.js'
import { iceServers, STUN_PROTOCOL, stunUrl, WebRtcCode } from '../../../node/host/webrtc.js'
import { waitFor } from '../../../node/testing.js'
import { connectionsTo, directFixture, relayedConnection, reserveOn } from './direct-helpers.js'

const ECHO = '/bitwrk-test/echo/1.0.0'

describe('node/host direct connections', function () {
  this.timeout(40_000)
  const fx = directFixture()
  afterEach(() => fx.cleanup())
  const host = fx.host
  const relay = fx.relay

  it('upgrades a relayed connection between two private hosts to WebRTC through the relay, ICE asking a node’s STUN service; data flows over it', async () => {
    const r = await relay()
    // a public bitwrk node with the STUN service both private hosts are connected to (DIRECT-5)
    const stunNode = await host({ direct: { stunPort: 'tcp', reversal: false } })
    // "private": no TCP listen address, reachable only through the relay
    const seller = await host({ listen: [], direct: { webrtc: true } })
    const buyer = await host({ listen: [], direct: { webrtc: true } })
    for (const h of [seller, buyer]) {
      await h.libp2p.dial(stunNode.multiaddrs()[0] as never, { signal: AbortSignal.timeout(5000) })
      await waitFor(
        async () => (await h.libp2p.peerStore.get(stunNode.libp2p.peerId)).protocols.includes(STUN_PROTOCOL),
        { timeoutMs: 5000, what: 'identify of the STUN node' }
      )
    }
    await seller.libp2p.handle(ECHO, async (stream) => {
      for await (const chunk of stream) stream.send(chunk)
      await stream.close()
    })
    const circuit = await reserveOn(seller, r)
    await buyer.libp2p.dial(r.getMultiaddrs()[0] as never, { signal: AbortSignal.timeout(5000) })
    const relayed = await relayedConnection(buyer, circuit)
    assert.notEqual(relayed.limits, undefined)
    assert.ok(buyer.direct !== undefined)
    const direct = await buyer.direct.upgrade(seller.libp2p.peerId, { signal: AbortSignal.timeout(20_000) })
    assert.ok(direct !== undefined, 'no WebRTC connection')
    assert.equal(direct.limits, undefined)
    assert.match(direct.remoteAddr.toString(), /\/webrtc\//)
    // data flows over the WebRTC connection: 256 KiB, more than a relay's default data limit
    const stream = await direct.newStream(ECHO, { signal: AbortSignal.timeout(5000) })
    const payload = new Uint8Array(256 * 1024).map((_, i) => i & 0xff)
    const received: Uint8Array[] = []
    const reading = (async () => {
      for await (const c of stream) received.push(c instanceof Uint8Array ? c : c.subarray())
    })()
    for (let i = 0; i < payload.length; i += 16 * 1024) {
      if (!stream.send(payload.subarray(i, i + 16 * 1024)))
        await stream.onDrain({ signal: AbortSignal.timeout(5000) })
    }
    await stream.close()
    await reading
    assert.deepEqual(Buffer.concat(received), Buffer.from(payload))
    const metrics = await buyer.metrics.registry.getSingleMetricAsString('bitwrk_direct_upgrades_total')
    assert.match(metrics, /method="webrtc",result="ok"} 1/)
    assert.ok(
      connectionsTo(seller, buyer.libp2p.peerId).some((c) => !c.limited && c.addr.includes('/webrtc'))
    )
  })

  /** Sends `bytes` on REVERSE_PROTOCOL from `from` to `to` (over any connection) and returns the answer bytes. */
  async function rawReverse(from: BitwrkHost, to: BitwrkHost, bytes: Uint8Array): Promise<number[]> {
    const stream = await from.libp2p.dialProtocol(to.libp2p.peerId, REVERSE_PROTOCOL, {
      signal: AbortSignal.timeout(5000),
      runOnLimitedConnection: true
    })
    stream.send(bytes)
    await stream.close()
    const out: number[] = []
    for await (const c of stream) out.push(...(c instanceof Uint8Array ? c : c.subarray()))
    return out
  }

  /** A "public" host (TCP on 127.0.0.1, loopback counted as public for reversal) and a private one behind `r`. */
  async function publicAndPrivate(
    r: Libp2p,
    privateManager: Partial<Omit<DirectOptions, 'webrtc' | 'reversal'>> = {}
  ): Promise<{ pub: BitwrkHost; priv: BitwrkHost; circuit: Multiaddr }> {
    const manager = { loopbackIsPublicForReversal: true }
    const priv = await host({ listen: [], direct: { manager: { ...manager, ...privateManager } } })
    const circuit = await reserveOn(priv, r)
    const pub = await publicBehind(r, priv, circuit)
    return { pub, priv, circuit }
  }

  /** A "public" host connected to `priv` only through the relay, with its addresses known to `priv`. */
  async function publicBehind(r: Libp2p, priv: BitwrkHost, circuit: Multiaddr): Promise<BitwrkHost> {
    const pub = await host({ direct: { manager: { loopbackIsPublicForReversal: true } } })
    await pub.libp2p.dial(r.getMultiaddrs()[0] as never, { signal: AbortSignal.timeout(5000) })
    const relayed = await relayedConnection(pub, circuit)
    assert.notEqual(relayed.limits, undefined)
    // identify over the relayed connection tells the private side the public side's addresses
    await waitFor(
      async () =>
        ((await priv.libp2p.peerStore.get(pub.libp2p.peerId).catch(() => undefined))?.addresses.length ?? 0) >
        0,
      { timeoutMs: 5000, what: 'identify over the relay' }
    )
    return pub
  }

  it('keeps at most maxReversePeers requesters: a second requester inside the window is refused (DIRECT-11)', async () => {
    const r = await relay()
    const { pub, priv, circuit } = await publicAndPrivate(r, { maxReversePeers: 1 })
    const other = await publicBehind(r, priv, circuit)
    assert.deepEqual(await rawReverse(pub, priv, Uint8Array.of(REVERSE_REQUEST)), [ReverseStatus.OK])
    assert.deepEqual(await rawReverse(other, priv, Uint8Array.of(REVERSE_REQUEST)), [
      ReverseStatus.RATE_LIMITED
    ])
    assert.equal(connectionsTo(other, priv.libp2p.peerId).filter((c) => !c.limited).length, 0)
  })

  it('uses a relayed connection for bulk data only within its limits (DIRECT-12)', async () => {
    const r = await relay()
    const { pub, priv } = await publicAndPrivate(r)
    assert.ok(pub.direct !== undefined)
    const relayed = pub.libp2p.getConnections(priv.libp2p.peerId).find((c) => c.limits !== undefined)
    assert.ok(relayed !== undefined)
    // js-libp2p's relay default: 128 KiB; the reserve is 64 KiB
    assert.equal(pub.direct.relayAllows(relayed, 1000), true)
    assert.equal(pub.direct.relayAllows(relayed, 100 * 1024), false)
    const fake = (bytes: bigint | undefined, seconds: number | undefined) =>
      ({
        limits: { ...(bytes !== undefined ? { bytes } : {}), ...(seconds !== undefined ? { seconds } : {}) }
      }) as never
    assert.equal(pub.direct.relayAllows(fake(1n << 30n, 29), 0), false)
    assert.equal(pub.direct.relayAllows(fake(1n << 30n, 30), 0), true)
    assert.equal(pub.direct.relayAllows(fake(undefined, undefined), 1 << 30), true)
    assert.equal(pub.direct.relayAllows(fake(65_535n, undefined), 0), false)
  })

  it('gets a direct TCP connection by reversal: the private host dials the public one on request over the relay', async () => {
    const r = await relay()
    const { pub, priv } = await publicAndPrivate(r)
    assert.ok(pub.direct !== undefined)
    const direct = await pub.direct.upgrade(priv.libp2p.peerId, { signal: AbortSignal.timeout(10_000) })
    assert.ok(direct !== undefined, 'no reversed connection')
    assert.equal(direct.limits, undefined)
    assert.match(direct.remoteAddr.toString(), /^\/ip4\/127\.0\.0\.1\/tcp\//)
    assert.equal(direct.direction, 'inbound')
    const requester = await pub.metrics.registry.getSingleMetricAsString('bitwrk_direct_upgrades_total')
    assert.match(requester, /method="reversal",result="ok"} 1/)
    const answerer = await priv.metrics.registry.getSingleMetricAsString('bitwrk_direct_upgrades_total')
    assert.match(answerer, /method="reversal",result="ok"} 1/)
  })

  it('answers hostile reversal requests with their status and dials nothing: bad bytes, a direct connection, a repeat within the window', async () => {
    const r = await relay()
    const { pub, priv } = await publicAndPrivate(r)
    // more than one byte, an unknown request byte, nothing at all
    assert.deepEqual(await rawReverse(pub, priv, Uint8Array.of(REVERSE_REQUEST, 0)), [
      ReverseStatus.BAD_REQUEST
    ])
    assert.deepEqual(await rawReverse(pub, priv, Uint8Array.of(0x7f)), [ReverseStatus.BAD_REQUEST])
    assert.deepEqual(await rawReverse(pub, priv, new Uint8Array(0)), [ReverseStatus.BAD_REQUEST])
    assert.equal(connectionsTo(pub, priv.libp2p.peerId).filter((c) => !c.limited).length, 0)
    // a good request: dialled once; a second one within the window is rate-limited
    assert.deepEqual(await rawReverse(pub, priv, Uint8Array.of(REVERSE_REQUEST)), [ReverseStatus.OK])
    // now a direct connection exists: a request over it has nothing to reverse
    assert.deepEqual(await rawReverse(pub, priv, Uint8Array.of(REVERSE_REQUEST)), [ReverseStatus.NOT_RELAYED])
    const relayedAgain = pub.libp2p.getConnections(priv.libp2p.peerId).find((c) => c.limits !== undefined)
    assert.ok(relayedAgain !== undefined)
    const s = await relayedAgain.newStream(REVERSE_PROTOCOL, {
      runOnLimitedConnection: true,
      signal: AbortSignal.timeout(5000)
    })
    s.send(Uint8Array.of(REVERSE_REQUEST))
    await s.close()
    const out: number[] = []
    for await (const c of s) out.push(...(c instanceof Uint8Array ? c : c.subarray()))
    assert.deepEqual(out, [ReverseStatus.RATE_LIMITED])
  })

  it('refuses reversal to a requester whose only addresses are not public scope (NO_ADDRESS) and reports DIRECT_NO_PATH', async () => {
    const r = await relay()
    // the private side does not count loopback as public: the requester has no public address
    const pub = await host({ direct: { manager: { loopbackIsPublicForReversal: true } } })
    const priv = await host({ listen: [], direct: {} })
    const circuit = await reserveOn(priv, r)
    await pub.libp2p.dial(r.getMultiaddrs()[0] as never, { signal: AbortSignal.timeout(5000) })
    await relayedConnection(pub, circuit)
    await waitFor(
      async () =>
        ((await priv.libp2p.peerStore.get(pub.libp2p.peerId).catch(() => undefined))?.addresses.length ?? 0) >
        0,
      { timeoutMs: 5000, what: 'identify over the relay' }
    )
    assert.deepEqual(await rawReverse(pub, priv, Uint8Array.of(REVERSE_REQUEST)), [ReverseStatus.NO_ADDRESS])
    assert.ok(pub.direct !== undefined)
    await assert.rejects(
      pub.direct.bulkConnection(priv.libp2p.peerId, { bytes: 1 << 20 }),
      (err: unknown) => {
        const e = err as { code?: string; details?: { reason?: string; attempts?: string[] } }
        assert.equal(e.code, DirectCode.NO_PATH)
        assert.equal(e.details?.reason, 'relay-limit')
        assert.deepEqual(e.details?.attempts, ['reversal:DIRECT_REVERSE_FAILED'])
        return true
      }
    )
    assert.equal(connectionsTo(pub, priv.libp2p.peerId).filter((c) => !c.limited).length, 0)
  })

  it('counts public scope by the address ranges of DIRECT-10', () => {
    for (const a of ['/ip4/198.18.0.10/tcp/1', '/ip4/8.8.8.8/tcp/1', '/ip6/2606:4700::1/tcp/1'])
      assert.equal(isPublicScope(multiaddr(a)), true, a)
    for (const a of [
      '/ip4/127.0.0.1/tcp/1',
      '/ip4/10.1.0.2/tcp/1',
      '/ip4/192.168.1.1/tcp/1',
      '/ip4/172.20.0.1/tcp/1',
      '/ip4/100.64.0.1/tcp/1',
      '/ip4/169.254.1.1/tcp/1',
      '/ip4/0.0.0.0/tcp/1',
      '/ip6/::1/tcp/1',
      '/ip6/fe80::1/tcp/1',
      '/ip6/fd00::1/tcp/1',
      '/dns4/example.com/tcp/1'
    ])
      assert.equal(isPublicScope(multiaddr(a)), false, a)
  })

  it('runs STUN on the TCP port number, announces it, and a peer connected over TCP uses it as ICE server (DIRECT-1, DIRECT-5)', async () => {
    const pub = await host({ direct: { stunPort: 'tcp', reversal: false } })
    const tcpPort = Number(pub.multiaddrs()[0]?.getComponents()[1]?.value)
    assert.equal(pub.stunPort(), tcpPort)
    const peer = await host({ direct: { webrtc: true } })
    await peer.libp2p.dial(pub.multiaddrs()[0] as never, { signal: AbortSignal.timeout(5000) })
    await waitFor(
      async () => (await peer.libp2p.peerStore.get(pub.libp2p.peerId)).protocols.includes(STUN_PROTOCOL),
      { timeoutMs: 5000, what: 'identify' }
    )
    assert.deepEqual(await iceServers(['stun:10.9.9.9:3478'], peer.libp2p), [
      'stun:10.9.9.9:3478',
      `stun:127.0.0.1:${tcpPort}`
    ])
    // a host without the service announces nothing and is no ICE server
    assert.deepEqual(await iceServers([], pub.libp2p), [])
  })

  it('parses --stun entries and refuses anything else with WEBRTC_BAD_STUN_SERVER', () => {
    assert.equal(stunUrl('198.18.0.2:3478'), 'stun:198.18.0.2:3478')
    assert.equal(stunUrl('stun:relay.example:4001'), 'stun:relay.example:4001')
    assert.equal(stunUrl('/ip4/198.18.0.2/udp/4001'), 'stun:198.18.0.2:4001')
    assert.equal(stunUrl('/ip6/2001:db8::1/udp/3478'), 'stun:[2001:db8::1]:3478')
    for (const bad of [
      '',
      'host',
      'host:0',
      'host:70000',
      'turn:host:3478',
      '/ip4/1.2.3.4/tcp/1',
      '/nonsense',
      'a b:1'
    ])
      assert.throws(() => stunUrl(bad), { code: WebRtcCode.BAD_STUN_SERVER }, bad)
  })
})
