import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import {
  decodeBindingResponse,
  encodeBindingResponse,
  parseBindingRequest,
  STUN_MAGIC_COOKIE,
  STUN_MAX_REQUEST_BYTES,
  StunCode,
  type StunDrop,
  StunServer
} from '../../../node/host/stun.js'
import { waitFor } from '../../../node/testing.js'

/** A Binding request with the given attribute bytes (already padded). */
function bindingRequest(txid: Uint8Array, attrs: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(20 + attrs.byteLength)
  const v = new DataView(out.buffer)
  v.setUint16(0, 0x0001)
  v.setUint16(2, attrs.byteLength)
  v.setUint32(4, STUN_MAGIC_COOKIE)
  out.set(txid, 8)
  out.set(attrs, 20)
  return out
}

/** SOFTWARE (5 bytes, padded to 8) and FINGERPRINT-shaped attributes, as ICE agents send. */
const ATTRS = Uint8Array.from([
  0x80, 0x22, 0, 5, 0x6c, 0x69, 0x62, 0x6a, 0x75, 0, 0, 0, 0x80, 0x28, 0, 4, 1, 2, 3, 4
])

/** Hostile datagrams: none of them is a well-formed Binding request. */
function hostilePackets(n: number): Uint8Array[] {
  const good = bindingRequest(new Uint8Array(12).fill(7), ATTRS)
  const out: Uint8Array[] = [
    new Uint8Array(0),
    new Uint8Array(1),
    new Uint8Array(19),
    new Uint8Array(STUN_MAX_REQUEST_BYTES + 4),
    // a Binding success response (reflection attempt) and an indication
    Uint8Array.from([0x01, 0x01, ...good.subarray(2)]),
    Uint8Array.from([0x00, 0x11, ...good.subarray(2)]),
    // top bits set (not STUN), and RFC 3489 (no cookie)
    Uint8Array.from([0xc0, 0x01, ...good.subarray(2)]),
    Uint8Array.from([...good.subarray(0, 4), 0, 0, 0, 0, ...good.subarray(8)]),
    // length not a multiple of 4, length beyond the datagram, an attribute overrunning the body
    Uint8Array.from([0, 1, 0, 3, ...good.subarray(4, 20), 1, 2, 3]),
    Uint8Array.from([0, 1, 0, 40, ...good.subarray(4)]),
    Uint8Array.from([0, 1, 0, 8, ...good.subarray(4, 20), 0x80, 0x22, 0, 9, 1, 2, 3, 4])
  ]
  // every truncation of a request with attributes
  for (let i = 1; i < good.byteLength; i++) if (i !== 20) out.push(good.subarray(0, i))
  while (out.length < n) {
    const r = randomBytes(Math.floor(Math.random() * 600))
    // keep random bytes from being a valid request by chance: the type is never 0x0001
    if (r.byteLength >= 2 && r[0] === 0 && r[1] === 1) r[1] = 2
    out.push(new Uint8Array(r))
    // bit flips in the type, length and cookie fields of a good request
    const f = good.slice()
    const bit = Math.floor(Math.random() * 64)
    f[bit >> 3] = (f[bit >> 3] ?? 0) ^ (1 << (bit & 7))
    out.push(f)
  }
  return out
}

/** A UDP client on `host` that records every datagram it receives. */
async function client(host = '127.0.0.1'): Promise<{ socket: Socket; received: Buffer[] }> {
  const socket = createSocket('udp4')
  const received: Buffer[] = []
  socket.on('message', (m) => received.push(m))
  await new Promise<void>((r) => socket.bind(0, host, () => r()))
  return { socket, received }
}

describe('node/host stun', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })

  async function server(
    opts: Partial<ConstructorParameters<typeof StunServer>[0]> = {}
  ): Promise<StunServer> {
    const s = new StunServer({ port: 0, host: '127.0.0.1', ...opts })
    await s.start()
    cleanups.push(() => s.stop())
    return s
  }

  async function udpClient(host?: string): Promise<{ socket: Socket; received: Buffer[] }> {
    const c = await client(host)
    cleanups.push(() => new Promise<void>((r) => c.socket.close(() => r())))
    return c
  }

  it('parses a Binding request with ICE-style attributes and encodes/decodes XOR-MAPPED-ADDRESS (IPv4, IPv6)', () => {
    const txid = new Uint8Array(randomBytes(12))
    const req = parseBindingRequest(bindingRequest(txid, ATTRS))
    assert.ok(!('drop' in req))
    assert.deepEqual(req.transactionId, txid)
    const r4 = encodeBindingResponse(txid, '198.18.0.7', 40123)
    assert.equal(r4.byteLength, 32)
    assert.deepEqual(decodeBindingResponse(r4, txid), { address: '198.18.0.7', port: 40123 })
    const r6 = encodeBindingResponse(txid, '2001:db8::1', 3478)
    assert.equal(r6.byteLength, 44)
    assert.deepEqual(decodeBindingResponse(r6, txid), { address: '2001:db8:0:0:0:0:0:1', port: 3478 })
    // a response for another transaction is not ours
    assert.equal(decodeBindingResponse(r4, new Uint8Array(12)), undefined)
  })

  it('drops every hostile datagram in the parser with a reason', () => {
    for (const p of hostilePackets(400)) {
      const res = parseBindingRequest(p)
      assert.ok('drop' in res, `accepted ${Buffer.from(p).toString('hex')}`)
    }
  })

  it('answers a real Binding exchange on 127.0.0.1 with the client’s address and port', async () => {
    const s = await server()
    const c = await udpClient()
    const txid = new Uint8Array(randomBytes(12))
    c.socket.send(bindingRequest(txid), s.port, '127.0.0.1')
    await waitFor(() => c.received.length === 1, { timeoutMs: 5000, what: 'a STUN answer' })
    const answer = c.received[0]
    assert.ok(answer !== undefined)
    assert.equal(answer.byteLength, 32)
    assert.deepEqual(decodeBindingResponse(new Uint8Array(answer), txid), {
      address: '127.0.0.1',
      port: c.socket.address().port
    })
  })

  it('sends nothing for a few hundred hostile datagrams, keeps running, then answers a good one', async () => {
    const drops = new Map<StunDrop, number>()
    const s = await server({ onDrop: (r) => drops.set(r, (drops.get(r) ?? 0) + 1) })
    const c = await udpClient()
    const packets = hostilePackets(400)
    // in batches: a flood of datagrams overflows the loopback socket buffer, and a datagram the
    // kernel dropped proves nothing about the server
    for (let i = 0; i < packets.length; i += 20) {
      for (const p of packets.slice(i, i + 20)) c.socket.send(p, s.port, '127.0.0.1')
      const seen = Math.min(i + 20, packets.length)
      await waitFor(() => s.dropped === seen, {
        timeoutMs: 5000,
        intervalMs: 0,
        what: `datagrams ${i}..${seen} seen`
      })
    }
    assert.equal(s.answered, 0)
    assert.equal(drops.get('rate') ?? 0, 0)
    const txid = new Uint8Array(randomBytes(12))
    c.socket.send(bindingRequest(txid), s.port, '127.0.0.1')
    await waitFor(() => c.received.length > 0, { timeoutMs: 5000, what: 'a STUN answer' })
    assert.equal(c.received.length, 1)
    assert.ok(decodeBindingResponse(new Uint8Array(c.received[0] ?? []), txid) !== undefined)
  })

  it('rate-limits answers per source address (burst, then nothing while the clock stands still)', async () => {
    const s = await server({ now: () => 1_000_000, limits: { perSourceBurst: 3, perSourcePerSec: 1 } })
    const c = await udpClient()
    for (let i = 0; i < 10; i++)
      c.socket.send(bindingRequest(new Uint8Array(12).fill(i)), s.port, '127.0.0.1')
    await waitFor(() => s.answered + s.dropped === 10, { timeoutMs: 5000, what: 'ten requests seen' })
    assert.equal(s.answered, 3)
    assert.equal(s.dropped, 7)
    await waitFor(() => c.received.length === 3, { timeoutMs: 5000, what: 'three answers' })
  })

  it('keeps at most maxSources source addresses and drops new sources while the table is full', async () => {
    const reasons: StunDrop[] = []
    const s = await server({ now: () => 5_000, limits: { maxSources: 2 }, onDrop: (r) => reasons.push(r) })
    for (const host of ['127.0.0.1', '127.0.0.2', '127.0.0.3']) {
      const c = await udpClient(host)
      c.socket.send(bindingRequest(new Uint8Array(12).fill(1)), s.port, '127.0.0.1')
      await waitFor(() => s.answered + s.dropped > 0 && s.trackedSources() >= Math.min(2, s.answered), {
        timeoutMs: 5000,
        what: 'request seen'
      })
    }
    await waitFor(() => s.answered + s.dropped === 3, { timeoutMs: 5000, what: 'three requests seen' })
    assert.equal(s.answered, 2)
    assert.deepEqual(reasons, ['table'])
    assert.equal(s.trackedSources(), 2)
  })

  it('refuses out-of-range options with STUN_BAD_OPTION and a taken port with STUN_BIND_FAILED', async () => {
    assert.throws(() => new StunServer({ port: 70000 }), { code: StunCode.BAD_OPTION })
    assert.throws(() => new StunServer({ port: 0, limits: { maxSources: 0 } }), { code: StunCode.BAD_OPTION })
    const s = await server()
    const t = new StunServer({ port: s.port, host: '127.0.0.1' })
    await assert.rejects(t.start(), { code: StunCode.BIND_FAILED })
  })
})
