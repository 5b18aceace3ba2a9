/**
 * What the local HTTP API needs from a node (protocol/spec/local-api.md). The API depends only
 * on this interface; the node assembly implements it, {@link createTestFacade} in `testing.ts`
 * implements it for tests. Views are plain JSON-ready objects (money as canonical strings).
 */
import type { ChunkStore, Manifest, StoreStats } from '../../cafs/types.js'
import type { Money } from '../../protocol/money/index.js'
import type { ReputationSubject } from '../../protocol/reputation/index.js'
import type { ReputationView } from '../reputation/index.js'

/** The node's identity. */
export interface IdentityView {
  /** Market identity: P2PKH address. */
  readonly address: string
  /** libp2p peer id (same key). */
  readonly peerId: string
  /** Addresses the node listens on (multiaddrs). */
  readonly addrs: readonly string[]
  /** Reachability and relays (protocol/spec/network.md); absent on a facade without a host. */
  readonly network?: NetworkView
}

/** The node's place on the network (network.md NET-9, NET-12, NET-15 … NET-17). */
export interface NetworkView {
  /** NET-9: `public`, `private` or `unknown`. */
  readonly reachability: 'public' | 'private' | 'unknown'
  /** Whether the node grants relay reservations now (NET-12). */
  readonly relayServer: boolean
  /** Relays (peer ids) holding a reservation for this node (NET-15). */
  readonly relayReservations: readonly string[]
  /** Open connections by kind (NET-17). */
  readonly connections: { readonly direct: number; readonly relayed: number }
  /** NET-16: `NO_RELAY` while a private node that wants relay reservations holds none. */
  readonly warning: 'NO_RELAY' | null
}

/** What the node holds about a participant or peer (protocol/spec/reputation.md REP-4, REP-6). */
export interface PeerReputationView {
  /** Event counters (finished, noShows, …). */
  readonly counters: Readonly<Record<string, number>>
  /** Ids of equivocation evidence, newest last. */
  readonly evidenceIds: readonly string[]
  /** Decayed score at the time of the request (REP-4). */
  readonly score: number
  /** Equivocated or below the block threshold (REP-6). */
  readonly blocked: boolean
  /** When a counter last changed, ms since the epoch. */
  readonly lastUpdatedMs: number
}

/** A connected or known peer. */
export interface PeerView {
  readonly peerId: string
  readonly addrs: readonly string[]
  readonly connected: boolean
  /** Each open connection's remote address and whether it is direct or relayed (NET-17). */
  readonly connections?: readonly { readonly addr: string; readonly kind: 'direct' | 'relayed' }[]
  /** The peer's market address (the same key, DESIGN.md invariant 2), when derivable. */
  readonly address?: string
  /** Reputation of the peer's address, null when the node holds none. */
  readonly reputation?: PeerReputationView | null
}

/** Per-article figures of `/api/v1/status`. */
export interface ArticleStatusView {
  readonly article: string
  /** Live bids held. */
  readonly liveBids: number
  /** MARKET-6 digest of the live set: equal digests mean equal books. */
  readonly liveDigest: string
  /** Last matched epoch and chained match digest per match key (MATCH-13). */
  readonly epochs: Readonly<Record<string, { epoch: number; digest: string }>>
}

/** The summary of `/api/v1/status` (the `status` command shows it). */
export interface StatusView {
  readonly peerId: string
  readonly address: string
  readonly version: string
  readonly pid: number
  readonly uptimeMs: number
  readonly listen: readonly string[]
  readonly peers: number
  readonly articles: readonly ArticleStatusView[]
  /** Followed transactions by phase. */
  readonly transactions: Readonly<Record<string, number>>
  /** Which pieces of the node run. */
  readonly services: Readonly<Record<string, boolean>>
  /** Reachability and relays (network.md); absent on a facade without a host. */
  readonly network?: NetworkView
  /**
   * Timing health (MARKET-18, SYNC-15): the correction of the host clock to the network's time
   * (0: none), from how many peers, and the re-joins of the network's digest chain.
   */
  readonly timing: {
    readonly clockCorrectionMs: number
    readonly clockPeers: number
    readonly rejoins: number
    readonly lastRejoinMs: number | null
  }
}

/** MATCH-13 digests of every remembered epoch of one match key (`/api/v1/epochs/<key>`). */
export interface EpochsView {
  readonly key: string
  readonly epochs: readonly { readonly epoch: number; readonly digest: string }[]
}

/** One open bid of the book. */
export interface BookEntryView {
  readonly bidId: string
  readonly side: 'BUY' | 'SELL'
  readonly price: string
  readonly bidder: string
  /** The libp2p peer id the signed bid names (its `peer` field): whom a buyer's trade dials (TRADE-2). */
  readonly peerId: string
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
  /** The work push of the current trade: bytes of the chunks the seller lacked (API-18). */
  readonly workTransfer?: TransferView | null
  /** The encrypted result's transfer of the current trade (API-18). */
  readonly resultTransfer?: TransferView | null
  /** A buy's seller in its current transaction (participant address), null until matched (API-21). */
  readonly counterparty?: string | null
  /** The reference the buyer's client gave with `?ref=` (API-21), else null. */
  readonly ref?: string | null
}

/** Progress of one direction of a trade's data transfer: bytes that travelled of those that travel. */
export interface TransferView {
  readonly done: number
  readonly total: number
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
  readonly messages: readonly TxMessageView[]
  /** Match time, ms since the epoch (absent from facades that do not know it). */
  readonly matchedMs?: number
  /** The settlement once retired (TX-19): result and reason, else null. */
  readonly outcome?: { readonly result: string; readonly reason: string } | null
}

/** One signed transaction message with the node's own check of its signature. */
export interface TxMessageView {
  readonly document: string
  readonly signature: string
  readonly receivedMs: number
  /** Message kind (TX-5), when known. */
  readonly kind?: string
  /** Signing party (`buyer` / `seller`), when known. */
  readonly party?: string
  /** The address that must have signed it (the party's address in the terms). */
  readonly signer?: string
  /** Phase before and after the message. */
  readonly from?: string
  readonly to?: string
  /**
   * The node re-verified the Bitcoin signed-message signature of `document` against `signer`
   * when the view was built (ID rules, `verifyMessage`): true = valid.
   */
  readonly signatureOk?: boolean
}

/** Whom a reputation is about (API-17): a participant address or a peer id (REP-1). */
export type ReputationSubjectRef = ReputationSubject

/**
 * A subject's reputation with the evidence behind it (API-17, REP-27): the reputation
 * service's own view (score and assessment, counters and their weights, proofs, recent events).
 */
export type ReputationEntryView = ReputationView

/** The node's reputation as the API reads it (API-17). */
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
  /**
   * The buy's deadline from `?timeout=`, ms (API-21): the buy then fails with
   * `API_NO_SELLER` (no transaction was established) or `API_BUY_FAILED`.
   */
  readonly timeoutMs?: number
  /** The client's reference from `?ref=`, shown in the buy's activity (API-21). */
  readonly ref?: string
  /**
   * Called once when the buy has an established transaction: the mandate trade it holds is then
   * charged (MAN-5); a buy that fails before is given its trade back.
   */
  readonly onEstablished?: () => void
}

/** The file index: which manifest belongs to a file key, for `GET /file/<sha256>`. */
export interface FileIndex {
  /** The manifest of the file with SHA-256 `fileKey`, or undefined when unknown. */
  get(fileKey: Uint8Array): Promise<Manifest | undefined>
  /** Remembers a manifest (its chunks must be in the chunk store). */
  put(manifest: Manifest): Promise<void>
}

/** A gateway fetch in progress (`GET /api/v1/fetches`, API-24). */
export interface FetchProgressView {
  /** Hex file key. */
  readonly key: string
  /** `finding` (DHT lookup), `manifest`, `fetching`. */
  readonly stage: string
  /** Providers found. */
  readonly providers: number
  /** File size once the manifest is known, else null. */
  readonly size: number | null
  /** Bytes that must travel (chunks not held) and bytes arrived, verified. */
  readonly bytesWanted: number
  readonly bytesReceived: number
  readonly startedMs: number
}

/** Files by key over the network (API-23, API-24; chunk-exchange.md CHUNK-16 … CHUNK-20). */
export interface ContentFacade {
  /** False under `--no-provide`: uploads are stored and indexed but not provided. */
  readonly providing: boolean
  /** Provides a file whose chunks are in the chunk store (an upload); false when not provided. */
  share(manifest: Manifest): boolean
  /**
   * Fetches a file not held here from its providers (resolves once its chunks are stored and it
   * is indexed). Rejects with a BitwrkError (`CHUNK_NO_PROVIDERS`, `CHUNK_MANIFEST_NOT_FOUND`,
   * `CONTENT_TOO_LARGE`, `CONTENT_GATEWAY_BUSY`, a transfer code).
   */
  fetch(fileKey: Uint8Array, options: { readonly signal: AbortSignal }): Promise<Manifest>
  /** Gateway fetches in progress. */
  fetches(): readonly FetchProgressView[]
}

/** One price level of the book: bids at `price`. */
export interface DepthLevel {
  /** Canonical money text. */
  readonly price: string
  /** The amount in the currency's smallest unit, decimal (for charts). */
  readonly units: string
  readonly count: number
}

/** One match of a followed article (MATCH-12), as the node computed it. */
export interface MatchView {
  readonly key: string
  readonly epoch: number
  readonly matchedMs: number
  readonly price: string
  /** Price in the currency's smallest unit, decimal. */
  readonly units: string
  readonly buyer: string
  readonly seller: string
  readonly txId: string
  /** The node's party in it, or null. */
  readonly own: string | null
}

/** The market of one article: depth, recent matches, epochs with their digests. */
export interface MarketView {
  readonly article: string
  /** MARKET-6 digest of the live set. */
  readonly liveDigest: string
  /** BUY levels best (highest) first, SELL levels best (lowest) first. */
  readonly depth: { readonly buys: readonly DepthLevel[]; readonly sells: readonly DepthLevel[] }
  /** Recent matches, oldest first (bounded). */
  readonly matches: readonly MatchView[]
  /** Recent epochs with chained match digests (MATCH-13), oldest first (bounded). */
  readonly epochs: readonly { readonly key: string; readonly epoch: number; readonly digest: string }[]
}

/** A tile of a demo image (protocol/spec/demo-article.md). */
export interface DemoTileView {
  readonly x: number
  readonly y: number
  readonly w: number
  readonly h: number
  readonly state: 'pending' | 'done' | 'failed'
}

/** An image of the demo article bought by this node, tile by tile. */
export interface DemoImageView {
  /** 16 hex digits naming scene, size and samples. */
  readonly id: string
  readonly width: number
  readonly height: number
  readonly samples: number
  readonly tiles: readonly DemoTileView[]
}

/** An event for the dashboard's stream (local-api.md API-13). */
export interface DashboardEvent {
  /** Event name: `epoch`, `match`, `tx`, `image`, … */
  readonly type: string
  /** JSON payload. */
  readonly data: Readonly<Record<string, unknown>>
}

/** What the web dashboard needs beyond the core views (optional: test facades may omit it). */
export interface DashboardFacade {
  /** When the node started, ms since the epoch. */
  readonly startedMs: number
  /** Followed articles. */
  articles(): readonly string[]
  /** The market of a followed article. */
  market(article: string): Promise<MarketView>
  /** Demo images bought by this node, newest last. */
  images(): readonly DemoImageView[]
  /** PNG of the finished tiles of image `id` (others transparent); undefined when unknown. */
  imagePng(id: string): Promise<Uint8Array | undefined>
  /** Prometheus text exposition of the node's registry. */
  metrics(): Promise<{ readonly contentType: string; readonly text: string }>
  /** Cheap version strings per panel (`book:<article>`, `peers`, `store`, `images`); a change means "reload". */
  revisions(): Promise<Readonly<Record<string, string>>>
  /** Market events as they happen; returns the unsubscribe function. */
  subscribe(listener: (e: DashboardEvent) => void): () => void
}

/** The node as seen by the local HTTP API. */
export interface NodeFacade {
  /** The dashboard's views; without them the dashboard shows only the core views. */
  readonly dashboard?: DashboardFacade
  /** Software version, `x.y.z`. */
  readonly version: string
  /** Content store of work and results. */
  readonly chunkStore: ChunkStore
  /** Manifests by file key. */
  readonly files: FileIndex
  /** Files by key over the network (API-23, API-24); without it `GET /file` serves only what is held. */
  readonly content?: ContentFacade
  identity(): IdentityView
  peers(): Promise<readonly PeerView[]>
  /** The open book of `article` (already validated). */
  book(article: string): Promise<BookView>
  activities(): Promise<readonly ActivityView[]>
  transactions(): Promise<readonly TransactionView[]>
  /** Chunk-store figures (`Infinity` budget is shown as null). */
  storeStats(): StoreStats
  /** The status summary (API-8); a facade without it answers `/api/v1/status` 404. */
  status?(): StatusView
  /** MATCH-13 epoch digests of one match key, to compare nodes (API-8). */
  epochs?(key: string): EpochsView
  /** Reputation (API-17); a facade without it answers those routes 404. */
  readonly reputation?: ReputationReader
  /**
   * Makes the node follow `article` (already validated) when it does not yet (WRK-11): its
   * bids and transactions, kept across restarts like the other followed articles. Resolves
   * true when the node started following it now. A facade without it follows nothing.
   */
  follow?(article: string, why: string): Promise<boolean>
  /**
   * Buys `article` for the work whose chunks are in {@link chunkStore} (the manifest is in
   * {@link files}); resolves when the result's chunks are stored and its manifest is in
   * {@link files}. Rejects with a BitwrkError on failure.
   */
  buy(article: string, work: Manifest, options: BuyOptions): Promise<{ resultKey: Uint8Array }>
}
