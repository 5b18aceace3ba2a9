import assert from 'node:assert/strict'
import { ChunkExchange } from '../../../cafs/adapters/libp2p/index.js'
import { MemoryChunkStore } from '../../../cafs/store/memory.js'
import { isXferError, XferCode } from '../../../cafs/transfer/index.js'
import { withDirectChunkDials } from '../../../node/host/direct.js'
import type { BitwrkHost } from '../../../node/host/host.js'
import { lookupOf, storedFile } from '../../cafs/adapters/helpers.js'
import { directFixture, relayedConnection, reserveOn } from './direct-helpers.js'

/** DIRECT-13: chunk fetches from a peer reachable only through a relay. */
describe('node/host direct connections for chunk fetches (DIRECT-13)', function () {
  this.timeout(40_000)
  const fx = directFixture()
  afterEach(() => fx.cleanup())
  const host = fx.host

  async function exchange(
    h: BitwrkHost,
    init: ConstructorParameters<typeof ChunkExchange>[1]
  ): Promise<ChunkExchange> {
    const x = new ChunkExchange(withDirectChunkDials(h.libp2p, h.direct), init)
    await x.start()
    fx.defer(() => x.stop())
    return x
  }

  async function relayedPair(
    providerWebRTC: boolean
  ): Promise<{ provider: BitwrkHost; fetcher: BitwrkHost }> {
    const r = await fx.relay()
    const provider = await host({ listen: [], direct: { webrtc: providerWebRTC } })
    const fetcher = await host({ listen: [], direct: { webrtc: true } })
    const circuit = await reserveOn(provider, r)
    await fetcher.libp2p.dial(r.getMultiaddrs()[0] as never, { signal: AbortSignal.timeout(5000) })
    const relayed = await relayedConnection(fetcher, circuit)
    assert.notEqual(relayed.limits, undefined)
    return { provider, fetcher }
  }

  it('fetches a file larger than the relay data limit over the WebRTC connection the fetch opened', async () => {
    const { provider, fetcher } = await relayedPair(true)
    const file = await storedFile(512 * 1024, 21)
    await exchange(provider, { store: file.store, manifests: lookupOf(file.manifest) })
    const xf = await exchange(fetcher, { store: new MemoryChunkStore() })
    const result = await xf.fetchFile(file.manifest, { providers: [provider.libp2p.peerId] })
    assert.ok(result.bytesReceived > 128 * 1024)
    const conns = fetcher.libp2p.getConnections(provider.libp2p.peerId).filter((c) => c.limits === undefined)
    assert.ok(conns.some((c) => c.remoteAddr.toString().includes('/webrtc')))
  })

  it('never fetches chunks over the relayed connection: without an upgrade the provider is skipped', async () => {
    const { provider, fetcher } = await relayedPair(false)
    const file = await storedFile(64 * 1024, 22)
    await exchange(provider, { store: file.store, manifests: lookupOf(file.manifest) })
    const xf = await exchange(fetcher, { store: new MemoryChunkStore() })
    await assert.rejects(
      xf.fetchFile(file.manifest, {
        providers: [provider.libp2p.peerId],
        signal: AbortSignal.timeout(20_000)
      }),
      (err: unknown) => {
        // the only provider's dial failed (CHUNK_DIAL_FAILED): no provider left
        assert.ok(isXferError(err, XferCode.UNAVAILABLE), String(err))
        return true
      }
    )
    assert.ok(fetcher.libp2p.getConnections(provider.libp2p.peerId).every((c) => c.limits !== undefined))
  })
})
