/**
 * A client written from protocol/spec/chunk-exchange.md and cafs.md alone (no code of this
 * project on its path: bare libp2p, the Kad-DHT under our protocol id, raw frames of the chunk
 * protocol) finds the provider of a file uploaded to a real daemon and fetches it by its key.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { identify } from '@libp2p/identify'
import type { Stream } from '@libp2p/interface'
import { kadDHT, removePublicAddressesMapper } from '@libp2p/kad-dht'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { type Daemon, startDaemon } from '../../node/daemon/index.js'

// From the spec: CHUNK-1, CHUNK-11, CHUNK-3 … CHUNK-6, XFER-15; CAFS-7, CAFS-8.
const CHUNK_PROTOCOL = '/bitwrk/chunk/1.0.0'
const KAD_PROTOCOL = '/bitwrk/kad/1.0.0'
const MANIFEST_GET = 0x12
const OFFER = 0x01
const MISSING = 0x07
const GET = 0x06
const CHUNKS = 0x03
const DONE = 0x04
const RAW_CODEC = 0x55
const SHA2_256 = 0x12

function varint(n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  out.push(n)
  return Uint8Array.from(out)
}

/** Reads LEB128 varints and whole frames (`varint(L) || body`, CHUNK-2) from a stream. */
class FrameReader {
  private buf = Buffer.alloc(0)
  private readonly it: AsyncIterator<Uint8Array | { subarray(): Uint8Array }>
  constructor(stream: Stream) {
    this.it = stream[Symbol.asyncIterator]()
  }
  private async fill(n: number): Promise<void> {
    while (this.buf.length < n) {
      const r = await this.it.next()
      if (r.done === true) throw new Error('stream ended')
      const v = r.value
      this.buf = Buffer.concat([this.buf, v instanceof Uint8Array ? v : v.subarray()])
    }
  }
  async frame(): Promise<Buffer> {
    let len = 0
    let shift = 1
    for (let i = 0; ; i++) {
      await this.fill(i + 1)
      const b = this.buf[i] as number
      len += (b & 0x7f) * shift
      shift *= 128
      if (b < 0x80) {
        this.buf = this.buf.subarray(i + 1)
        break
      }
      if (i >= 6) throw new Error('varint too long')
    }
    await this.fill(len)
    const body = this.buf.subarray(0, len)
    this.buf = this.buf.subarray(len)
    return body
  }
}

function readVarint(b: Buffer, at: number): [number, number] {
  let n = 0
  let shift = 1
  for (let i = at; ; i++) {
    const x = b[i] as number
    n += (x & 0x7f) * shift
    shift *= 128
    if (x < 0x80) return [n, i + 1]
  }
}

function frame(body: Uint8Array): Uint8Array {
  return Buffer.concat([varint(body.length), body])
}

/** CAFS-8: magic `bwmf`, version 1, file key, size u64 BE, n u32 BE, n × (key, size u32 BE). */
function decodeManifest(m: Buffer): {
  fileKey: Buffer
  size: number
  chunks: { key: Buffer; size: number }[]
} {
  assert.equal(m.subarray(0, 4).toString('ascii'), 'bwmf')
  assert.equal(m[4], 1)
  const n = m.readUInt32BE(45)
  assert.equal(m.length, 49 + 36 * n)
  const chunks = Array.from({ length: n }, (_, i) => ({
    key: m.subarray(49 + 36 * i, 81 + 36 * i),
    size: m.readUInt32BE(81 + 36 * i)
  }))
  return { fileKey: m.subarray(5, 37), size: Number(m.readBigUInt64BE(37)), chunks }
}

describe('spec: a client written from chunk-exchange.md fetches a provided file by key', function () {
  this.timeout(60_000)
  let dir: string
  let daemon: Daemon
  let client: Libp2p
  after(async () => {
    await client?.stop()
    await daemon?.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('finds the daemon through the DHT, reads the manifest with MANIFEST_GET, the chunks with GET', async () => {
    dir = await mkdtemp(join(tmpdir(), 'bitwrk-spec-client-'))
    daemon = await startDaemon({ dataDir: dir, apiPort: 0 })
    const content = new Uint8Array(randomBytes(400_000))
    const res = await fetch(`${daemon.info.apiUrl}/api/v1/files`, {
      method: 'POST',
      body: Buffer.from(content),
      headers: { 'content-type': 'application/octet-stream' },
      signal: AbortSignal.timeout(10_000)
    })
    assert.equal(res.status, 201)
    const { key } = (await res.json()) as { key: string }

    client = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: {
        identify: identify(),
        ping: ping(),
        dht: kadDHT({ protocol: KAD_PROTOCOL, clientMode: true, peerInfoMapper: removePublicAddressesMapper })
      }
    })
    await client.dial(multiaddr(daemon.info.listen[0] as string), { signal: AbortSignal.timeout(10_000) })

    // CHUNK-11 / CAFS-7: the CID is CIDv1, raw codec, sha2-256 multihash whose digest is the file key
    const cid = CID.create(1, RAW_CODEC, Digest.create(SHA2_256, Buffer.from(key, 'hex')))
    // the daemon stores its own record as it starts announcing: asked until it answers (deadline)
    const providers: string[] = []
    const deadline = Date.now() + 20_000
    while (providers.length === 0 && Date.now() < deadline)
      for await (const p of client.contentRouting.findProviders(cid, {
        signal: AbortSignal.timeout(5_000)
      })) {
        providers.push(p.id.toString())
        break
      }
    assert.deepEqual(providers, [daemon.info.peerId])
    const provider = (client.getConnections()[0] as { remotePeer: Parameters<Libp2p['dialProtocol']>[0] })
      .remotePeer

    // CHUNK-6: MANIFEST_GET 0x12 | fileKey → OFFER 0x01 | manifest
    const q = await client.dialProtocol(provider, CHUNK_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    q.send(frame(Buffer.concat([Uint8Array.of(MANIFEST_GET), Buffer.from(key, 'hex')])))
    const answer = await new FrameReader(q).frame()
    assert.equal(answer[0], OFFER)
    const manifest = decodeManifest(answer.subarray(1))
    assert.equal(manifest.fileKey.toString('hex'), key)
    assert.equal(manifest.size, content.length)
    await q.close()

    // XFER-15: GET 0x06 | varint n | n × key → CHUNKS (index, len, bytes)+ … then DONE
    const g = await client.dialProtocol(provider, CHUNK_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    const keys = manifest.chunks.map((c) => c.key)
    g.send(frame(Buffer.concat([Uint8Array.of(GET), varint(keys.length), ...keys])))
    const reader = new FrameReader(g)
    const parts: Buffer[] = new Array(keys.length)
    for (;;) {
      const f = await reader.frame()
      if (f[0] === DONE) break
      assert.notEqual(f[0], MISSING, 'the provider holds every chunk')
      assert.equal(f[0], CHUNKS)
      let at = 1
      while (at < f.length) {
        const [index, a1] = readVarint(f, at)
        const [len, a2] = readVarint(f, a1)
        const bytes = f.subarray(a2, a2 + len)
        // every chunk checked against its key (the content is never trusted)
        assert.equal(createHash('sha256').update(bytes).digest('hex'), keys[index]?.toString('hex'))
        parts[index] = Buffer.from(bytes)
        at = a2 + len
      }
    }
    await g.close()
    const file = Buffer.concat(parts)
    assert.equal(createHash('sha256').update(file).digest('hex'), key)
    assert.deepEqual(new Uint8Array(file), content)
  })
})
