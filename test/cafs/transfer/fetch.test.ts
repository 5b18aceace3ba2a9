import assert from 'node:assert/strict'
import { HashPool } from '../../../cafs/hash-pool.js'
import {
  type BadProviderEvent,
  type ByteStream,
  encodeChunks,
  encodeDone,
  encodeFrame,
  encodeGet,
  FrameReader,
  fetchFile,
  INVALID_REQUEST_WINDOW_MS,
  InvalidRequestBudget,
  type Provider,
  type ProviderErrorEvent,
  serveChunks,
  streamChunkSource,
  XferCode
} from '../../../cafs/transfer/index.js'
import type { ChunkStore, Manifest } from '../../../cafs/types.js'
import { rejectsWithCode } from '../../support/errors.js'
import { chunkFile, h, type Listener, listen, MapStore, prng, storeWith } from './helpers.js'

/** Per-message timeout: short enough for the stalling provider, long enough for a loaded CI. */
const LIMITS = { messageTimeoutMs: 2000 }

/** Reads GET requests on `stream` and answers each with `answer(keys)` frames (hostile servers). */
function scripted(answer: (keys: readonly Uint8Array[], stream: ByteStream) => Promise<void>) {
  return (stream: ByteStream): void => {
    void (async () => {
      const reader = new FrameReader(stream.source)
      for (;;) {
        const body = await reader.read({ maxLength: 1 << 20 })
        if (body === undefined) break
        const count = body[1]!
        const keys: Uint8Array[] = []
        for (let i = 0; i < count; i++) keys.push(body.subarray(2 + 32 * i, 34 + 32 * i))
        await answer(keys, stream)
      }
      await stream.close()
    })().catch(() => {})
  }
}

describe('cafs/transfer multi-source fetch over real sockets', () => {
  const file = prng(200_000, 21)
  const { manifest, chunks } = chunkFile(file, 1024, 8192)
  const byKey = new Map(chunks.map((c) => [Buffer.from(h(c)).toString('hex'), c]))
  let listeners: Listener[] = []
  afterEach(async () => {
    for (const l of listeners) await l.close()
    listeners = []
  })

  const honest = async (store: ChunkStore): Promise<Listener> => {
    const l = await listen((stream) => {
      serveChunks(stream, store, { limits: LIMITS }).catch(() => {})
    })
    listeners.push(l)
    return l
  }
  const hostile = async (onConn: (stream: ByteStream) => void): Promise<Listener> => {
    const l = await listen(onConn)
    listeners.push(l)
    return l
  }
  const provider = (id: string, l: Listener): Provider => ({
    id,
    source: streamChunkSource(async () => (await l.connect()).stream, { limits: LIMITS })
  })
  const assemble = async (m: Manifest, s: MapStore): Promise<Uint8Array> =>
    Uint8Array.from(Buffer.concat(await Promise.all(m.chunks.map(async (c) => (await s.get(c.key))!))))

  it('fetches from an honest provider despite a corrupt and a stalling one, reporting both', async () => {
    const good = await honest(await storeWith(chunks))
    // Serves every chunk with one bit flipped.
    const corrupt = await hostile(
      scripted(async (keys, stream) => {
        const records = keys.map((k, index) => {
          const b = Uint8Array.from(byKey.get(Buffer.from(k).toString('hex'))!)
          b[0] = (b[0] as number) ^ 0x80
          return { index, bytes: b }
        })
        await stream.write(encodeFrame(encodeChunks(records)))
        await stream.write(encodeFrame(encodeDone()))
      })
    )
    // Accepts the request and never answers.
    const stalling = await hostile(scripted(() => new Promise<void>(() => {})))
    const store = new MapStore()
    const bad: BadProviderEvent[] = []
    const errors: ProviderErrorEvent[] = []
    const result = await fetchFile(
      manifest,
      [provider('corrupt', corrupt), provider('stalling', stalling), provider('good', good)],
      store,
      {
        limits: LIMITS,
        batchChunks: 8,
        requestTimeoutMs: 5000,
        onBadProvider: (e) => bad.push(e),
        onProviderError: (e) => errors.push(e),
        signal: AbortSignal.timeout(10_000)
      }
    )
    assert.deepEqual(bad, [{ provider: 'corrupt', code: XferCode.HASH_MISMATCH }])
    assert.ok(
      errors.length >= 1 && errors.every((e) => e.provider === 'stalling' && e.code === XferCode.TIMEOUT)
    )
    assert.equal(result.perProvider.get('good')!.bytes, file.length)
    assert.equal(result.perProvider.get('corrupt')!.chunks, 0)
    assert.equal(result.bytesReceived, file.length)
    assert.deepEqual(await assemble(manifest, store), file)
    assert.equal(store.pins.size, 0)
  })

  it('hashes on a worker pool: a corrupt provider is caught and the file arrives intact', async () => {
    const pool = new HashPool(2)
    try {
      const good = await honest(await storeWith(chunks))
      const corrupt = await hostile(
        scripted(async (keys, stream) => {
          const records = keys.map((k, index) => {
            const b = Uint8Array.from(byKey.get(Buffer.from(k).toString('hex'))!)
            b[b.length - 1] = (b[b.length - 1] as number) ^ 1
            return { index, bytes: b }
          })
          await stream.write(encodeFrame(encodeChunks(records)))
          await stream.write(encodeFrame(encodeDone()))
        })
      )
      const store = await storeWith(chunks.slice(5, 9))
      const bad: BadProviderEvent[] = []
      const result = await fetchFile(
        manifest,
        [provider('corrupt', corrupt), provider('good', good)],
        store,
        {
          limits: LIMITS,
          batchChunks: 8,
          hashPool: pool,
          onBadProvider: (e) => bad.push(e),
          signal: AbortSignal.timeout(10_000)
        }
      )
      assert.deepEqual(bad, [{ provider: 'corrupt', code: XferCode.HASH_MISMATCH }])
      assert.equal(result.perProvider.get('corrupt')!.chunks, 0)
      assert.deepEqual(await assemble(manifest, store), file)
      assert.equal(store.pins.size, 0)
      const before = store.snapshot()
      await rejectsWithCode(
        fetchFile({ ...manifest, fileKey: h(Uint8Array.of(7)) }, [provider('good', good)], store, {
          limits: LIMITS,
          hashPool: pool
        }),
        XferCode.FILE_KEY_MISMATCH
      )
      assert.deepEqual(store.snapshot(), before)
    } finally {
      await pool.close()
    }
  })

  it('runs two requests per provider at once and still reports a bad provider once', async () => {
    const good = await honest(await storeWith(chunks))
    const corrupt = await hostile(
      scripted(async (keys, stream) => {
        const records = keys.map((k, index) => {
          const b = Uint8Array.from(byKey.get(Buffer.from(k).toString('hex'))!)
          b[0] = (b[0] as number) ^ 0x80
          return { index, bytes: b }
        })
        await stream.write(encodeFrame(encodeChunks(records)))
        await stream.write(encodeFrame(encodeDone()))
      })
    )
    const store = new MapStore()
    const bad: BadProviderEvent[] = []
    const result = await fetchFile(manifest, [provider('corrupt', corrupt), provider('good', good)], store, {
      limits: LIMITS,
      batchChunks: 4,
      requestsPerProvider: 2,
      onBadProvider: (e) => bad.push(e),
      signal: AbortSignal.timeout(10_000)
    })
    assert.deepEqual(bad, [{ provider: 'corrupt', code: XferCode.HASH_MISMATCH }])
    assert.equal(result.perProvider.get('good')!.bytes, file.length)
    assert.deepEqual(await assemble(manifest, store), file)
    assert.equal(store.pins.size, 0)
  })

  it('splits the work between providers and re-assigns what one of them lacks', async () => {
    const evens = await honest(await storeWith(chunks.filter((_c, i) => i % 2 === 0)))
    const all = await honest(await storeWith(chunks))
    const store = await storeWith(chunks.slice(0, 3))
    const result = await fetchFile(manifest, [provider('evens', evens), provider('all', all)], store, {
      limits: LIMITS,
      batchChunks: 4
    })
    const want = manifest.chunks.slice(3).reduce((n, c) => n + c.size, 0)
    assert.equal(result.bytesWanted, want)
    assert.equal(result.bytesReceived, want)
    assert.ok(result.perProvider.get('evens')!.chunks > 0, 'both providers took work')
    assert.deepEqual(await assemble(manifest, store), file)
  })

  it('fails with CAFS_XFER_UNAVAILABLE when no provider holds a chunk, keeping what it fetched', async () => {
    const partial = await honest(await storeWith(chunks.slice(0, -1)))
    const store = new MapStore()
    await rejectsWithCode(
      fetchFile(manifest, [provider('partial', partial)], store, { limits: LIMITS, batchChunks: 4 }),
      XferCode.UNAVAILABLE
    )
    assert.equal(store.map.size, chunks.length - 1)
    assert.equal(store.pins.size, 0)
  })

  it('treats an answer out of order as misbehaviour', async () => {
    const shuffled = await hostile(
      scripted(async (keys, stream) => {
        const records = keys.map((k, index) => ({ index, bytes: byKey.get(Buffer.from(k).toString('hex'))! }))
        records.reverse()
        await stream.write(encodeFrame(encodeChunks(records)))
        await stream.write(encodeFrame(encodeDone()))
      })
    )
    const good = await honest(await storeWith(chunks))
    const bad: BadProviderEvent[] = []
    await fetchFile(manifest, [provider('shuffled', shuffled), provider('good', good)], new MapStore(), {
      limits: LIMITS,
      batchChunks: 4,
      onBadProvider: (e) => bad.push(e)
    })
    assert.deepEqual(bad, [{ provider: 'shuffled', code: XferCode.UNSOLICITED_CHUNK }])
  })

  it('rolls back when the chunks do not assemble to the manifest file key', async () => {
    const good = await honest(await storeWith(chunks))
    const store = await storeWith(chunks.slice(0, 2))
    const before = store.snapshot()
    await rejectsWithCode(
      fetchFile({ ...manifest, fileKey: h(Uint8Array.of(7)) }, [provider('good', good)], store, {
        limits: LIMITS
      }),
      XferCode.FILE_KEY_MISMATCH
    )
    assert.deepEqual(store.snapshot(), before)
    assert.equal(store.pins.size, 0)
  })

  it('stops at the caller deadline with CAFS_XFER_ABORTED', async () => {
    const stalling = await hostile(scripted(() => new Promise<void>(() => {})))
    await rejectsWithCode(
      fetchFile(manifest, [provider('stalling', stalling)], new MapStore(), {
        limits: { messageTimeoutMs: 10_000 },
        signal: AbortSignal.timeout(100)
      }),
      XferCode.ABORTED
    )
  })
})

describe('cafs/transfer chunk provider (serveChunks)', () => {
  const { manifest, chunks } = chunkFile(prng(30_000, 2), 1024, 8192)
  let listeners: Listener[] = []
  afterEach(async () => {
    for (const l of listeners) await l.close()
    listeners = []
  })

  /** Serves `store` and returns the first error code the server throws. */
  async function serve(store: ChunkStore): Promise<{ l: Listener; failed: Promise<string> }> {
    let report: (code: string) => void = () => {}
    const failed = new Promise<string>((resolve) => {
      report = resolve
    })
    const l = await listen((stream) => {
      serveChunks(stream, store, { limits: { messageTimeoutMs: 200, maxKeysPerRequest: 4 } }).then(
        () => report('ok'),
        (err: { code?: string }) => report(err.code ?? String(err))
      )
    })
    listeners.push(l)
    return { l, failed }
  }

  it('answers in position order with MISSING for chunks it lacks, and never serves a corrupt copy', async () => {
    const store = await storeWith(chunks.slice(0, 2))
    // Corrupt the stored copy of chunk 1 behind the store's back.
    const k1 = Buffer.from(manifest.chunks[1]!.key).toString('hex')
    const copy = store.map.get(k1)!
    copy[0] = (copy[0] as number) ^ 1
    const { l } = await serve(store)
    const { stream } = await l.connect()
    await stream.write(encodeFrame(encodeGet(manifest.chunks.slice(0, 3).map((c) => c.key))))
    const r = new FrameReader(stream.source)
    const first = (await r.read({ maxLength: 1 << 20 }))!
    assert.equal(first[0], 0x03)
    assert.equal(first[1], 0)
    const missing = (await r.read({ maxLength: 1 << 20 }))!
    assert.deepEqual([...missing], [0x07, 2, 1, 2])
    assert.deepEqual([...(await r.read({ maxLength: 1 << 20 }))!], [0x04])
  })

  it('never serves a corrupt copy when re-hashing on a worker pool', async () => {
    const pool = new HashPool(1)
    try {
      const store = await storeWith(chunks.slice(0, 3))
      const copy = store.map.get(Buffer.from(manifest.chunks[1]!.key).toString('hex'))!
      copy[0] = (copy[0] as number) ^ 1
      const l = await listen((stream) => {
        serveChunks(stream, store, { limits: LIMITS, hashPool: pool }).catch(() => {})
      })
      listeners.push(l)
      const { stream } = await l.connect()
      await stream.write(encodeFrame(encodeGet(manifest.chunks.slice(0, 3).map((c) => c.key))))
      const r = new FrameReader(stream.source)
      const first = (await r.read({ maxLength: 1 << 20 }))!
      assert.equal(first[0], 0x03)
      assert.equal(first[1], 0)
      assert.deepEqual([...(await r.read({ maxLength: 1 << 20 }))!], [0x07, 1, 1])
      const third = (await r.read({ maxLength: 1 << 20 }))!
      assert.deepEqual([third[0], third[1]], [0x03, 2])
      assert.deepEqual([...(await r.read({ maxLength: 1 << 20 }))!], [0x04])
    } finally {
      await pool.close()
    }
  })

  it('answers an invalid request with ERROR and fails with its code (for the peer budget)', async () => {
    const { l, failed } = await serve(await storeWith(chunks))
    const { stream } = await l.connect()
    await stream.write(encodeFrame(encodeGet(manifest.chunks.slice(0, 5).map((c) => c.key))))
    const r = new FrameReader(stream.source)
    const body = (await r.read({ maxLength: 1 << 20 }))!
    assert.equal(Buffer.from(body.subarray(1)).toString(), XferCode.REQUEST_TOO_LARGE)
    assert.equal(await failed, XferCode.REQUEST_TOO_LARGE)
    const budget = new InvalidRequestBudget(2)
    assert.equal(budget.charge('peer'), true)
    assert.equal(budget.charge('peer'), true)
    assert.equal(budget.charge('peer'), false)
    assert.equal(budget.count('other'), 0)
  })

  it('forgets invalid requests older than the budget window (issue 12.7)', () => {
    let now = 5_000_000
    const budget = new InvalidRequestBudget(3, 1024, { windowMs: 60_000, now: () => now })
    // an honest peer that slips now and then over a long life is never refused
    for (let i = 0; i < 10; i++) {
      assert.equal(budget.charge('honest'), true, `slip ${i + 1}`)
      now += 30_000
    }
    assert.equal(budget.count('honest'), 1)
    // four within the window are one too many; the refusal lasts until the oldest ages out
    for (let i = 0; i < 3; i++) assert.equal(budget.charge('bad'), true)
    now += 1000
    assert.equal(budget.charge('bad'), false)
    assert.equal(budget.count('bad'), 4)
    now += 59_000
    assert.equal(budget.count('bad'), 1)
    assert.equal(budget.charge('bad'), true)
    // the default window is INVALID_REQUEST_WINDOW_MS: a charge still counts just before it ends
    const dflt = new InvalidRequestBudget(1, 1024, { now: () => now })
    dflt.charge('p')
    now += INVALID_REQUEST_WINDOW_MS - 1
    assert.equal(dflt.count('p'), 1)
    now += 1
    assert.equal(dflt.count('p'), 0)
  })

  it('refuses a message other than GET', async () => {
    const { l, failed } = await serve(await storeWith(chunks))
    const { stream } = await l.connect()
    await stream.write(encodeFrame(encodeDone()))
    assert.equal(await failed, XferCode.UNEXPECTED_MESSAGE)
  })

  it('drops an idle connection after the per-message timeout', async () => {
    const { l, failed } = await serve(await storeWith(chunks))
    await l.connect()
    assert.equal(await failed, XferCode.TIMEOUT)
  })
})
