import assert from 'node:assert/strict'
import type { Stream } from '@libp2p/interface'
import {
  BULK_UNREAD_BYTES,
  type LimitedByteStream,
  libp2pByteStream
} from '../../../cafs/adapters/libp2p/index.js'
import { XferCode } from '../../../cafs/transfer/index.js'
import type { BitwrkHost } from '../../../node/host/host.js'
import { createTestnet, type Testnet, waitFor } from '../../../node/testing.js'
import { isBitwrkError } from '../../../protocol/errors.js'
import { prng } from './helpers.js'

/** A protocol of this test only. */
const PROTOCOL = '/bitwrk-test/bounded/1.0.0'
/** A one-byte echo: a round trip over the same connection. */
const ECHO = '/bitwrk-test/echo/1.0.0'
/** Every wait in this file has a deadline well inside mocha's. */
const WAIT = { timeoutMs: 10_000 }
/** Yamux's initial stream window (the Yamux spec): what a sender may send before any update. */
const INITIAL_WINDOW = 256 << 10

describe('cafs/adapters/libp2p stream (XFER-23)', () => {
  let net: Testnet | undefined
  afterEach(async () => {
    await net?.stop()
    net = undefined
  })

  /** Two connected hosts; `receiver` wraps every stream of {@link PROTOCOL} with `wrap`. */
  async function pair(
    wrap: (s: Stream) => LimitedByteStream
  ): Promise<{ sender: BitwrkHost; receiver: BitwrkHost; received: Promise<LimitedByteStream> }> {
    net = await createTestnet({ nodes: 2, topology: 'line', host: { dhtSelfQuery: false } })
    // node 1 dialled node 0: its connection is open when the testnet is
    const [receiver, sender] = net.hosts as [BitwrkHost, BitwrkHost]
    let got!: (bs: LimitedByteStream) => void
    const received = new Promise<LimitedByteStream>((r) => {
      got = r
    })
    await receiver.libp2p.handle(PROTOCOL, (s) => got(wrap(s)))
    await receiver.libp2p.handle(ECHO, async (s) => {
      const bs = libp2pByteStream(s)
      for await (const b of bs.source) await bs.write(b)
      await bs.close()
    })
    return { sender, receiver, received }
  }

  /** One round trip from `a` to `b` and back over their connection. */
  async function roundTrip(a: BitwrkHost, b: BitwrkHost): Promise<void> {
    const bs = libp2pByteStream(
      await a.libp2p.dialProtocol(b.libp2p.peerId, ECHO, { signal: AbortSignal.timeout(5000) })
    )
    await bs.write(Uint8Array.of(1))
    await bs.close()
    for await (const _ of bs.source) {
      // the echo
    }
  }

  it('reads only what is asked for: a peer pushing 8 MiB into an unread stream is held by flow control to the cap, and every byte arrives when read', async () => {
    const { sender, receiver, received } = await pair((s) => libp2pByteStream(s))
    const payload = prng(8 << 20, 3)
    const out = await sender.libp2p.dialProtocol(receiver.libp2p.peerId, PROTOCOL, {
      signal: AbortSignal.timeout(5000)
    })
    out.send(payload)
    const bs = await received
    // the first window arrives without any read ...
    await waitFor(() => bs.unread() >= INITIAL_WINDOW, { ...WAIT, what: 'the first window' })
    // ... and a few round trips later nothing more did: the stream is paused, Yamux sends no updates
    for (let i = 0; i < 3; i++) await roundTrip(sender, receiver)
    assert.ok(bs.unread() <= BULK_UNREAD_BYTES, `unread ${bs.unread()}`)
    assert.ok(
      out.writeBufferLength >= payload.length - BULK_UNREAD_BYTES,
      `sender buffer ${out.writeBufferLength}`
    )
    // the close waits for the sender's buffer to drain: only reading lets it
    const closing = out.close()
    const parts: Uint8Array[] = []
    for await (const b of bs.source) {
      parts.push(b)
      // pulled: never more than the cap between two reads
      assert.ok(bs.unread() <= BULK_UNREAD_BYTES)
    }
    await closing
    assert.deepEqual(new Uint8Array(Buffer.concat(parts)), payload)
  })

  it('keeps at most the step cap of a peer that sends more and fails the read after them with CAFS_XFER_OVERRUN', async () => {
    let overruns = 0
    const cap = 1000
    const { sender, receiver, received } = await pair((s) =>
      libp2pByteStream(s, { maxUnreadBytes: cap, onOverrun: () => overruns++ })
    )
    const out = await sender.libp2p.dialProtocol(receiver.libp2p.peerId, PROTOCOL, {
      signal: AbortSignal.timeout(5000)
    })
    out.send(prng(64 << 10, 4))
    const bs = await received
    let read = 0
    let code = 'none'
    try {
      for await (const b of bs.source) read += b.byteLength
    } catch (err) {
      code = isBitwrkError(err) ? err.code : String(err)
    }
    assert.equal(code, XferCode.OVERRUN)
    assert.ok(read <= cap, `read ${read}`)
    assert.equal(overruns, 1)
    // a later step may not lift it: the stream stays overrun
    bs.setMaxUnread(BULK_UNREAD_BYTES)
    await assert.rejects(bs.source[Symbol.asyncIterator]().next(), (err) =>
      isBitwrkError(err, XferCode.OVERRUN)
    )
    bs.abort()
  })

  it('lowers the cap for the next step: bytes sent ahead beyond it are an overrun', async () => {
    const { sender, receiver, received } = await pair((s) => libp2pByteStream(s))
    const out = await sender.libp2p.dialProtocol(receiver.libp2p.peerId, PROTOCOL, {
      signal: AbortSignal.timeout(5000)
    })
    out.send(prng(4096, 5))
    const bs = await received
    await waitFor(() => bs.unread() === 4096, { ...WAIT, what: 'the bytes arrived' })
    bs.setMaxUnread(100)
    const first = await bs.source[Symbol.asyncIterator]().next()
    assert.equal(first.value?.byteLength, 100)
    await assert.rejects(bs.source[Symbol.asyncIterator]().next(), (err) =>
      isBitwrkError(err, XferCode.OVERRUN)
    )
    bs.abort()
  })
})
