import assert from 'node:assert/strict'
import type { Libp2p } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr'
import { connectionKind, NetworkWatch } from '../../../node/host/network.js'
import type { AddressRecord } from '../../../node/host/reachability.js'
import { throttledRandomWalk } from '../../../node/host/relay.js'
import { createMetrics, silentLogger } from '../../../node/index.js'

/** The members of libp2p NetworkWatch uses, driven by the test. */
function fakeLibp2p(conns: { remoteAddr: Multiaddr; limits?: object }[]): Libp2p {
  const t = new EventTarget()
  return Object.assign(t, { getConnections: () => conns }) as unknown as Libp2p
}

describe('node/host/network', () => {
  it('tells relayed from direct connections', () => {
    assert.equal(
      connectionKind({ remoteAddr: multiaddr('/ip4/198.18.0.1/tcp/1'), limits: undefined }),
      'direct'
    )
    assert.equal(
      connectionKind({ remoteAddr: multiaddr('/ip4/198.18.0.1/tcp/1'), limits: { bytes: 1n, seconds: 1 } }),
      'relayed'
    )
    assert.equal(
      connectionKind({
        remoteAddr: multiaddr(
          '/ip4/198.18.0.1/tcp/1/p2p/16Uiu2HAmPYzi9w11HuGB8XX637Aua1M8gzVpZpqdyFAXvHvqKrTM/p2p-circuit'
        ),
        limits: undefined
      }),
      'relayed'
    )
  })

  it('runs the DHT as a client while private among public peers, as a server otherwise (NET-11)', async () => {
    const conns: { remoteAddr: Multiaddr }[] = []
    const libp2p = fakeLibp2p(conns)
    const modes: string[] = []
    const dht = { setMode: async (m: 'client' | 'server') => void modes.push(m) } as unknown as KadDHT
    let book: AddressRecord[] = []
    const watch = new NetworkWatch({
      libp2p,
      dht,
      addressBook: () => book,
      ownAddrs: () => [],
      internet: true,
      wantedReservations: 2,
      relayServer: 'auto',
      log: silentLogger(),
      metrics: createMetrics(),
      now: () => 0
    })
    watch.start()
    try {
      // private, but only a LAN peer: keeps serving
      conns.push({ remoteAddr: multiaddr('/ip4/10.0.0.3/tcp/1') })
      libp2p.dispatchEvent(new Event('connection:open'))
      assert.equal(watch.dhtModeNow(), 'server')
      assert.equal(watch.relayServing(), false)
      // a direct connection to a public peer: client
      conns.push({ remoteAddr: multiaddr('/ip4/198.18.0.10/tcp/4001') })
      libp2p.dispatchEvent(new Event('connection:open'))
      assert.equal(watch.dhtModeNow(), 'client')
      // public (a verified public address): server again, and relaying
      book = [
        { multiaddr: multiaddr('/ip4/198.18.0.7/tcp/4001'), verified: true, type: 'transport', expires: 0 }
      ]
      libp2p.dispatchEvent(new Event('self:peer:update'))
      assert.equal(watch.dhtModeNow(), 'server')
      assert.equal(watch.reachability(), 'public')
      assert.equal(watch.relayServing(), true)
      assert.deepEqual(modes, ['client', 'server'])
    } finally {
      watch.stop()
    }
  })

  it("throttles the relay discovery's random walk: one peer per gap, abortable (NET-15)", async () => {
    let pulled = 0
    const inner = {
      async *walk() {
        // libp2p's walk over a tiny network: the same connected peer at once, forever
        for (;;) {
          pulled++
          yield { id: {} as never, multiaddrs: [] }
        }
      }
    }
    const walk = throttledRandomWalk(inner, 40)
    const started = Date.now()
    let n = 0
    for await (const _ of walk.walk()) if (++n === 3) break
    assert.ok(Date.now() - started >= 75, `3 peers in ${Date.now() - started} ms`)
    assert.ok(pulled <= 4)
    const ac = new AbortController()
    const it = walk.walk({ signal: ac.signal })
    await it.next()
    const second = it.next()
    ac.abort()
    await assert.rejects(second, (err: unknown) => (err as Error).name === 'AbortError')
  })
})
