/**
 * What the local HTTP API needs from a node (protocol/spec/local-api.md). The API depends only
 * on this interface; the node assembly implements it, {@link createTestFacade} in `testing.ts`
 * implements it for tests. Views are plain JSON-ready objects (money as canonical strings).
 */
import type { ChunkStore, Manifest, StoreStats } from '../../cafs/types.js'
import type { Money } from '../../protocol/money/index.js'

/** The node's identity. */
export interface IdentityView {
  /** Market identity: P2PKH address. */
  readonly address: string
  /** libp2p peer id (same key). */
  readonly peerId: string
  /** Addresses the node listens on (multiaddrs). */
  readonly addrs: readonly string[]
}

/** A connected or known peer. */
export interface PeerView {
  readonly peerId: string
  readonly addrs: readonly string[]
  readonly connected: boolean
}

/** One open bid of the book. */
export interface BookEntryView {
  readonly bidId: string
  readonly side: 'BUY' | 'SELL'
  readonly price: string
  readonly bidder: string
  readonly createdMs: number
  readonly expiresMs: number
}

/** The open book of one article. */
export interface BookView {
  readonly article: string
  readonly buys: readonly BookEntryView[]
  readonly sells: readonly BookEntryView[]
}

/** One buy or sell of this node with its phase and transfer progress (original §5.1). */
export interface ActivityView {
  readonly id: number
  readonly side: 'BUY' | 'SELL'
  readonly article: string
  readonly alive: boolean
  /** Transaction phase, else bid state, else `LOCAL` / `WAITING`. */
  readonly phase: string
  readonly price: string | null
  readonly bidId: string | null
  readonly txId: string | null
  readonly workerId: string | null
  readonly bytesTotal: number
  readonly bytesTransferred: number
  /** Last error (code), if any. */
  readonly error: string | null
}

/** A transaction with its signed messages. */
export interface TransactionView {
  readonly txId: string
  readonly article: string
  readonly buyer: string
  readonly seller: string
  readonly price: string
  readonly phase: string
  readonly state: 'active' | 'retired'
  /** The signed messages in order (their canonical signed documents). */
  readonly messages: readonly {
    readonly document: string
    readonly signature: string
    readonly receivedMs: number
  }[]
}

/** Whom a reputation is about (API-10). */
export interface ReputationSubjectRef {
  readonly kind: 'address' | 'peer'
  readonly id: string
}

/**
 * A subject's reputation with the evidence behind it (API-10, REP-27): score and assessment,
 * the stored counters and their weights, equivocation proofs, recent events with their sources.
 */
export interface ReputationEntryView {
  readonly subject: ReputationSubjectRef
  /** For a peer: the participant address of the same key. */
  readonly address?: string
  readonly score: number
  readonly blocked: boolean
  readonly canEstablish: boolean
  readonly lowTrust: boolean
  readonly equivocated: boolean
  readonly counters: Readonly<Record<string, number>>
  readonly weights: Readonly<Record<string, number>>
  readonly lastUpdatedMs: number | null
  readonly proofs: readonly { readonly id: string; readonly proof: string | null }[]
  readonly recent: readonly {
    readonly counter: string
    readonly source: string
    readonly scope: 'global' | 'local'
    readonly atMs: number
    readonly count: number
  }[]
}

/** The node's reputation as the API reads it (API-10). */
export interface ReputationReader {
  /** The thresholds in force and every subject with a record. */
  list(): Promise<{
    readonly thresholds: {
      readonly blocked: number
      readonly establishMin: number
      readonly lowTrust: number
    }
    readonly subjects: readonly ReputationEntryView[]
  }>
  /** One subject (neutral when unknown). */
  get(subject: ReputationSubjectRef): Promise<ReputationEntryView>
}

/** Options of {@link NodeFacade.buy}. */
export interface BuyOptions {
  /** Aborted when the HTTP client goes away or the server stops. */
  readonly signal: AbortSignal
  /** The price to bid: the BUY mandate's price. */
  readonly price: Money
  /** The mandate that permitted this buy. */
  readonly mandateId: number
}

/** The file index: which manifest belongs to a file key, for `GET /file/<sha256>`. */
export interface FileIndex {
  /** The manifest of the file with SHA-256 `fileKey`, or undefined when unknown. */
  get(fileKey: Uint8Array): Promise<Manifest | undefined>
  /** Remembers a manifest (its chunks must be in the chunk store). */
  put(manifest: Manifest): Promise<void>
}

/** The node as seen by the local HTTP API. */
export interface NodeFacade {
  /** Software version, `x.y.z`. */
  readonly version: string
  /** Content store of work and results. */
  readonly chunkStore: ChunkStore
  /** Manifests by file key. */
  readonly files: FileIndex
  identity(): IdentityView
  peers(): Promise<readonly PeerView[]>
  /** The open book of `article` (already validated). */
  book(article: string): Promise<BookView>
  activities(): Promise<readonly ActivityView[]>
  transactions(): Promise<readonly TransactionView[]>
  /** Chunk-store figures (`Infinity` budget is shown as null). */
  storeStats(): StoreStats
  /** Reputation (API-10); a facade without it answers those routes 404. */
  readonly reputation?: ReputationReader
  /**
   * Buys `article` for the work whose chunks are in {@link chunkStore} (the manifest is in
   * {@link files}); resolves when the result's chunks are stored and its manifest is in
   * {@link files}. Rejects with a BitwrkError on failure.
   */
  buy(article: string, work: Manifest, options: BuyOptions): Promise<{ resultKey: Uint8Array }>
}
