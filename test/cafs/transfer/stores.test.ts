import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  chunkBytes,
  LevelChunkStore,
  MemoryChunkStore,
  manifestKey,
  manifestOfBytes,
  sha256
} from '../../../cafs/index.js'
import { receiveFile, sendFile, XferCode } from '../../../cafs/transfer/index.js'
import type { ChunkStore, Manifest } from '../../../cafs/types.js'
import { prng, socketPair } from './helpers.js'

/** A MemoryChunkStore holding the chunks of `data`, and the manifest of `data`. */
async function imported(data: Uint8Array): Promise<{ store: MemoryChunkStore; manifest: Manifest }> {
  const store = new MemoryChunkStore()
  for (const c of chunkBytes(data)) await store.put(sha256(c), c)
  return { store, manifest: manifestOfBytes(data) }
}

async function assemble(m: Manifest, s: ChunkStore): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for (const c of m.chunks) parts.push((await s.get(c.key))!)
  return Uint8Array.from(Buffer.concat(parts))
}

describe('cafs/transfer with the CAFS chunker and stores', () => {
  let cleanup: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanup.reverse()) await c()
    cleanup = []
  })
  const pair = async (): ReturnType<typeof socketPair> => {
    const p = await socketPair()
    cleanup.push(p.close)
    return p
  }
  const levelStore = async (): Promise<LevelChunkStore> => {
    const dir = await mkdtemp(join(tmpdir(), 'cafs-xfer-'))
    const store = await LevelChunkStore.open({ path: dir })
    cleanup.push(async () => {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    })
    return store
  }

  it('sends a new version of a file to a LevelDB store holding the old one: only changed chunks travel', async () => {
    const v1 = prng(3 << 20, 77)
    const v2 = Uint8Array.from(v1)
    // Overwrite 4 KiB in the middle: content-defined chunking confines the change to 1–2 chunks.
    v2.set(prng(4096, 78), 1_500_000)
    const receiver = await levelStore()
    const a = await imported(v1)
    const first = await pair()
    await Promise.all([sendFile(first.a, a.manifest, a.store), receiveFile(first.b, receiver)])
    const b = await imported(v2)
    const second = await pair()
    const [sent, got] = await Promise.all([
      sendFile(second.a, b.manifest, b.store),
      receiveFile(second.b, receiver, { expectedManifestKey: manifestKey(b.manifest), keepPinned: true })
    ])
    assert.ok(sent.chunksSent >= 1 && sent.chunksSent <= 3, `chunks sent ${sent.chunksSent}`)
    assert.ok(sent.chunkBytesSent < v2.length / 10, `bytes sent ${sent.chunkBytesSent}`)
    assert.equal(got.bytesReceived, sent.chunkBytesSent)
    assert.deepEqual(await assemble(b.manifest, receiver), v2)
    // keepPinned: the caller now holds one pin per distinct chunk.
    assert.equal(
      receiver.stats().pinned,
      new Set(b.manifest.chunks.map((c) => Buffer.from(c.key).toString('hex'))).size
    )
  })

  it('refuses an offer whose manifest key is not the expected one', async () => {
    const a = await imported(prng(200_000, 1))
    const other = manifestOfBytes(prng(200_000, 2))
    const { a: s, b: r } = await pair()
    const receiver = new MemoryChunkStore()
    const [sent, got] = await Promise.allSettled([
      sendFile(s, a.manifest, a.store),
      receiveFile(r, receiver, { expectedManifestKey: manifestKey(other) })
    ])
    assert.equal(got.status === 'rejected' && got.reason.code, XferCode.MANIFEST_MISMATCH)
    assert.equal(sent.status === 'rejected' && sent.reason.code, XferCode.PEER_ERROR)
    assert.equal(receiver.stats().chunks, 0)
    assert.equal(receiver.stats().pinned, 0)
  })

  it('transfers an empty file (no chunks)', async () => {
    const a = await imported(new Uint8Array(0))
    assert.equal(a.manifest.chunks.length, 0)
    const { a: s, b: r } = await pair()
    const [sent, got] = await Promise.all([
      sendFile(s, a.manifest, a.store),
      receiveFile(r, new MemoryChunkStore())
    ])
    assert.equal(sent.chunksSent, 0)
    assert.equal(got.manifest.size, 0)
  })

  it('fails on a full store and reports the store code to the sender', async () => {
    const a = await imported(prng(400_000, 3))
    const { a: s, b: r } = await pair()
    const receiver = new MemoryChunkStore({ budgetBytes: 100_000 })
    const [sent, got] = await Promise.allSettled([sendFile(s, a.manifest, a.store), receiveFile(r, receiver)])
    assert.equal(got.status === 'rejected' && got.reason.code, 'CAFS_STORE_FULL')
    assert.equal(sent.status === 'rejected' && sent.reason.details.remoteCode, 'CAFS_STORE_FULL')
    assert.equal(receiver.stats().pinned, 0)
  })
})
