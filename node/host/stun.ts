/**
 * A STUN Binding service (RFC 5389 §§6-7, 15.2) over UDP, run by public nodes so that peers
 * behind NATs learn their server-reflexive address for WebRTC's ICE (DIRECT-1 … DIRECT-4,
 * protocol/spec/network-direct.md). Never a public STUN server: nodes use the STUN services of
 * their own bootstrap and relay nodes.
 *
 * Every datagram is hostile: a packet is answered only when it is a well-formed Binding request
 * (DIRECT-2) from a source within its rate (DIRECT-3); everything else is dropped without a word.
 * The answer is the 20-byte header plus one XOR-MAPPED-ADDRESS (32 bytes for IPv4, 44 for IPv6).
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { isIPv4, isIPv6 } from 'node:net'
import { BitwrkError } from '../../protocol/errors.js'
import { type Logger, silentLogger } from '../logger.js'

/** The magic cookie of RFC 5389 §6. */
export const STUN_MAGIC_COOKIE = 0x2112a442
/** Binding request, class request, method Binding (RFC 5389 §6, §18.1). */
const BINDING_REQUEST = 0x0001
/** Binding success response. */
const BINDING_SUCCESS = 0x0101
/** XOR-MAPPED-ADDRESS (RFC 5389 §15.2). */
const ATTR_XOR_MAPPED_ADDRESS = 0x0020
/** STUN header bytes. */
const HEADER_BYTES = 20

/**
 * Largest request answered, bytes (DIRECT-2). A Binding request needs no attributes; ICE agents
 * add SOFTWARE and FINGERPRINT (a few dozen bytes). 548 is RFC 5389 §7.1's bound for a
 * STUN message over UDP when the path MTU is unknown.
 */
export const STUN_MAX_REQUEST_BYTES = 548

/** STUN service error codes (`STUN_*`). */
export const StunCode = {
  /** The UDP socket could not be bound. */
  BIND_FAILED: 'STUN_BIND_FAILED',
  /** A port or limit option is out of range. */
  BAD_OPTION: 'STUN_BAD_OPTION'
} as const

/** Why a datagram was dropped (the `reason` label of `bitwrk_stun_dropped_total`). */
export type StunDrop = 'size' | 'type' | 'cookie' | 'length' | 'attributes' | 'rate' | 'table'

/** A parsed Binding request: only its transaction id matters. */
export interface BindingRequest {
  /** The 12-byte transaction id, echoed in the response. */
  readonly transactionId: Uint8Array
}

/**
 * Checks that `msg` is a well-formed STUN Binding request (DIRECT-2): 20 to
 * {@link STUN_MAX_REQUEST_BYTES} bytes, the two top bits zero, type Binding request, the magic
 * cookie, a message length that is a multiple of 4 and equals the bytes after the header, and
 * attributes that tile the body exactly (each TLV padded to 4 bytes). Returns the request, or
 * the reason it is dropped. Attribute values are not interpreted (the answer needs none), so an
 * unknown comprehension-required attribute is not answered with a 420 either: nothing is sent.
 */
export function parseBindingRequest(msg: Uint8Array): BindingRequest | { drop: StunDrop } {
  if (msg.byteLength < HEADER_BYTES || msg.byteLength > STUN_MAX_REQUEST_BYTES) return { drop: 'size' }
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength)
  if (view.getUint16(0) !== BINDING_REQUEST) return { drop: 'type' } // also the top two bits
  if (view.getUint32(4) !== STUN_MAGIC_COOKIE) return { drop: 'cookie' }
  const length = view.getUint16(2)
  if (length % 4 !== 0 || length !== msg.byteLength - HEADER_BYTES) return { drop: 'length' }
  let at = HEADER_BYTES
  while (at < msg.byteLength) {
    if (at + 4 > msg.byteLength) return { drop: 'attributes' }
    const valueLength = view.getUint16(at + 2)
    at += 4 + Math.ceil(valueLength / 4) * 4
  }
  if (at !== msg.byteLength) return { drop: 'attributes' }
  return { transactionId: msg.slice(8, 20) }
}

/**
 * Encodes a Binding success response carrying only XOR-MAPPED-ADDRESS for `address`:`port`
 * (RFC 5389 §15.2): 32 bytes for IPv4, 44 for IPv6. Throws on an address that is neither.
 */
export function encodeBindingResponse(transactionId: Uint8Array, address: string, port: number): Uint8Array {
  const v4 = isIPv4(address)
  if (!v4 && !isIPv6(address)) throw new TypeError('not an IP address')
  if (transactionId.byteLength !== 12) throw new TypeError('transaction id must be 12 bytes')
  const addr = v4 ? ipv4Bytes(address) : ipv6Bytes(address)
  const valueLength = 4 + addr.byteLength
  const out = new Uint8Array(HEADER_BYTES + 4 + valueLength)
  const view = new DataView(out.buffer)
  view.setUint16(0, BINDING_SUCCESS)
  view.setUint16(2, 4 + valueLength)
  view.setUint32(4, STUN_MAGIC_COOKIE)
  out.set(transactionId, 8)
  view.setUint16(20, ATTR_XOR_MAPPED_ADDRESS)
  view.setUint16(22, valueLength)
  view.setUint8(24, 0)
  view.setUint8(25, v4 ? 0x01 : 0x02)
  view.setUint16(26, port ^ (STUN_MAGIC_COOKIE >>> 16))
  // X-Address: XOR with the magic cookie (IPv4), with cookie || transaction id (IPv6)
  const mask = out.slice(4, 20)
  for (let i = 0; i < addr.byteLength; i++) out[28 + i] = (addr[i] ?? 0) ^ (mask[i] ?? 0)
  return out
}

/**
 * Decodes the XOR-MAPPED-ADDRESS of a Binding success response whose transaction id is
 * `transactionId` (a client's view; used by tests and diagnostics). Returns undefined for
 * anything else.
 */
export function decodeBindingResponse(
  msg: Uint8Array,
  transactionId: Uint8Array
): { address: string; port: number } | undefined {
  if (msg.byteLength < HEADER_BYTES) return undefined
  const view = new DataView(msg.buffer, msg.byteOffset, msg.byteLength)
  if (view.getUint16(0) !== BINDING_SUCCESS || view.getUint32(4) !== STUN_MAGIC_COOKIE) return undefined
  if (view.getUint16(2) !== msg.byteLength - HEADER_BYTES) return undefined
  for (let i = 0; i < 12; i++) if (msg[8 + i] !== transactionId[i]) return undefined
  const mask = msg.slice(4, 20)
  let at = HEADER_BYTES
  while (at + 4 <= msg.byteLength) {
    const type = view.getUint16(at)
    const len = view.getUint16(at + 2)
    if (at + 4 + len > msg.byteLength) return undefined
    if (type === ATTR_XOR_MAPPED_ADDRESS && len >= 8) {
      const family = view.getUint8(at + 5)
      const port = view.getUint16(at + 6) ^ (STUN_MAGIC_COOKIE >>> 16)
      const n = family === 0x01 ? 4 : family === 0x02 ? 16 : 0
      if (n === 0 || len !== 4 + n) return undefined
      const addr = new Uint8Array(n)
      for (let i = 0; i < n; i++) addr[i] = (msg[at + 8 + i] ?? 0) ^ (mask[i] ?? 0)
      return { address: n === 4 ? addr.join('.') : ipv6String(addr), port }
    }
    at += 4 + Math.ceil(len / 4) * 4
  }
  return undefined
}

function ipv4Bytes(a: string): Uint8Array {
  return new Uint8Array(a.split('.').map((p) => Number(p)))
}

function ipv6Bytes(a: string): Uint8Array {
  // an IPv4-mapped tail (::ffff:1.2.3.4) becomes two hex groups first
  let s = a
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s)
  if (v4?.[1] !== undefined) {
    const b = ipv4Bytes(v4[1])
    s = `${s.slice(0, -v4[1].length)}${(((b[0] ?? 0) << 8) | (b[1] ?? 0)).toString(16)}:${(((b[2] ?? 0) << 8) | (b[3] ?? 0)).toString(16)}`
  }
  const [head = '', tail] = s.split('::')
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups =
    tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t]
  const out = new Uint8Array(16)
  groups.forEach((g, i) => {
    const v = Number.parseInt(g, 16)
    out[2 * i] = v >> 8
    out[2 * i + 1] = v & 0xff
  })
  return out
}

function ipv6String(b: Uint8Array): string {
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push((((b[i] ?? 0) << 8) | (b[i + 1] ?? 0)).toString(16))
  return groups.join(':')
}

/** Limits of the STUN service (DIRECT-3). */
export interface StunLimits {
  /** Answers per source IP address per second (token bucket refill); default 4. */
  readonly perSourcePerSec: number
  /** Burst per source IP address (bucket size); default 8. */
  readonly perSourceBurst: number
  /** Source addresses tracked at once; a new source beyond it is dropped until entries expire. Default 4096. */
  readonly maxSources: number
  /** Answers per second over all sources; default 500. */
  readonly globalPerSec: number
}

/**
 * Default limits (DIRECT-3). An ICE agent sends one Binding request per STUN server per local
 * candidate and retransmits a few times (RFC 5389 §7.2.1: up to 7 over ~40 s), so 4/s with a
 * burst of 8 per source covers a host with several interfaces; 4096 sources × ~40 bytes of state
 * is well under a megabyte; 500 answers/s × 44 bytes bounds what the service can emit to
 * 22 KB/s whatever the sources claim to be.
 */
export const DEFAULT_STUN_LIMITS: StunLimits = {
  perSourcePerSec: 4,
  perSourceBurst: 8,
  maxSources: 4096,
  globalPerSec: 500
}

/** The well-known STUN port of RFC 5389 §18.4 (used when no TCP port number fits, DIRECT-1). */
export const STUN_DEFAULT_PORT = 3478

/** Options of {@link StunServer}. */
export interface StunServerOptions {
  /** UDP port; 0 picks a free one (tests). */
  readonly port: number
  /** Address to bind; default `0.0.0.0` (`::` with `ipv6`). */
  readonly host?: string
  /** Limits; defaults {@link DEFAULT_STUN_LIMITS}. */
  readonly limits?: Partial<StunLimits>
  /** Clock, ms. */
  readonly now?: () => number
  /** Called for every dropped datagram (metrics). */
  readonly onDrop?: (reason: StunDrop) => void
  /** Called for every answer sent. */
  readonly onAnswer?: () => void
  readonly logger?: Logger
}

interface Bucket {
  tokens: number
  at: number
}

/**
 * The STUN Binding service. `start()` binds the socket, `stop()` closes it (idempotent).
 * State is one token bucket per source address, at most `maxSources` of them; a full table
 * first forgets sources whose bucket has refilled (they hold nothing), and drops new sources
 * while none has.
 */
export class StunServer {
  private socket: Socket | undefined
  private readonly limits: StunLimits
  private readonly now: () => number
  private readonly sources = new Map<string, Bucket>()
  private global: Bucket
  private readonly log: Logger
  /** Datagrams answered since start. */
  answered = 0
  /** Datagrams dropped since start. */
  dropped = 0

  constructor(private readonly opts: StunServerOptions) {
    this.limits = { ...DEFAULT_STUN_LIMITS, ...opts.limits }
    if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)
      throw new BitwrkError(StunCode.BAD_OPTION, 'STUN port out of range', { port: opts.port })
    for (const [k, v] of Object.entries(this.limits))
      if (!Number.isFinite(v) || v <= 0) throw new BitwrkError(StunCode.BAD_OPTION, `bad STUN limit ${k}`)
    this.now = opts.now ?? Date.now
    this.global = { tokens: this.limits.globalPerSec, at: this.now() }
    this.log = (opts.logger ?? silentLogger()).child({ module: 'stun' })
  }

  /** The bound UDP port (after `start`). */
  get port(): number {
    return this.socket?.address().port ?? 0
  }

  /** Binds the UDP socket. */
  async start(): Promise<void> {
    if (this.socket !== undefined) return
    const host = this.opts.host ?? '0.0.0.0'
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false })
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close()
        reject(
          new BitwrkError(StunCode.BIND_FAILED, 'cannot bind the STUN socket', {
            host,
            port: this.opts.port,
            cause: String(err)
          })
        )
      }
      socket.once('error', onError)
      socket.bind(this.opts.port, host, () => {
        socket.off('error', onError)
        resolve()
      })
    })
    // a send error (e.g. ICMP unreachable reported late) must not crash the node
    socket.on('error', (err) => this.log.debug({ err: String(err) }, 'STUN socket error'))
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo))
    this.socket = socket
    this.log.info({ host, port: this.port }, 'STUN service started')
  }

  /** Closes the socket. Idempotent. */
  async stop(): Promise<void> {
    const s = this.socket
    if (s === undefined) return
    this.socket = undefined
    this.sources.clear()
    await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  private drop(reason: StunDrop): void {
    this.dropped++
    this.opts.onDrop?.(reason)
  }

  /** Handles one datagram: checks first (cheap), rate last, then at most one answer. */
  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const req = parseBindingRequest(msg)
    if ('drop' in req) {
      this.drop(req.drop)
      return
    }
    const now = this.now()
    const rate = this.take(rinfo.address, now)
    if (rate !== undefined) {
      this.drop(rate)
      return
    }
    const socket = this.socket
    if (socket === undefined) return
    // an IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d; answer in its own family
    const address =
      rinfo.address.startsWith('::ffff:') && isIPv4(rinfo.address.slice(7))
        ? rinfo.address.slice(7)
        : rinfo.address
    const res = encodeBindingResponse(req.transactionId, address, rinfo.port)
    this.answered++
    this.opts.onAnswer?.()
    socket.send(res, rinfo.port, rinfo.address)
  }

  /** Takes one token from the global and the source's bucket; returns the drop reason if none. */
  private take(source: string, now: number): StunDrop | undefined {
    const l = this.limits
    refill(this.global, now, l.globalPerSec, l.globalPerSec)
    let b = this.sources.get(source)
    if (b === undefined) {
      if (this.sources.size >= l.maxSources) this.sweep(now)
      if (this.sources.size >= l.maxSources) return 'table'
      b = { tokens: l.perSourceBurst, at: now }
      this.sources.set(source, b)
    }
    refill(b, now, l.perSourcePerSec, l.perSourceBurst)
    if (b.tokens < 1) return 'rate'
    if (this.global.tokens < 1) return 'rate'
    b.tokens -= 1
    this.global.tokens -= 1
    return undefined
  }

  /** Forgets the sources whose bucket is full again (no state lost). */
  private sweep(now: number): void {
    const l = this.limits
    for (const [k, b] of this.sources) {
      refill(b, now, l.perSourcePerSec, l.perSourceBurst)
      if (b.tokens >= l.perSourceBurst) this.sources.delete(k)
    }
  }

  /** Source addresses tracked now (tests). */
  trackedSources(): number {
    return this.sources.size
  }
}

function refill(b: Bucket, now: number, perSec: number, max: number): void {
  const elapsed = Math.max(0, now - b.at)
  b.tokens = Math.min(max, b.tokens + (elapsed * perSec) / 1000)
  b.at = now
}
