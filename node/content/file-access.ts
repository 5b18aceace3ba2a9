/**
 * Who may fetch a transaction's files from this node (DESIGN.md invariant 7, CHUNK-14): the
 * trade grants each file it holds of a transaction (work, ciphertext) to that transaction's
 * counterparty, the node revokes the grants when the transaction retires, and the chunk server
 * asks {@link TxFileAccess.allows} for every requested key. Besides these grants only the
 * files the node provides are readable (`provided.ts`, CHUNK-16 … CHUNK-19: never a
 * ciphertext), and the grants fail closed — after a restart, or once a grant was dropped for
 * space, the chunks stay on disk but are served to nobody.
 */
import { keyToHex } from '../../cafs/keys.js'
import type { Key, Manifest } from '../../cafs/types.js'
import type { TxFileGrants } from '../trade/context.js'

/**
 * Default bound on granted keys: sixteen 64 MiB files (`maxWorkBytes`, TRADE-13) cut at the
 * 16 KiB minimum chunk (CAFS-1) have 16 × 4096 chunk keys. About 10 MB of strings at most.
 */
export const DEFAULT_MAX_GRANTED_KEYS = 65_536

/** The files granted for one transaction. */
interface Grant {
  /** Base58 peer ids allowed to read them (the counterparty). */
  readonly peers: Set<string>
  /** Hex keys: every chunk key and the file key of every granted manifest. */
  readonly keys: Set<string>
}

/** Grants of transaction files to counterparties, bounded; the chunk server's access policy. */
export class TxFileAccess implements TxFileGrants {
  private readonly grants = new Map<string, Grant>()
  private readonly byKey = new Map<string, Set<string>>()
  private keyCount = 0

  constructor(private readonly maxKeys = DEFAULT_MAX_GRANTED_KEYS) {}

  /** `peer` may read the chunks (and the manifest) of `manifest` until `txid` is revoked. */
  grant(txid: string, peer: string, manifest: Manifest): void {
    let g = this.grants.get(txid)
    if (g === undefined) {
      g = { peers: new Set(), keys: new Set() }
      this.grants.set(txid, g)
    }
    g.peers.add(peer)
    for (const k of [manifest.fileKey, ...manifest.chunks.map((c) => c.key)]) {
      const hex = keyToHex(k)
      if (g.keys.has(hex)) continue
      g.keys.add(hex)
      this.keyCount++
      let txids = this.byKey.get(hex)
      if (txids === undefined) {
        txids = new Set()
        this.byKey.set(hex, txids)
      }
      txids.add(txid)
    }
    // Bounded (invariant 10): the oldest transactions' grants go first. Failing closed only
    // costs a counterparty a fetch it can repeat over the trade stream.
    for (const oldest of this.grants.keys()) {
      if (this.keyCount <= this.maxKeys) break
      this.revoke(oldest)
    }
  }

  /** Drops every grant of `txid` (it retired). Unknown ids are ignored. */
  revoke(txid: string): void {
    const g = this.grants.get(txid)
    if (g === undefined) return
    this.grants.delete(txid)
    for (const hex of g.keys) {
      const txids = this.byKey.get(hex)
      txids?.delete(txid)
      if (txids?.size === 0) this.byKey.delete(hex)
    }
    this.keyCount -= g.keys.size
  }

  /** CHUNK-14: true when `peer` holds a grant for `key` (a chunk key or a file key). */
  allows(peer: string, key: Key): boolean {
    const txids = this.byKey.get(keyToHex(key))
    if (txids === undefined) return false
    for (const txid of txids) if (this.grants.get(txid)?.peers.has(peer) === true) return true
    return false
  }

  /** Keys granted right now (for tests and metrics). */
  size(): number {
    return this.keyCount
  }
}
