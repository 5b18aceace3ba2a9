import assert from 'node:assert/strict'
import { privateKeyFromRaw } from '@libp2p/crypto/keys'
import type { Libp2p, Stream } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { Counter, Registry } from 'prom-client'
import { tallyCounter } from '../../../node/host/transfer-metrics.js'
import {
  type BitwrkHost,
  BootstrapDialer,
  createHost,
  createMetrics,
  DHT_PEER_TAG_INTERVAL_MS,
  DHT_PROTOCOL,
  HostCode,
  isLoopback,
  silentLogger
} from '../../../node/index.js'
import { createTestnet, randomPrivateKey, type Testnet, waitFor } from '../../../node/testing.js'
import { isBitwrkError } from '../../../protocol/errors.js'
import { Identity } from '../../../protocol/identity/index.js'

/** Counts of active TCP handles, to prove a stopped host leaves none behind. */
function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length
}

describe('node/host', () => {
  const hosts: BitwrkHost[] = []
  let net: Testnet | undefined
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()))
    await net?.stop()
    net = undefined
  })

  it('starts on a 127.0.0.1 port 0 with the secp256k1 key as its peer id and stops cleanly, twice', async () => {
    const before = tcpHandles()
    const key = randomPrivateKey()
    const h = await createHost({ privateKey: key, loopbackOnly: true })
    const expected = peerIdFromPrivateKey(privateKeyFromRaw(key)).toString()
    assert.equal(h.peerId, expected)
    // invariant 2: the market identity names the same peer
    assert.equal(Identity.fromPrivateKey(key).peerId, h.peerId)
    assert.match(h.peerId, /^16Uiu2/)
    const addr = h.multiaddrs()[0]
    assert.ok(addr !== undefined && isLoopback(addr))
    assert.ok(h.libp2p.getProtocols().includes(DHT_PROTOCOL))
    assert.ok(!h.libp2p.getProtocols().includes('/ipfs/kad/1.0.0'))
    assert.ok(tcpHandles() > before)
    await Promise.all([h.stop(), h.stop()])
    await h.stop()
    assert.equal(h.libp2p.status, 'stopped')
    // the TCP listener's handle closes on the next turns of the event loop
    await waitFor(() => tcpHandles() === before, { timeoutMs: 2000, what: 'TCP handles to close' })
  })

  it("re-arms Kad-DHT's closest-peer tagging at a minute (the 50-node CPU profile)", async () => {
    const h = await createHost({ privateKey: randomPrivateKey(), loopbackOnly: true })
    try {
      const tagger = (
        h.libp2p.services.dht as unknown as {
          routingTable?: { closestPeerTagger?: { timeout?: { _idleTimeout?: number } } }
        }
      ).routingTable?.closestPeerTagger
      // the internals the host reaches into still exist (a renamed one would silently undo it)
      assert.ok(tagger?.timeout !== undefined, 'kad-dht 16 internals: routingTable.closestPeerTagger.timeout')
      assert.equal(tagger.timeout._idleTimeout, DHT_PEER_TAG_INTERVAL_MS)
    } finally {
      await h.stop()
    }
  })

  it('counts protocol and connection bytes per stream, exported at every scrape (issue 14)', async () => {
    net = await createTestnet({ nodes: 2, topology: 'line' })
    const [a, b] = net.hosts as [BitwrkHost, BitwrkHost]
    // the internals the host's tally reaches into still exist (else libp2p's own tracking runs)
    const internals = (a.libp2p as unknown as { components: { metrics?: { transferStats?: unknown } } })
      .components
    assert.ok(internals.metrics?.transferStats instanceof Map, 'prometheus-metrics 5: transferStats')
    const count = async (h: BitwrkHost, key: string): Promise<number> => {
      const text = await h.metrics.registry.metrics()
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`libp2p_data_transfer_bytes_total{protocol="${key}"}`))
      return line === undefined ? 0 : Number(line.split(' ').at(-1))
    }
    const proto = '/test/echo/1.0.0'
    let echoed = 0
    await b.libp2p.handle(proto, (stream: Stream) => {
      stream.addEventListener('message', (e) => {
        echoed += e.data.byteLength
        stream.send(e.data)
      })
    })
    const globalSent = await count(a, 'global sent')
    const s = await a.libp2p.dialProtocol(b.libp2p.peerId, proto)
    let back = 0
    s.addEventListener('message', (e) => {
      back += e.data.byteLength
    })
    s.send(new Uint8Array(100))
    s.send(new Uint8Array(20))
    await waitFor(() => back === 120, { timeoutMs: 5000, what: 'the echo' })
    // an open stream's bytes are in the scrape ...
    assert.equal(await count(a, `${proto} sent`), 120)
    assert.equal(await count(a, `${proto} received`), 120)
    assert.equal(await count(b, `${proto} received`), echoed)
    assert.equal(await count(b, `${proto} sent`), 120)
    // ... once, and later bytes add to them, also after the stream closed
    s.send(new Uint8Array(5))
    await waitFor(() => back === 125, { timeoutMs: 5000, what: 'the second echo' })
    await s.close()
    assert.equal(await count(a, `${proto} sent`), 125)
    assert.equal(await count(a, `${proto} received`), 125)
    // the connection's bytes (Noise frames) grow with it
    assert.ok((await count(a, 'global sent')) >= globalSent + 125)
  })

  it("adds a libp2p counter's increments up between scrapes, with the same totals (issue 14)", async () => {
    const registry = new Registry()
    // the shape of @libp2p/prometheus-metrics 5's PrometheusCounter
    const lib = {
      counter: new Counter({ name: 'frames_total', help: 'frames', registers: [registry] }),
      increment(value = 1) {
        this.counter.inc(value)
      },
      reset() {
        this.counter.reset()
      }
    }
    tallyCounter(lib)
    tallyCounter(lib)
    const total = async (): Promise<string | undefined> =>
      (await registry.metrics()).split('\n').find((l) => l.startsWith('frames_total '))
    lib.increment()
    lib.increment(2)
    assert.equal(await total(), 'frames_total 3')
    assert.equal(await total(), 'frames_total 3')
    lib.increment()
    assert.equal(await total(), 'frames_total 4')
    lib.increment()
    lib.reset()
    assert.equal(await total(), 'frames_total 0')
  })

  it('refuses a bad key and non-loopback addresses with codes', async () => {
    await assert.rejects(createHost({ privateKey: new Uint8Array(31) }), (e) =>
      isBitwrkError(e, HostCode.BAD_KEY)
    )
    await assert.rejects(createHost({ privateKey: new Uint8Array(32) }), (e) =>
      isBitwrkError(e, HostCode.BAD_KEY)
    )
    await assert.rejects(
      createHost({ privateKey: randomPrivateKey(), loopbackOnly: true, listen: ['/ip4/0.0.0.0/tcp/0'] }),
      (e) => isBitwrkError(e, HostCode.NOT_LOOPBACK)
    )
    await assert.rejects(
      createHost({
        privateKey: randomPrivateKey(),
        loopbackOnly: true,
        bootstrap: ['/ip4/10.1.2.3/tcp/4001']
      }),
      (e) => isBitwrkError(e, HostCode.NOT_LOOPBACK)
    )
    await assert.rejects(
      createHost({ privateKey: randomPrivateKey(), bootstrap: ['not a multiaddr'] }),
      (e) => isBitwrkError(e, HostCode.BAD_ADDRESS)
    )
  })

  it('gates every non-loopback dial when loopbackOnly', async () => {
    const h = await createHost({ privateKey: randomPrivateKey(), loopbackOnly: true })
    hosts.push(h)
    const other = peerIdFromPrivateKey(privateKeyFromRaw(randomPrivateKey())).toString()
    await assert.rejects(
      h.libp2p.dial(multiaddr(`/ip4/192.0.2.1/tcp/4001/p2p/${other}`), { signal: AbortSignal.timeout(5000) }),
      (e: unknown) => e instanceof Error && e.name !== 'AbortError' && e.name !== 'TimeoutError'
    )
    assert.equal(h.libp2p.getConnections().length, 0)
  })

  it('dials its bootstrap peers at start and re-dials one that disconnects', async () => {
    const a = await createHost({ privateKey: randomPrivateKey(), loopbackOnly: true })
    hosts.push(a)
    const aAddr = a.multiaddrs()[0]!.toString()
    const b = await createHost({
      privateKey: randomPrivateKey(),
      loopbackOnly: true,
      bootstrap: [aAddr],
      bootstrapDeadlineMs: 5000,
      bootstrapTiming: { minBackoffMs: 20, maxBackoffMs: 100 }
    })
    hosts.push(b)
    // the first dial completed inside createHost
    assert.equal(b.bootstrapConnected(), 1)
    assert.equal(b.libp2p.getConnections(a.libp2p.peerId).length > 0, true)
    // the inbound side registers the connection a moment after the dialler does
    await waitFor(() => a.libp2p.getConnections(b.libp2p.peerId).length > 0, {
      timeoutMs: 5000,
      what: 'inbound'
    })
    const disconnected = new Promise<void>((resolve) =>
      b.libp2p.addEventListener('peer:disconnect', () => resolve(), { once: true })
    )
    await a.libp2p.hangUp(b.libp2p.peerId)
    await disconnected
    await waitFor(() => b.libp2p.getConnections(a.libp2p.peerId).length > 0 && b.bootstrapConnected() === 1, {
      timeoutMs: 5000,
      what: 're-dial'
    })
    const ok = (await b.metrics.bootstrapDials.get()).values.find((v) => v.labels['outcome'] === 'ok')
    assert.ok((ok?.value ?? 0) >= 2)
  })

  it('keeps trying an unreachable bootstrap peer without failing the start', async () => {
    // a port we opened and closed: nothing listens there any more
    const gone = await createHost({ privateKey: randomPrivateKey(), loopbackOnly: true })
    const addr = gone.multiaddrs()[0]!.toString()
    await gone.stop()
    const h = await createHost({
      privateKey: randomPrivateKey(),
      loopbackOnly: true,
      bootstrap: [addr],
      bootstrapDeadlineMs: 2000,
      bootstrapTiming: { minBackoffMs: 20, maxBackoffMs: 50 }
    })
    hosts.push(h)
    assert.equal(h.bootstrapConnected(), 0)
    await waitFor(
      async () =>
        ((await h.metrics.bootstrapDials.get()).values.find((v) => v.labels['outcome'] === 'error')?.value ??
          0) >= 2,
      { timeoutMs: 5000, what: 'retries' }
    )
  })

  it('never dials its own address from a shared bootstrap list', async () => {
    const self = peerIdFromPrivateKey(privateKeyFromRaw(randomPrivateKey()))
    let dials = 0
    const fake = {
      peerId: self,
      dial: async () => {
        dials++
        throw new Error('unexpected dial')
      },
      addEventListener: () => {},
      removeEventListener: () => {}
    } as unknown as Libp2p
    const d = new BootstrapDialer(
      fake,
      [multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${self}`)],
      silentLogger(),
      createMetrics()
    )
    await d.start(1000)
    await d.stop()
    assert.equal(dials, 0)
  })

  it('finds a provider over the private Kad-DHT across a line of three', async () => {
    net = await createTestnet({ nodes: 3, topology: 'line', fixedTopology: false })
    const [a, , c] = net.hosts as [BitwrkHost, BitwrkHost, BitwrkHost]
    const cid = CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode('bitwrk')))
    await a.libp2p.contentRouting.provide(cid, { signal: AbortSignal.timeout(10_000) })
    let found = false
    for await (const p of c.libp2p.contentRouting.findProviders(cid, {
      signal: AbortSignal.timeout(10_000)
    })) {
      if (p.id.equals(a.libp2p.peerId)) {
        found = true
        break
      }
    }
    assert.ok(found)
  })
})
