import assert from 'node:assert/strict'
import { type Connection, type MessageStream, StreamMessageEvent } from '@libp2p/interface'
import { StreamState } from '@libp2p/yamux/stream'
import type { Multiaddr } from '@multiformats/multiaddr'
import { type BitwrkHost, createHost } from '../../../node/host/host.js'
import { batchWindowUpdates, guardFrames, MuxGuardCode, TokenBucket } from '../../../node/host/mux-guard.js'
import {
  createTestnet,
  randomPrivateKey,
  type Testnet,
  waitFor,
  yamuxFrameHeader
} from '../../../node/testing.js'
import { isBitwrkError } from '../../../protocol/errors.js'

const header = yamuxFrameHeader
const DATA = 0
const WINDOW_UPDATE = 1
const SYN = 1

describe('node/mux-guard', () => {
  it('follows frame boundaries across messages and aborts at a data frame above the limit, before the muxer sees it', () => {
    const conn = new EventTarget() as EventTarget & { aborted: Error[] }
    conn.aborted = []
    Object.assign(conn, { abort: (err: Error) => conn.aborted.push(err) })
    const max = 1000
    guardFrames(conn as unknown as MessageStream, {
      maxDataBytes: max,
      streamOpens: { burst: 10, perSecond: 1 },
      now: () => 0
    })
    const muxerSaw: number[] = []
    // registered after the guard, as the muxer is
    conn.addEventListener('message', (e) => muxerSaw.push((e as StreamMessageEvent).data.byteLength))
    const send = (bytes: Uint8Array): void => {
      conn.dispatchEvent(new StreamMessageEvent(bytes))
    }
    // a window update (no body), then a data frame of exactly the limit, split three ways
    const frame = Buffer.concat([
      header(WINDOW_UPDATE, SYN, 1, 5),
      header(DATA, 0, 1, max),
      Buffer.alloc(max, 7)
    ])
    send(frame.subarray(0, 5))
    send(frame.subarray(5, 600))
    send(frame.subarray(600))
    assert.deepEqual(conn.aborted, [])
    // a header split over two messages, declaring one byte more than any window
    const big = header(DATA, 0, 1, max + 1)
    send(big.subarray(0, 7))
    assert.deepEqual(conn.aborted, [])
    send(Buffer.concat([big.subarray(7), Buffer.alloc(100)]))
    send(Buffer.alloc(50))
    assert.equal(conn.aborted.length, 1)
    assert.ok(isBitwrkError(conn.aborted[0], MuxGuardCode.FRAME_TOO_LARGE))
    assert.deepEqual(muxerSaw, [5, 595, frame.length - 600, 7])
  })

  it('aborts when the peer opens streams faster than its budget (HOST_MUX_STREAM_FLOOD)', () => {
    const conn = new EventTarget() as EventTarget & { aborted: Error[] }
    conn.aborted = []
    Object.assign(conn, { abort: (err: Error) => conn.aborted.push(err) })
    let now = 0
    guardFrames(conn as unknown as MessageStream, {
      maxDataBytes: 1000,
      streamOpens: { burst: 3, perSecond: 2 },
      now: () => now
    })
    const syn = (id: number, type = WINDOW_UPDATE): void => {
      conn.dispatchEvent(new StreamMessageEvent(header(type, SYN, id, 0)))
    }
    // the burst, then one more per half second; frames without SYN cost nothing
    for (const id of [1, 3, 5]) syn(id)
    conn.dispatchEvent(new StreamMessageEvent(header(WINDOW_UPDATE, 0, 1, 100)))
    now = 500
    syn(7, DATA)
    assert.deepEqual(conn.aborted, [])
    syn(9)
    assert.equal(conn.aborted.length, 1)
    assert.ok(isBitwrkError(conn.aborted[0], MuxGuardCode.STREAM_FLOOD))
  })

  it('batchWindowUpdates: a window update once half the window is used, at once when opening or acknowledging (issue 14)', () => {
    type FakeStream = {
      state: number
      recvWindow: number
      recvWindowCapacity: number
      sendWindowUpdate: () => void
    }
    const sent: number[] = []
    const fakeMuxer = {
      _newStream(streamId: number, state: number): FakeStream {
        const s: FakeStream = {
          state,
          recvWindow: 1000,
          recvWindowCapacity: 1000,
          // the library's own update: grants the used part back (and acknowledges once)
          sendWindowUpdate() {
            sent.push(streamId)
            if (s.state === StreamState.SYNReceived) s.state = StreamState.Established
            s.recvWindowCapacity = s.recvWindow
          }
        }
        return s
      }
    }
    const muxer = batchWindowUpdates(fakeMuxer)
    // an inbound stream acknowledges with its first update, however little was used
    const inbound = muxer._newStream(2, StreamState.SYNReceived)
    inbound.recvWindowCapacity -= 10
    inbound.sendWindowUpdate()
    assert.deepEqual(sent, [2])
    // then small frames are granted back only once half the window is used
    for (let i = 0; i < 49; i++) {
      inbound.recvWindowCapacity -= 10
      inbound.sendWindowUpdate()
    }
    assert.deepEqual(sent, [2])
    inbound.recvWindowCapacity -= 10
    inbound.sendWindowUpdate()
    assert.deepEqual(sent, [2, 2])
    assert.equal(inbound.recvWindowCapacity, 1000)
    // a stream we open sends its SYN at once
    const outbound = muxer._newStream(1, StreamState.Init)
    outbound.sendWindowUpdate()
    assert.deepEqual(sent, [2, 2, 1])
    // a muxer without the internals is returned as it is
    const other = { createStream: () => undefined }
    assert.equal(batchWindowUpdates(other), other)
  })

  it('TokenBucket: the burst at once, then the refill rate, never more than the burst', () => {
    let now = 0
    const b = new TokenBucket({ burst: 2, perSecond: 4 }, () => now)
    assert.deepEqual([b.take(), b.take(), b.take()], [true, true, false])
    now = 250
    assert.deepEqual([b.take(), b.take()], [true, false])
    now = 10_000
    assert.deepEqual([b.take(), b.take(), b.take()], [true, true, false])
  })

  describe('inbound connection budget (GOSSIP-14)', () => {
    const hosts: BitwrkHost[] = []
    afterEach(async () => {
      await Promise.all(hosts.splice(0).map((h) => h.stop()))
    })

    it('refuses connections beyond the budget before the handshake, counts them, and keeps the ones it took', async () => {
      const start = async (opts: { inboundConnections?: { burst: number; perSecond: number } } = {}) => {
        const h = await createHost({
          privateKey: randomPrivateKey(),
          loopbackOnly: true,
          dhtSelfQuery: false,
          ...opts
        })
        hosts.push(h)
        return h
      }
      // two at once, then (for the test's life) no refill
      const victim = await start({ inboundConnections: { burst: 2, perSecond: 0.001 } })
      const at = victim.multiaddrs()[0] as Multiaddr
      const [a, b, c] = [await start(), await start(), await start()] as [BitwrkHost, BitwrkHost, BitwrkHost]
      await a.libp2p.dial(at, { signal: AbortSignal.timeout(10_000) })
      await b.libp2p.dial(at, { signal: AbortSignal.timeout(10_000) })
      await assert.rejects(c.libp2p.dial(at, { signal: AbortSignal.timeout(10_000) }))
      const refused = await victim.metrics.registry.getSingleMetric('bitwrk_p2p_inbound_refused_total')?.get()
      assert.equal(refused?.values[0]?.value, 1)
      // the victim never learnt the third peer's identity: refused before the handshake
      assert.equal(victim.libp2p.getConnections(c.libp2p.peerId).length, 0)
      assert.equal(victim.isBanned(c.peerId), false)
      for (const p of [a, b]) assert.equal(victim.libp2p.getConnections(p.libp2p.peerId).length, 1)
    })
  })

  describe('on a real connection', () => {
    let net: Testnet | undefined
    afterEach(async () => {
      await net?.stop()
      net = undefined
    })

    it('cuts the connection of a peer whose Yamux frame declares 1 GiB instead of buffering it (HOST_MUX_FRAME_TOO_LARGE)', async () => {
      net = await createTestnet({
        nodes: 2,
        topology: 'line',
        fixedTopology: false,
        host: { dhtSelfQuery: false }
      })
      const [victim, attacker] = net.hosts as [BitwrkHost, BitwrkHost]
      const conn = await attacker.libp2p.dial(victim.multiaddrs()[0] as Multiaddr)
      const inbound = (): Connection | undefined =>
        victim.libp2p.getConnections(attacker.libp2p.peerId).find((c) => c.direction === 'inbound')
      await waitFor(() => inbound() !== undefined, {
        timeoutMs: 10_000,
        what: 'the victim sees the connection'
      })
      const victimSide = inbound() as Connection
      let cause: unknown
      victimSide.addEventListener('close', (e) => {
        cause = (e as Event & { error?: Error }).error
      })
      // the muxer's encrypted byte stream, below Yamux: frames written here are raw Yamux
      const raw = (conn as unknown as { muxer: { maConn: MessageStream; nextStreamID: number } }).muxer
      const id = raw.nextStreamID
      raw.nextStreamID += 2
      raw.maConn.send(header(WINDOW_UPDATE, SYN, id, 0))
      raw.maConn.send(header(DATA, 0, id, 2 ** 30))
      // 4 MiB of the body, as fast as the connection takes it, unless it is cut first
      const piece = new Uint8Array(64 << 10)
      let sent = 0
      while (sent < 4 << 20 && raw.maConn.status === 'open') {
        if (!raw.maConn.send(piece))
          await new Promise<void>((r) => {
            const t = setTimeout(r, 100)
            raw.maConn.addEventListener('drain', () => {
              clearTimeout(t)
              r()
            })
          })
        sent += piece.length
      }
      await waitFor(() => victimSide.status !== 'open', {
        timeoutMs: 10_000,
        what: 'the victim cut the connection'
      })
      assert.ok(isBitwrkError(cause, MuxGuardCode.FRAME_TOO_LARGE), String(cause))
      assert.ok(sent < 4 << 20, `the victim took all ${sent} bytes`)
      // GOSSIP-13: and banned like a graylisted peer
      assert.equal(victim.isBanned(attacker.peerId), true)
    })
  })
})
