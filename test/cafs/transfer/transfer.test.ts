import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import {
  type ByteStream,
  encodeChunks,
  encodeDone,
  encodeFrame,
  encodeOffer,
  encodeWant,
  FrameReader,
  receiveFile,
  type SendProgress,
  sendFile,
  XferCode
} from '../../../cafs/transfer/index.js'
import type { Manifest } from '../../../cafs/types.js'
import { rejectsWithCode } from '../../support/errors.js'
import { chunkFile, h, MapStore, prng, socketPair, storeWith } from './helpers.js'

/** Short per-message timeout for the hostile tables, so stall cases finish fast. */
const FAST = { messageTimeoutMs: 500 }
/** Generous timeout where a timeout would be a spurious failure on a loaded machine. */
const SAFE = { messageTimeoutMs: 10_000 }

/** Sum of the sizes of the manifest chunks the store lacks. */
async function missingBytes(manifest: Manifest, store: MapStore): Promise<number> {
  let n = 0
  for (const c of manifest.chunks) if (!(await store.has(c.key))) n += c.size
  return n
}

/** Reassembles a file from the store. */
async function assemble(manifest: Manifest, store: MapStore): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for (const c of manifest.chunks) parts.push((await store.get(c.key))!)
  return Uint8Array.from(Buffer.concat(parts))
}

/** Wraps a stream so that after `limit` bytes it writes the part that fits and kills the socket. */
function cutAfter(stream: ByteStream, socket: Socket, limit: number): ByteStream {
  let written = 0
  return {
    ...stream,
    async write(bytes, options) {
      if (written + bytes.length <= limit) {
        written += bytes.length
        return stream.write(bytes, options)
      }
      const part = bytes.subarray(0, limit - written)
      written = limit
      await stream.write(part, options)
      // Let the partial frame reach the peer, then cut the connection mid-stream.
      await new Promise<void>((resolve) => socket.end(resolve))
      socket.destroy()
      throw new Error('cut')
    }
  }
}

describe('cafs/transfer push over a real socket', () => {
  const file = prng(300_000, 11)
  const { manifest, chunks } = chunkFile(file, 1024, 8192)
  let cleanup: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanup) await c()
    cleanup = []
  })
  const pair = async (): ReturnType<typeof socketPair> => {
    const p = await socketPair()
    cleanup.push(p.close)
    return p
  }

  it('transfers a whole file to an empty store and verifies it', async () => {
    const { a, b, aSocket } = await pair()
    const sender = await storeWith(chunks)
    const receiver = new MapStore()
    const [sent, got] = await Promise.all([
      sendFile(a, manifest, sender, { limits: SAFE }),
      receiveFile(b, receiver, { limits: SAFE, expectedFileKey: manifest.fileKey })
    ])
    assert.equal(sent.chunksSent, manifest.chunks.length)
    assert.equal(sent.chunkBytesSent, file.length)
    assert.equal(got.bytesReceived, file.length)
    assert.deepEqual(await assemble(manifest, receiver), file)
    assert.ok(sent.messagesSent < manifest.chunks.length / 4, 'many chunks per message')
    // Framing overhead on the real socket: the offer plus a few bytes per chunk.
    assert.equal(aSocket.bytesWritten, sent.wireBytesWritten)
    assert.ok(
      aSocket.bytesWritten < file.length + encodeOffer(manifest).length + 8 * manifest.chunks.length + 64
    )
    assert.equal(receiver.pins.size, 0, 'no pins left behind')
  })

  it('sends only the chunks the receiver lacks (differential, byte-counted on the socket)', async () => {
    const { a, b, aSocket } = await pair()
    const sender = await storeWith(chunks)
    // The receiver holds every chunk except every 7th.
    const receiver = await storeWith(chunks.filter((_c, i) => i % 7 !== 3))
    const lacking = await missingBytes(manifest, receiver)
    assert.ok(lacking > 0 && lacking < file.length / 5)
    const [sent, got] = await Promise.all([
      sendFile(a, manifest, sender, { limits: SAFE }),
      receiveFile(b, receiver, { limits: SAFE })
    ])
    assert.equal(sent.chunkBytesSent, lacking)
    assert.equal(got.bytesReceived, lacking)
    const overhead = aSocket.bytesWritten - lacking - encodeOffer(manifest).length
    assert.ok(overhead >= 0 && overhead < 16 * sent.chunksSent + 64, `overhead ${overhead}`)
    assert.deepEqual(await assemble(manifest, receiver), file)
  })

  it('reports the sender progress from the wishlist to the last CHUNKS message, never decreasing', async () => {
    const { a, b } = await pair()
    const sender = await storeWith(chunks)
    const receiver = await storeWith(chunks.filter((_c, i) => i % 5 !== 1))
    const lacking = await missingBytes(manifest, receiver)
    const seen: SendProgress[] = []
    const [sent] = await Promise.all([
      sendFile(a, manifest, sender, { limits: SAFE, onProgress: (p) => seen.push(p) }),
      receiveFile(b, receiver, { limits: SAFE })
    ])
    assert.ok(seen.length >= 2, 'the wishlist, then at least one message')
    assert.deepEqual(seen[0], {
      chunksWanted: sent.chunksSent,
      bytesWanted: lacking,
      chunksSent: 0,
      bytesSent: 0
    })
    assert.deepEqual(seen.at(-1), {
      chunksWanted: sent.chunksSent,
      bytesWanted: lacking,
      chunksSent: sent.chunksSent,
      bytesSent: lacking
    })
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.bytesSent >= seen[i - 1]!.bytesSent)
  })

  it('sends nothing but the offer when the receiver already holds the file', async () => {
    const { a, b, aSocket } = await pair()
    const sender = await storeWith(chunks)
    const receiver = await storeWith(chunks)
    const [sent] = await Promise.all([sendFile(a, manifest, sender), receiveFile(b, receiver)])
    assert.equal(sent.chunksSent, 0)
    assert.equal(
      aSocket.bytesWritten,
      encodeFrame(encodeOffer(manifest)).length + encodeFrame(encodeDone()).length
    )
  })

  it('resumes an interrupted transfer without resending what arrived', async () => {
    const sender = await storeWith(chunks)
    const receiver = new MapStore()
    const first = await pair()
    const cut = cutAfter(first.a, first.aSocket, Math.floor(file.length * 0.6))
    // Small CHUNKS messages, so that several whole frames arrive before the cut.
    const [s1, r1] = await Promise.allSettled([
      sendFile(cut, manifest, sender, { limits: { ...SAFE, targetMessageBytes: 16_384 } }),
      receiveFile(first.b, receiver, { limits: SAFE })
    ])
    assert.equal(s1.status, 'rejected')
    assert.equal(r1.status, 'rejected')
    if (r1.status === 'rejected') assert.ok([XferCode.TRUNCATED, XferCode.CLOSED].includes(r1.reason.code))
    const arrived = receiver.map.size
    assert.ok(arrived > 0 && arrived < manifest.chunks.length, `arrived ${arrived}`)
    assert.equal(receiver.pins.size, 0)
    const lacking = await missingBytes(manifest, receiver)

    const second = await pair()
    const [s2, r2] = await Promise.all([
      sendFile(second.a, manifest, sender, { limits: SAFE }),
      receiveFile(second.b, receiver, { limits: SAFE })
    ])
    assert.equal(s2.chunkBytesSent, lacking)
    assert.equal(s2.chunksSent, manifest.chunks.length - arrived)
    assert.equal(r2.chunksReceived + arrived, manifest.chunks.length)
    assert.ok(second.aSocket.bytesWritten < lacking + encodeOffer(manifest).length + 16 * s2.chunksSent + 64)
    assert.deepEqual(await assemble(manifest, receiver), file)
  })

  it('reports an ERROR from the receiver to the sender as CAFS_XFER_PEER_ERROR', async () => {
    const { a, b } = await pair()
    const sender = await storeWith(chunks)
    const other = chunkFile(prng(5000, 99)).manifest
    const [s, r] = await Promise.allSettled([
      sendFile(a, manifest, sender, { limits: SAFE }),
      receiveFile(b, new MapStore(), { limits: SAFE, expectedFileKey: other.fileKey })
    ])
    assert.equal(r.status === 'rejected' && r.reason.code, XferCode.MANIFEST_MISMATCH)
    assert.equal(s.status === 'rejected' && s.reason.code, XferCode.PEER_ERROR)
    assert.equal(s.status === 'rejected' && s.reason.details.remoteCode, XferCode.MANIFEST_MISMATCH)
  })

  it('fails a sender that lacks a chunk with CAFS_XFER_MISSING_CHUNK and the receiver keeps what arrived', async () => {
    const { a, b } = await pair()
    const sender = await storeWith(chunks.slice(0, -1))
    const receiver = new MapStore()
    const [s, r] = await Promise.allSettled([
      sendFile(a, manifest, sender, { limits: SAFE }),
      receiveFile(b, receiver, { limits: SAFE })
    ])
    assert.equal(s.status === 'rejected' && s.reason.code, XferCode.MISSING_CHUNK)
    assert.equal(r.status === 'rejected' && r.reason.code, XferCode.PEER_ERROR)
    // Innocent failure: verified chunks stay for a later resume.
    assert.ok(receiver.map.size > 0)
  })

  it('honours the caller AbortSignal on a silent peer', async () => {
    const { b } = await pair()
    await rejectsWithCode(
      receiveFile(b, new MapStore(), { signal: AbortSignal.timeout(50) }),
      XferCode.ABORTED
    )
  })
})

describe('cafs/transfer receiver against hand-crafted frames', () => {
  const file = prng(40_000, 5)
  const { manifest, chunks } = chunkFile(file, 1024, 8192)
  const limits = { ...FAST, maxChunkSize: 8192, maxChunks: 64 }
  let cleanup: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanup) await c()
    cleanup = []
  })

  /**
   * Runs a receiver (holding `held`) against a scripted peer on a real socket: `script` writes
   * raw bytes. Returns the receiver's error code, the code of the ERROR frame it sent back (if
   * any) and whether its store is unchanged.
   */
  async function hostile(
    script: (peer: {
      write: (b: Uint8Array) => Promise<void>
      reader: FrameReader
      end: () => void
    }) => Promise<void>,
    held: readonly Uint8Array[] = chunks.slice(0, 2)
  ): Promise<{ code: string; sentBack: string | undefined; unchanged: boolean; added: number }> {
    const p = await socketPair()
    cleanup.push(p.close)
    const store = await storeWith(held)
    const before = store.snapshot()
    const reader = new FrameReader(p.a.source)
    const peer = {
      write: (b: Uint8Array) => p.a.write(b),
      reader,
      end: () => {
        p.aSocket.end()
      }
    }
    const received = receiveFile(p.b, store, { limits })
    const scripted = script(peer).catch(() => {})
    const code = await received.then(
      () => 'resolved',
      (err: { code?: string }) => err.code ?? String(err)
    )
    await scripted
    // Whatever the receiver sent after WANT: an ERROR frame carries its code.
    let sentBack: string | undefined
    try {
      for (;;) {
        const body = await reader.read({ maxLength: 1 << 20, timeoutMs: 500 })
        if (body === undefined) break
        if (body[0] === 0x7f) sentBack = Buffer.from(body.subarray(1)).toString()
      }
    } catch {
      // The receiver tore the stream down.
    }
    const unchanged = JSON.stringify(store.snapshot()) === JSON.stringify(before) && store.pins.size === 0
    return { code, sentBack, unchanged, added: store.map.size - before.length }
  }

  const frame = (body: Uint8Array): Uint8Array => encodeFrame(body)
  /** Reads the WANT the receiver sends after an offer. */
  const offerAndWant = async (peer: { write: (b: Uint8Array) => Promise<void>; reader: FrameReader }) => {
    await peer.write(frame(encodeOffer(manifest)))
    await peer.reader.read({ maxLength: 1 << 20, timeoutMs: 1000 })
  }
  const rec = (i: number, bytes?: Uint8Array) => ({ index: i, bytes: bytes ?? chunks[i]! })

  const cases: [string, Parameters<typeof hostile>[0], string][] = [
    [
      'a manifest frame cut short by the end of the stream',
      async (p) => {
        const f = frame(encodeOffer(manifest))
        await p.write(f.subarray(0, f.length - 10))
        p.end()
      },
      XferCode.TRUNCATED
    ],
    [
      'a manifest body that ends early',
      async (p) => {
        const o = encodeOffer(manifest)
        await p.write(frame(o.subarray(0, o.length - 3)))
      },
      XferCode.BAD_MANIFEST
    ],
    [
      'an oversized manifest frame',
      async (p) => {
        await p.write(Uint8Array.of(0xff, 0xff, 0xff, 0x7f))
      },
      XferCode.MANIFEST_TOO_LARGE
    ],
    [
      'a manifest with too many chunks',
      async (p) => {
        const many: Manifest = {
          fileKey: manifest.fileKey,
          size: 65,
          chunks: Array.from({ length: 65 }, (_x, i) => ({ key: h(Uint8Array.of(i)), size: 1 }))
        }
        await p.write(frame(encodeOffer(many)))
      },
      XferCode.MANIFEST_TOO_LARGE
    ],
    [
      'a first message that is not an offer',
      async (p) => {
        await p.write(frame(encodeDone()))
      },
      XferCode.UNEXPECTED_MESSAGE
    ],
    [
      'an unknown message type',
      async (p) => {
        await p.write(frame(Uint8Array.of(0x55, 1, 2)))
      },
      XferCode.UNKNOWN_MESSAGE
    ],
    [
      'a chunk that does not match its key (after a good one)',
      async (p) => {
        await offerAndWant(p)
        const bad = Uint8Array.from(chunks[3]!)
        bad[0] = (bad[0] as number) ^ 1
        await p.write(frame(encodeChunks([rec(2), rec(3, bad)])))
      },
      XferCode.HASH_MISMATCH
    ],
    [
      'a chunk longer than maxChunkSize',
      async (p) => {
        await offerAndWant(p)
        await p.write(frame(encodeChunks([rec(2, new Uint8Array(8193))])))
      },
      XferCode.CHUNK_TOO_LARGE
    ],
    [
      'a chunk of the wrong length',
      async (p) => {
        await offerAndWant(p)
        await p.write(frame(encodeChunks([rec(2, chunks[2]!.subarray(1))])))
      },
      XferCode.CHUNK_SIZE_MISMATCH
    ],
    [
      'a chunk that was not asked for',
      async (p) => {
        await offerAndWant(p)
        await p.write(frame(encodeChunks([rec(0)])))
      },
      XferCode.UNSOLICITED_CHUNK
    ],
    [
      'a message type out of place (WANT from the sender)',
      async (p) => {
        await offerAndWant(p)
        await p.write(frame(encodeWant([{ start: 0, end: 1 }])))
      },
      XferCode.UNEXPECTED_MESSAGE
    ],
    [
      'DONE before every wanted chunk',
      async (p) => {
        await offerAndWant(p)
        await p.write(frame(encodeChunks([rec(2)])))
        await p.write(frame(encodeDone()))
      },
      XferCode.INCOMPLETE
    ],
    [
      'chunks that do not assemble to the file key',
      async (p) => {
        // A manifest whose chunks all verify, but whose file key is another file's.
        await p.write(frame(encodeOffer({ ...manifest, fileKey: h(Uint8Array.of(1)) })))
        await p.reader.read({ maxLength: 1 << 20, timeoutMs: 1000 })
        await p.write(frame(encodeChunks(chunks.slice(2).map((_c, i) => rec(i + 2)))))
        await p.write(frame(encodeDone()))
      },
      XferCode.FILE_KEY_MISMATCH
    ],
    [
      'a stream that stalls after the offer',
      async (p) => {
        await offerAndWant(p)
      },
      XferCode.TIMEOUT
    ],
    [
      'a stream that stalls inside a frame',
      async (p) => {
        await offerAndWant(p)
        const f = frame(encodeChunks([rec(2)]))
        await p.write(f.subarray(0, 100))
      },
      XferCode.TIMEOUT
    ],
    [
      'a stream that closes between frames',
      async (p) => {
        await offerAndWant(p)
        p.end()
      },
      XferCode.CLOSED
    ]
  ]

  for (const [what, script, code] of cases) {
    it(`fails ${what} with ${code}`, async () => {
      const r = await hostile(script)
      assert.equal(r.code, code)
      // Misbehaviour and stalls leave the store exactly as it was; only innocent
      // interruptions keep verified chunks for a resume (and none arrived here).
      assert.ok(r.unchanged, 'store unchanged')
      if (![XferCode.TRUNCATED, XferCode.CLOSED, XferCode.TIMEOUT].includes(code as 'CAFS_XFER_TIMEOUT'))
        assert.equal(r.sentBack, code, 'ERROR frame sent back')
    })
  }

  it('keeps verified chunks when a stream stalls after some arrived (so a retry resumes)', async () => {
    const r = await hostile(async (p) => {
      await offerAndWant(p)
      await p.write(frame(encodeChunks([rec(2), rec(3)])))
    })
    assert.equal(r.code, XferCode.TIMEOUT)
    assert.equal(r.added, 2)
  })
})

describe('cafs/transfer sender against hand-crafted frames', () => {
  const file = prng(40_000, 8)
  const { manifest, chunks } = chunkFile(file, 1024, 8192)
  let cleanup: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanup) await c()
    cleanup = []
  })

  /** Runs a sender against a scripted receiver that answers the offer with `reply` frames. */
  async function hostileReceiver(
    reply: (r: { write: (b: Uint8Array) => Promise<void>; reader: FrameReader }) => Promise<void>,
    sendManifest: Manifest = manifest,
    limits: Record<string, number> = FAST
  ): Promise<string> {
    const p = await socketPair()
    cleanup.push(p.close)
    const store = await storeWith(chunks)
    const reader = new FrameReader(p.b.source)
    const sent = sendFile(p.a, sendManifest, store, { limits })
    const script = (async () => {
      await reader.read({ maxLength: 1 << 20, timeoutMs: 1000 })
      await reply({ write: (b) => p.b.write(b), reader })
    })().catch(() => {})
    const code = await sent.then(
      () => 'resolved',
      (err: { code?: string }) => err.code ?? String(err)
    )
    await script
    return code
  }

  const cases: [string, Parameters<typeof hostileReceiver>[0], string][] = [
    [
      'a wishlist beyond the manifest',
      async (r) => {
        await r.write(encodeFrame(encodeWant([{ start: 0, end: manifest.chunks.length + 1 }])))
      },
      XferCode.WISHLIST_OUT_OF_RANGE
    ],
    [
      'a non-canonical wishlist',
      async (r) => {
        await r.write(encodeFrame(Uint8Array.of(0x02, 0x02, 0x00, 0x01, 0x00, 0x01)))
      },
      XferCode.BAD_WISHLIST
    ],
    [
      'an answer that is not a wishlist',
      async (r) => {
        await r.write(encodeFrame(encodeDone()))
      },
      XferCode.UNEXPECTED_MESSAGE
    ],
    ['a receiver that never answers', async () => {}, XferCode.TIMEOUT],
    [
      'an ACK for another file',
      async (r) => {
        await r.write(encodeFrame(encodeWant([])))
        await r.reader.read({ maxLength: 1 << 20, timeoutMs: 1000 })
        await r.write(encodeFrame(Uint8Array.from([0x05, ...h(Uint8Array.of(9))])))
      },
      XferCode.FILE_KEY_MISMATCH
    ],
    [
      'an early message while chunks are streaming',
      async (r) => {
        await r.write(encodeFrame(encodeWant([{ start: 0, end: manifest.chunks.length }])))
        await r.write(encodeFrame(encodeDone()))
      },
      XferCode.UNEXPECTED_MESSAGE
    ]
  ]
  for (const [what, reply, code] of cases)
    it(`fails on ${what} with ${code}`, async () => {
      assert.equal(await hostileReceiver(reply), code)
    })

  it('times out a receiver that stops reading (write back-pressure never drains)', async () => {
    const big = prng(24 << 20, 4)
    const c = chunkFile(big, 65_536, 131_072)
    const p = await socketPair()
    cleanup.push(p.close)
    const store = await storeWith(c.chunks)
    const reader = new FrameReader(p.b.source)
    const sent = sendFile(p.a, c.manifest, store, { limits: { messageTimeoutMs: 200 } })
    await reader.read({ maxLength: 1 << 24, timeoutMs: 1000 })
    await p.b.write(encodeFrame(encodeWant([{ start: 0, end: c.manifest.chunks.length }])))
    // The receiver reads nothing more: the socket buffers fill and the write cannot drain.
    p.bSocket.pause()
    await rejectsWithCode(sent, XferCode.TIMEOUT)
  })
})
