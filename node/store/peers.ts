/**
 * Known peers (README.md buckets `peer`, `peerSeen`): peer id → multiaddrs and last-seen time,
 * to redial after a restart. Bounded: beyond `maxPeers` the least recently seen are evicted.
 */
import { check, concat, decodeSealed, fromUtf8, readU64, seal, u64Bytes, utf8, Writer } from './codec.js'
import { Bucket, type KvController, type KvOp, Mutex, prefixRange } from './db.js'
import { faultOf, type Listing, StoreCode, storeError } from './errors.js'

/** Default bound on stored peers (invariant 10); a redial list needs far fewer. */
export const DEFAULT_MAX_PEERS = 1000

/** Most multiaddrs kept per peer (libp2p peer records rarely carry more than a handful). */
export const MAX_PEER_ADDRS = 16

/** Longest multiaddr text kept, in bytes. */
export const MAX_MULTIADDR_BYTES = 256

// Base58btc peer ids (secp256k1: 53 characters), at most 128 as in TX-7.
const PEER_ID = /^[1-9A-HJ-NP-Za-km-z]{1,128}$/
// Multiaddr text: starts with '/', printable ASCII without spaces or commas.
const MULTIADDR = /^\/[\x21-\x2b\x2d-\x7e]+$/

/** A peer as stored. */
export interface StoredPeer {
  /** libp2p peer id, base58btc. */
  readonly peerId: string
  /** Its multiaddrs in text form. */
  readonly addrs: readonly string[]
  /** Last time the peer was seen, ms since the epoch. */
  readonly lastSeenMs: number
}

function checkPeer(p: StoredPeer): void {
  const ok =
    PEER_ID.test(p.peerId) &&
    Array.isArray(p.addrs) &&
    p.addrs.length <= MAX_PEER_ADDRS &&
    p.addrs.every(
      (a) => typeof a === 'string' && MULTIADDR.test(a) && utf8(a).length <= MAX_MULTIADDR_BYTES
    ) &&
    Number.isSafeInteger(p.lastSeenMs) &&
    p.lastSeenMs >= 0
  if (!ok) throw storeError(StoreCode.INVALID, 'invalid peer record')
}

/** Key of a peer record. */
export function peerKey(peerId: string): Uint8Array {
  return concat(Uint8Array.of(Bucket.peer), utf8(peerId))
}

function seenKey(lastSeenMs: number, peerId: string): Uint8Array {
  return concat(Uint8Array.of(Bucket.peerSeen), u64Bytes(lastSeenMs), utf8(peerId))
}

/** Payload of a peer record. */
export function encodePeer(p: StoredPeer): Uint8Array {
  const w = new Writer().u64(p.lastSeenMs).u32(p.addrs.length)
  for (const a of p.addrs) w.str(a)
  return w.finish()
}

/** Decodes and validates a sealed peer record stored under `key`. */
export function decodePeer(key: Uint8Array, value: Uint8Array): StoredPeer {
  const peerId = fromUtf8(key.subarray(1))
  check(PEER_ID.test(peerId), 'bad peer id in key')
  return decodeSealed(key, value, (r) => {
    const lastSeenMs = r.u64()
    const n = r.u32()
    check(n <= MAX_PEER_ADDRS, 'too many addresses')
    const addrs: string[] = []
    for (let i = 0; i < n; i++) {
      const a = r.str(MAX_MULTIADDR_BYTES)
      check(MULTIADDR.test(a), 'bad multiaddr')
      addrs.push(a)
    }
    return Object.freeze({ peerId, addrs: Object.freeze(addrs), lastSeenMs })
  })
}

/** The repository of known peers. */
export class PeerRepository {
  private readonly lock = new Mutex()

  constructor(
    private readonly kv: KvController,
    /** Most peers kept. */
    readonly maxPeers: number = DEFAULT_MAX_PEERS
  ) {}

  /**
   * Records that `peerId` was seen at `nowMs` with `addrs` (replacing the stored ones), then
   * evicts the least recently seen peers beyond the bound. Returns how many were evicted.
   */
  seen(peer: StoredPeer): Promise<number> {
    checkPeer(peer)
    return this.lock.run(async () => {
      const key = peerKey(peer.peerId)
      const ops: KvOp[] = []
      const old = await this.kv.get(key)
      let isNew = old === undefined
      if (old !== undefined) {
        try {
          const prev = decodePeer(key, old)
          ops.push({ type: 'del', key: seenKey(prev.lastSeenMs, peer.peerId) })
        } catch {
          // An unreadable record is replaced; its stale index entry is dropped by eviction.
          isNew = true
        }
      }
      ops.push({ type: 'put', key, value: seal(key, encodePeer(peer)) })
      ops.push({ type: 'put', key: seenKey(peer.lastSeenMs, peer.peerId), value: new Uint8Array(0) })
      await this.kv.batch(ops)
      return isNew ? this.evict() : 0
    })
  }

  /** Deletes the oldest index entries (and their records) beyond `maxPeers`. */
  private async evict(): Promise<number> {
    const entries: Uint8Array[] = []
    for await (const [k] of this.kv.entries(prefixRange(Uint8Array.of(Bucket.peerSeen)))) entries.push(k)
    const excess = entries.length - this.maxPeers
    if (excess <= 0) return 0
    const ops: KvOp[] = []
    for (const k of entries.slice(0, excess)) {
      ops.push(
        { type: 'del', key: k },
        { type: 'del', key: concat(Uint8Array.of(Bucket.peer), k.subarray(9)) }
      )
    }
    await this.kv.batch(ops)
    return excess
  }

  /** The stored peer, or undefined; STORE_CORRUPT when unreadable. */
  async get(peerId: string): Promise<StoredPeer | undefined> {
    const key = peerKey(peerId)
    const v = await this.kv.get(key)
    return v === undefined ? undefined : decodePeer(key, v)
  }

  /** Forgets a peer. */
  remove(peerId: string): Promise<void> {
    return this.lock.run(async () => {
      const p = await this.get(peerId).catch(() => undefined)
      const ops: KvOp[] = [{ type: 'del', key: peerKey(peerId) }]
      if (p !== undefined) ops.push({ type: 'del', key: seenKey(p.lastSeenMs, peerId) })
      await this.kv.batch(ops)
    })
  }

  /** Up to `limit` peers, most recently seen first (the redial order). */
  async list(limit: number = this.maxPeers): Promise<Listing<StoredPeer>> {
    const items: StoredPeer[] = []
    const corrupt: Listing<StoredPeer>['corrupt'] = []
    for await (const [k] of this.kv.entries({
      ...prefixRange(Uint8Array.of(Bucket.peerSeen)),
      reverse: true,
      limit
    })) {
      try {
        const seenMs = readU64(k, 1)
        const p = await this.get(fromUtf8(k.subarray(9)))
        check(p !== undefined && p.lastSeenMs === seenMs, 'last-seen index entry without its peer')
        items.push(p)
      } catch (err) {
        corrupt.push(faultOf('peerSeen', k, err))
      }
    }
    return { items, corrupt }
  }
}
