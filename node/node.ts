import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { Counter, Gauge, Registry } from 'prom-client'
import {
  ChunkExchange,
  type StreamRefusedHandler,
  SWARM_LOOKUP_PROVIDERS
} from '../cafs/adapters/libp2p/index.js'
import { keyToCid } from '../cafs/keys.js'
import { LevelChunkStore } from '../cafs/store/level.js'
import { MemoryChunkStore } from '../cafs/store/memory.js'
import type { ChunkStore, Manifest } from '../cafs/types.js'
import { BitwrkError } from '../protocol/errors.js'
import type { Identity } from '../protocol/identity/index.js'
import { checkEpochParams, type EpochParams } from '../protocol/matching/index.js'
import type { Thresholds } from '../protocol/reputation/index.js'
import type { Transaction } from '../protocol/transaction/index.js'
import { TxFileAccess } from './content/file-access.js'
import { ContentGateway, type ContentGatewayOptions } from './content/gateway.js'
import {
  PROVIDE_DEFAULTS,
  PROVIDE_REASONS,
  ProvidedFiles,
  type ProvidedFilesOptions
} from './content/provided.js'
import { ProviderCache, Seeder } from './content/seed.js'
import { DEFAULT_MAX_CLOCK_SKEW_MS } from './gossip/bids.js'
import type { GossipConfig } from './gossip/config.js'
import { bidTopic, EVIDENCE_TOPIC, isValidArticle, txTopic } from './gossip/topics.js'
import { withDirectChunkDials } from './host/direct.js'
import { type BitwrkHost, createHost, type HostOptions } from './host/host.js'
import {
  DEFAULT_MEMORY_WATCH,
  type MemoryWatchOptions,
  memoryWatchStats,
  watchMemory
} from './host/memory-watch.js'
import { type StreamProtocolLabel, streamMetrics } from './host/stream-metrics.js'
import { type Logger, silentLogger } from './logger.js'
import { BidBook, DEFAULT_BOOK_LIMITS } from './market/book.js'
import { type BuyWorkOptions, type BuyWorkResult, buyWork } from './market/buy.js'
import { Market, type PlaceBidRequest } from './market/market.js'
import { createMarketMetrics, type MarketMetrics } from './market/metrics.js'
import { DEFAULT_NETWORK_CLOCK, NetworkClock, type NetworkClockOptions } from './market/network-clock.js'
import { type SellWorker, wireSeller } from './market/sell.js'
import { bookSyncAdapters } from './market/sync-adapter.js'
import { MarketTxChannel } from './market/tx-channel.js'
import { codeLabel, createMetrics, type NodeMetrics } from './metrics.js'
import { ReputationService } from './reputation/service.js'
import { CHUNKS_DIR_NAME, openDataDir, type Repositories } from './store/data-dir.js'
import type { KvController } from './store/db.js'
import { createKeyFile, loadKeyFile } from './store/identity.js'
import { createSyncMetrics } from './sync/metrics.js'
import type { TimeSample } from './sync/pull.js'
import { SyncService, type SyncServiceOptions } from './sync/service.js'
import { TradeService, type TradeServiceInit } from './trade/service.js'

/** Directory of the chunk store inside the data directory (node/store/README.md). */
export { CHUNKS_DIR_NAME }

/** Codes of node assembly (`NODE_*`). */
export const NodeCode = {
  /** Neither `dataDir` nor `store` + `identity` was given, or both. */
  BAD_OPTIONS: 'NODE_BAD_OPTIONS',
  /** `identity` differs from the key file of `dataDir`. */
  IDENTITY_MISMATCH: 'NODE_IDENTITY_MISMATCH',
  /** `start` after `stop`, or a second `start`. */
  BAD_STATE: 'NODE_BAD_STATE',
  /** The article cannot be followed (not a valid topic article). */
  BAD_ARTICLE: 'NODE_BAD_ARTICLE'
} as const

/**
 * Options of the node's trade service (`/bitwrk/trade/1.0.0`, protocol/spec/trade.md): its
 * limits (TRADE-12), the clock of its phase deadlines (default the system clock), its logger
 * (default the node's) and its random source (default the system CSPRNG).
 */
export type NodeTradeOptions = Pick<TradeServiceInit, 'limits' | 'clock' | 'logger' | 'randomKey'>

/**
 * Options of {@link BitwrkNode.buy}: those of {@link buyWork} but the node's own (market, trade,
 * chunk store, reputation) and what is bought (article, work); `logger` defaults to the node's.
 */
export type NodeBuyOptions = Omit<
  BuyWorkOptions,
  'market' | 'trade' | 'store' | 'reputation' | 'article' | 'work'
>

/**
 * What the node provides and fetches by key (protocol/spec/chunk-exchange.md CHUNK-16 …
 * CHUNK-20; local-api.md API-23, API-24).
 */
export interface NodeContentOptions {
  /** False: provide nothing, serve nothing publicly (`--no-provide`, CHUNK-16). Default true. */
  readonly provide?: boolean
  /** Bounds and intervals of the provided files (CHUNK-17, CHUNK-18). */
  readonly limits?: ProvidedFilesOptions['limits']
  /** How often provided files are checked, ms (default {@link PROVIDE_DEFAULTS}); 0: no timer (tests sweep). */
  readonly sweepIntervalMs?: number
  /** Clock of the provided files; default the node's host clock. */
  readonly clock?: () => number
  /** Gateway limits (API-24). */
  readonly gateway?: ContentGatewayOptions['limits']
}

/** The node's public content: provided files and the gateway (CHUNK-16 … CHUNK-20). */
export interface NodeContent {
  /** Files provided (announced on the DHT and readable by any peer). */
  readonly provided: ProvidedFiles
  /** Fetches files by key from their providers. */
  readonly gateway: ContentGateway
}

/** Options of {@link createBitwrkNode}. */
export interface BitwrkNodeOptions {
  /** Data directory (key file + LevelDB); created when missing. Exclusive with `store`. */
  readonly dataDir?: string
  /** Open repositories (e.g. over the memory controller); needs `identity`. */
  readonly store?: Repositories
  /** The node key; with `dataDir` it must equal the key file (or is written when there is none). */
  readonly identity?: Identity
  /** Listen multiaddrs; default `/ip4/127.0.0.1/tcp/0`. */
  readonly listen?: string[]
  /** Bootstrap multiaddrs. */
  readonly bootstrap?: string[]
  /** Articles to follow (added to the stored subscriptions). */
  readonly articles?: string[]
  /** The host clock, ms since the epoch; default `Date.now`. The node runs on it plus the network clock's correction. */
  readonly clock?: () => number
  /**
   * The network clock (MARKET-18): the node's time is the host clock corrected by the median
   * offset of its peers' fresh bids when that is off by more than the allowance. Default
   * {@link DEFAULT_NETWORK_CLOCK}; `false` runs on the host clock as it is.
   */
  readonly networkClock?: Partial<Omit<NetworkClockOptions, 'raw' | 'onChange'>> | false
  /** Epoch parameters of the network (MATCH-1, MATCH-2). */
  readonly epochParams?: Partial<EpochParams>
  /** Refuse non-loopback addresses (tests, local testnet). */
  readonly loopbackOnly?: boolean
  /** GossipSub settings. */
  readonly gossip?: GossipConfig
  /** Further host options (adapter limits, bootstrap timing, DHT). */
  readonly host?: Omit<
    HostOptions,
    | 'privateKey'
    | 'listen'
    | 'bootstrap'
    | 'validators'
    | 'logger'
    | 'metrics'
    | 'now'
    | 'gossip'
    | 'loopbackOnly'
  >
  /** Allowance for future-dated bids, ms (BID-15); default GOSSIP-3's `DEFAULT_MAX_CLOCK_SKEW_MS`. */
  readonly maxClockSkewMs?: number
  /** How long an early transaction message waits for its local match, ms; default min(skew, epoch + settle). */
  readonly txWaitMs?: number
  /** Book bound (MARKET-5). */
  readonly maxBids?: number
  /** Per-participant book bound (MARKET-5). */
  readonly maxBidsPerParticipant?: number
  /** Most transactions followed at once (MARKET-12). */
  readonly maxFollowedTxs?: number
  /** Parent logger; default silent. */
  readonly logger?: Logger
  /** Metrics registry shared by every component; default a fresh one. */
  readonly registry?: Registry
  /** Random source (bid nonces, a new key); default node:crypto. */
  readonly random?: (n: number) => Uint8Array
  /**
   * Book sync (protocol/spec/sync.md) over the node's book and matching snapshots, started after
   * the host and stopped before it. Off unless given (`{}` for the defaults).
   */
  readonly sync?: Omit<SyncServiceOptions, 'libp2p' | 'book' | 'snapshots' | 'logger' | 'now' | 'epochParams'>
  /** Chunk store; default `<dataDir>/chunks` (LevelDB) or, with `store`, a memory store. */
  readonly chunkStore?: ChunkStore
  /**
   * The process's memory watch (`node/host/memory-watch.ts`), joined while the node runs; default on
   * with {@link DEFAULT_MEMORY_WATCH}, `false` for none.
   */
  readonly memoryWatch?: MemoryWatchOptions | false
  /** Reputation (protocol/spec/reputation.md REP-21 … REP-27). */
  readonly reputation?: {
    /** REP-6 thresholds (blocked, establishMin, lowTrust); default the protocol's. */
    readonly thresholds?: Partial<Thresholds>
    /** REP-22 write interval of local observations, ms; default 1 s. */
    readonly flushIntervalMs?: number
  }
  /**
   * Settings of the trade service (`/bitwrk/trade/1.0.0`, {@link BitwrkNode.trade}), which
   * every node runs: started after the market and stopped before it.
   */
  readonly trade?: NodeTradeOptions
  /** Providing and fetching files by key (CHUNK-16 … CHUNK-20); default on. */
  readonly content?: NodeContentOptions
}

/** A bitwrk node: host, gossip, book, market, trade and persistence under one lifecycle. */
export interface BitwrkNode {
  /** The node key: market identity and libp2p identity (DESIGN.md invariant 2). */
  readonly identity: Identity
  /** libp2p peer id. */
  readonly peerId: string
  /** Participant address. */
  readonly address: string
  /** The bid book (book sync: `liveBids`, `addBidBytes`, `liveDigest`). */
  readonly book: BidBook
  /** The market service; its typed events are the node's (`market:*`, `tx:*`, `bid:closed`). */
  readonly market: Market
  /** Reputation of participants and peers: evidence, scores, blocks (REP-21 … REP-27). */
  readonly reputation: ReputationService
  /** Persistence. */
  readonly repos: Repositories
  /** Host and gossip metrics. */
  readonly metrics: NodeMetrics
  /** Book and market metrics. */
  readonly marketMetrics: MarketMetrics
  /** The running host; throws NODE_BAD_STATE before `start`. */
  readonly host: BitwrkHost
  /** Aborted when the node stops. */
  readonly signal: AbortSignal
  /** Content store of work and results (served over `/bitwrk/chunk/1.0.0`). */
  readonly chunks: ChunkStore
  /** Chunk exchange (serving, DHT providers, multi-source fetch); throws NODE_BAD_STATE before `start`. */
  readonly exchange: ChunkExchange
  /**
   * Who may fetch which transaction file from `chunks` (CHUNK-14): the node's trade service
   * grants each transaction's work and ciphertext to its counterparty only; grants end when the
   * transaction retires. Besides these only the files of {@link BitwrkNode.content} are served.
   */
  readonly files: TxFileAccess
  /**
   * Public content (CHUNK-16 … CHUNK-20): the files this node provides — uploads, work received
   * as a seller, accepted results, files fetched by key — and the gateway that fetches by key.
   */
  readonly content: NodeContent
  /**
   * The trade service over the node's market, chunk store and `files`, serving
   * `/bitwrk/trade/1.0.0` while the node runs (for tests of the trade protocol; buying and
   * selling go through {@link BitwrkNode.buy} and {@link BitwrkNode.sell}); throws
   * NODE_BAD_STATE before `start`.
   */
  readonly trade: TradeService
  /**
   * The market's transaction topic as the trade sees it (its `TxChannel`): a transaction's
   * record, kept a while after it retires (`current`), its changes, and its retirement once a
   * deadline passed on the node's clock (`retireDue`).
   */
  readonly txChannel: MarketTxChannel
  /** The network clock (MARKET-18), undefined when the node runs on the host clock as it is. */
  readonly networkClock: NetworkClock | undefined
  /** The book sync service when `sync` was given and the node started. */
  readonly sync: SyncService | undefined
  /** The shared metrics registry (libp2p, host, market, sync, chunks). */
  readonly registry: Registry
  /** The data directory's database controller (further buckets, e.g. mandates); undefined with `store`. */
  readonly kv: KvController | undefined
  /** Starts host, gossip subscriptions, market (restore, resume), chunk exchange, sync and trade in dependency order. */
  start(): Promise<void>
  /** Stops trade, sync, chunk exchange, market, host and persistence in reverse order. Idempotent. */
  stop(): Promise<void>
  /**
   * Follows an article: book and both topics at once (synchronously, before the promise
   * settles), then the stored subscription, so a restart follows it again.
   */
  follow(article: string): Promise<void>
  /** Stops following an article. */
  unfollow(article: string): Promise<void>
  /** Followed articles. */
  articles(): string[]
  /** {@link Market.placeBid}. */
  placeBid: Market['placeBid']
  /** {@link Market.cancelBid}. */
  cancelBid: Market['cancelBid']
  /**
   * Buys `work` (its chunks in `chunks`) in `article` through the market and the trade
   * ({@link buyWork} with the node's market, trade, chunk store and reputation): the result's
   * manifest (its chunks in `chunks`), the transaction whose result was accepted, the attempts.
   */
  buy(article: string, work: Manifest, opts: NodeBuyOptions): Promise<BuyWorkResult>
  /**
   * Sells: from now on, each established transaction of an own SELL bid is traded by `worker`
   * (or the worker it chooses for the bid; {@link wireSeller}). The bids are placed with
   * `placeBid`. Returns the function that stops selling.
   */
  sell(worker: SellWorker): () => void
  /** Listen addresses with `/p2p/<peerId>`. */
  multiaddrs(): string[]
  /**
   * The guard of a stream protocol's refusals (TRADE-19, SYNC-14, CHUNK-15): counts each in
   * `bitwrk_inbound_stream_refusals_total` and drops (bans, GOSSIP-12) a peer that opens a
   * stream after its invalid-request budget is spent. Chunk, sync and trade use it.
   */
  streamGuard(protocol: StreamProtocolLabel): StreamRefusedHandler
}

/**
 * Creates a node (STYLE.md, after Lodestar's `init`): opens persistence (data directory or the
 * given store) and builds book and market; `start()` then wires host, gossip validators,
 * subscriptions, the market and the services over it (chunks, sync, trade) under one
 * AbortController, `stop()` unwinds in reverse.
 */
export async function createBitwrkNode(opts: BitwrkNodeOptions): Promise<BitwrkNode> {
  const hostClock = opts.clock ?? Date.now
  const logger = opts.logger ?? silentLogger()
  // MARKET-18: the market runs on the network's time when the host clock is off
  const networkClock =
    opts.networkClock === false
      ? undefined
      : new NetworkClock({
          raw: hostClock,
          ...DEFAULT_NETWORK_CLOCK,
          ...opts.networkClock,
          onChange: (e) => {
            clockCorrection.set(e.correctionMs)
            logger
              .child({ module: 'clock' })
              .warn(
                { correctionMs: e.correctionMs, previousMs: e.previousMs, peers: e.peers },
                "the host clock differs from the network's: the market runs on the network's time"
              )
          }
        })
  const clock = networkClock?.now ?? hostClock
  const random = opts.random ?? ((n: number) => new Uint8Array(randomBytes(n)))
  const log = logger.child({ module: 'node' })
  const params = checkEpochParams(opts.epochParams)
  if ((opts.dataDir === undefined) === (opts.store === undefined))
    throw new BitwrkError(NodeCode.BAD_OPTIONS, 'give exactly one of dataDir and store')

  let repos: Repositories
  let identity: Identity
  let closeStore: () => Promise<void> = async () => {}
  let kv: KvController | undefined
  let openedRetired: readonly Transaction[] = []
  if (opts.dataDir !== undefined) {
    if (opts.identity !== undefined) await ensureKey(opts.dataDir, opts.identity)
    const dir = await openDataDir(opts.dataDir, { nowMs: clock(), random })
    const { dirWas, entriesRepaired } = dir.report.permissions
    if (dirWas !== null || entriesRepaired > 0)
      log.warn(
        { dataDir: opts.dataDir, dirWas, entriesRepaired },
        'data directory was readable by group or others: made owner-only (what it held may have been read)'
      )
    const migration = dir.report.migration
    if (migration !== undefined) log.info({ dataDir: opts.dataDir, ...migration }, 'data directory migrated')
    repos = dir
    identity = dir.identity
    closeStore = () => dir.close()
    kv = dir.kv
    openedRetired = dir.report.recovery.retired
  } else {
    if (opts.identity === undefined) throw new BitwrkError(NodeCode.BAD_OPTIONS, 'a store needs an identity')
    repos = opts.store as Repositories
    identity = opts.identity
  }

  const registry = opts.registry ?? new Registry()
  const metrics = createMetrics(registry)
  const marketMetrics = createMarketMetrics(registry)
  const clockCorrection = new Gauge({
    name: 'bitwrk_clock_correction_ms',
    help: "Correction of the host clock to the network's time (MARKET-18), ms",
    registers: [registry]
  })
  const maxClockSkewMs = opts.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS
  const book = new BidBook({
    params,
    maxClockSkewMs,
    maxBids: opts.maxBids ?? DEFAULT_BOOK_LIMITS.maxBids,
    maxBidsPerParticipant: opts.maxBidsPerParticipant ?? DEFAULT_BOOK_LIMITS.maxBidsPerParticipant,
    metrics: marketMetrics,
    logger
  })
  const reputation = new ReputationService({
    repo: repos.reputation,
    settings: repos.settings,
    clock,
    logger,
    registry,
    ...(opts.reputation?.thresholds !== undefined ? { thresholds: opts.reputation.thresholds } : {}),
    ...(opts.reputation?.flushIntervalMs !== undefined
      ? { flushIntervalMs: opts.reputation.flushIntervalMs }
      : {})
  })
  const market = new Market({
    identity,
    book,
    repos,
    metrics: marketMetrics,
    logger,
    clock,
    random,
    txWaitMs: opts.txWaitMs ?? Math.min(maxClockSkewMs, params.epochMs + params.settleMs),
    maxFollowedTxs: opts.maxFollowedTxs ?? 10_000,
    // REP-23: no establishing message for a blocked or distrusted counterparty
    admit: (c) => reputation.establishRefusal(c.address, c.peerId),
    // REP-26: conflicting signed messages are equivocation
    onTxMessage: (msg, doc, tx) => {
      reputation.inspect(msg, doc, tx)
      // SYNC-15: a message of a match this node did not make: someone's view differs
      if (tx === undefined) sync?.checkChainsSoon()
    }
  })
  // REP-7: every followed transaction that retires (own or audited) is evidence
  market.addEventListener('tx:retired', (e) => reputation.onRetired(e.detail.tx))
  // CHUNK-14: a transaction's files are served to its counterparty while it runs
  const files = new TxFileAccess()
  market.addEventListener('tx:retired', (e) => files.revoke(e.detail.txid))
  const txChannel = new MarketTxChannel(market, clock)

  const ownChunkStore = opts.chunkStore === undefined
  let chunks: ChunkStore
  try {
    // Opened while the data directory holds its owner-only umask (node/store/permissions.ts).
    chunks =
      opts.chunkStore ??
      (opts.dataDir !== undefined
        ? await LevelChunkStore.open({ path: join(opts.dataDir, CHUNKS_DIR_NAME) })
        : new MemoryChunkStore())
  } catch (err) {
    await closeStore()
    throw err
  }
  const chunkBytes = new Counter({
    name: 'bitwrk_chunk_bytes_total',
    help: 'Verified chunk bytes moved by the chunk exchange: served to peers (out) and fetched (in)',
    labelNames: ['direction'],
    registers: [registry]
  })
  const chunkForbidden = new Counter({
    name: 'bitwrk_chunk_forbidden_total',
    help: 'Requested chunk and file keys refused by the access policy (CHUNK-14), answered as not held',
    registers: [registry]
  })
  const chunkInvalid = new Counter({
    name: 'bitwrk_chunk_invalid_requests_total',
    help: 'Invalid chunk-exchange requests by transfer code',
    labelNames: ['code'],
    registers: [registry]
  })
  const announcements = new Counter({
    name: 'bitwrk_content_announcements_total',
    help: 'DHT provider announcements of provided files (CHUNK-18) by result: ok or the failure code',
    labelNames: ['result'],
    registers: [registry]
  })
  const gatewayFetches = new Counter({
    name: 'bitwrk_content_gateway_fetches_total',
    help: 'Files fetched by key through the gateway (API-24) by result: ok or the failure code',
    labelNames: ['result'],
    registers: [registry]
  })
  // CHUNK-22: chunks of an upload leave this node about once when its fetchers share them
  const seedRefusals = new Counter({
    name: 'bitwrk_chunk_seed_refusals_total',
    help: 'Chunk requests for an uploaded file answered as not held because a peer that shares the file got the chunk already (CHUNK-22)',
    registers: [registry]
  })
  const fileProviders = new ProviderCache(async function* (key, signal) {
    if (exchange === undefined) return
    for await (const p of exchange.findProviders(key, { signal, maxProviders: SWARM_LOOKUP_PROVIDERS }))
      yield p.toString()
  })
  const seeder = new Seeder({
    providers: (key) => fileProviders.get(key),
    clock: hostClock,
    onRefused: () => seedRefusals.inc()
  })
  // CHUNK-16: the files this node publishes, bounded and re-announced
  const provided: ProvidedFiles = new ProvidedFiles({
    onAdd: (m, reason) => {
      if (reason === 'upload') seeder.seed(m)
    },
    onRemove: (key) => seeder.unseed(key),
    store: chunks,
    enabled: opts.content?.provide !== false,
    clock: opts.content?.clock ?? hostClock,
    ...(opts.content?.limits !== undefined ? { limits: opts.content.limits } : {}),
    announce: (key, o) => node.exchange.provide(key, o),
    // kad-dht re-provides what it once provided until told not to
    withdraw: async (key) => {
      await host?.libp2p.services.dht.cancelReprovide(keyToCid(key))
    },
    onAnnounce: (result) => announcements.inc({ result: result === 'ok' ? 'ok' : codeLabel(result) }),
    // a file provided while it is being fetched (its chunks arriving) is not withdrawn for them
    fetching: (hex) => gateway.isFetching(hex)
  })
  new Gauge({
    name: 'bitwrk_content_provided_files',
    help: 'Files provided now (CHUNK-16) by why they are provided',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      const by = provided.countByReason()
      for (const r of PROVIDE_REASONS) this.set({ reason: r }, by[r])
    }
  })
  const gateway = new ContentGateway({
    exchange: () => node.exchange,
    connectedPeers: () => host?.libp2p.getPeers().length ?? 0,
    files: { put: async (m) => void (await repos.files.put(m, hostClock())) },
    provided,
    ...(opts.content?.gateway !== undefined ? { limits: opts.content.gateway } : {}),
    onFetch: (result) => gatewayFetches.inc({ result: result === 'ok' ? 'ok' : codeLabel(result) })
  })
  const content: NodeContent = { provided, gateway }
  let sweepTimer: ReturnType<typeof setInterval> | undefined
  // inbound stream caps and overruns of chunk, sync and trade
  const streams = streamMetrics(registry)
  let leaveMemoryWatch: (() => void) | undefined
  new Gauge({
    name: 'bitwrk_memory_watch_collections',
    help: 'Full garbage collections the memory watch ran in this process (RSS grew past its bound since the last one)',
    registers: [registry],
    collect() {
      this.set(memoryWatchStats().collections)
    }
  })

  const controller = new AbortController()
  let host: BitwrkHost | undefined
  let exchange: ChunkExchange | undefined
  let sync: SyncService | undefined
  let trade: TradeService | undefined
  let state: 'new' | 'starting' | 'running' | 'stopped' = 'new'
  let stopping: Promise<void> | undefined

  const subscribe = (article: string): void => {
    if (host === undefined) return
    host.gossip.subscribe(bidTopic(article))
    host.gossip.subscribe(txTopic(article))
  }

  const node: BitwrkNode = {
    identity,
    peerId: identity.peerId,
    address: identity.address,
    book,
    market,
    reputation,
    repos,
    metrics,
    marketMetrics,
    signal: controller.signal,
    chunks,
    files,
    content,
    txChannel,
    networkClock,
    registry,
    kv,
    get trade(): TradeService {
      if (trade === undefined) throw new BitwrkError(NodeCode.BAD_STATE, 'node not started')
      return trade
    },
    get exchange(): ChunkExchange {
      if (exchange === undefined) throw new BitwrkError(NodeCode.BAD_STATE, 'node not started')
      return exchange
    },
    get sync(): SyncService | undefined {
      return sync
    },
    get host(): BitwrkHost {
      if (host === undefined) throw new BitwrkError(NodeCode.BAD_STATE, 'node not started')
      return host
    },
    async start() {
      if (state !== 'new') throw new BitwrkError(NodeCode.BAD_STATE, 'start only once')
      state = 'starting'
      // Dependency order: persistence (open) → followed articles → host + validators →
      // subscriptions → market (restore own bids, resume transactions, epoch timer).
      const stored = await repos.settings.subscriptions()
      for (const s of stored.items) book.follow(s.article)
      for (const a of opts.articles ?? []) await node.follow(a)
      await reputation.start()
      host = await createHost({
        ...opts.host,
        adapter: {
          ...opts.host?.adapter,
          // REP-22: a Rejected message is the forwarding peer's invalid gossip
          onReject: (e) => {
            opts.host?.adapter?.onReject?.(e)
            reputation.onInvalidGossip(e.peer, e.code)
          }
        },
        privateKey: identity.privateKey,
        ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
        ...(opts.bootstrap !== undefined ? { bootstrap: opts.bootstrap } : {}),
        ...(opts.loopbackOnly !== undefined ? { loopbackOnly: opts.loopbackOnly } : {}),
        // REP-9: the GossipSub application-specific score is the peer's reputation
        gossip: { ...opts.gossip, appSpecificScore: (peer) => reputation.appScore(peer) },
        validators: {
          bids: (data, ctx) => book.validateGossip(data, ctx),
          tx: (data, ctx) => market.txs.validate(data, ctx),
          evidence: (data, ctx) => reputation.validateEvidence(data, ctx)
        },
        logger,
        metrics,
        now: clock
      })
      if (controller.signal.aborted) {
        await host.stop()
        return
      }
      for (const a of book.articles()) subscribe(a)
      // REP-24: equivocation proofs, one topic for all articles
      host.gossip.subscribe(EVIDENCE_TOPIC)
      const gossip = host.gossip
      reputation.setPublisher((bytes) => gossip.publish(EVIDENCE_TOPIC, bytes, { signal: controller.signal }))
      const h = host
      market.attach(h.gossip, () => h.multiaddrs().map(String))
      const r = await market.start({ retired: openedRetired })
      // Services over the host: chunks (serve the store) then book sync (pulls on connect).
      // DIRECT-13: a chunk fetch upgrades a relayed-only connection first
      exchange = new ChunkExchange(withDirectChunkDials(h.libp2p, h.direct), {
        store: chunks,
        // The LevelDB store opened here re-hashes every chunk on `get` (invariant 8), so serving
        // need not hash it again; a memory or caller-supplied store is re-hashed when served.
        verifyServed: !(ownChunkStore && opts.dataDir !== undefined),
        // DESIGN.md invariant 7: only a transaction's counterparty reads its files; CHUNK-19:
        // every peer reads the provided ones
        // CHUNK-22: and an upload's chunk goes to its swarm about once
        access: (peer, key) =>
          (files.allows(peer, key) || provided.readable(key)) && seeder.allows(peer, key),
        // CHUNK-6: manifests of provided files only (a transaction's travel over the trade)
        manifests: async (key) => provided.manifest(key),
        onForbidden: () => chunkForbidden.inc(),
        onInvalidRequest: (e) => chunkInvalid.inc({ code: codeLabel(e.code) }),
        onStreamRefused: node.streamGuard('chunk'),
        onServed: (e) => chunkBytes.inc({ direction: 'out' }, e.bytes),
        onFetched: (e) => chunkBytes.inc({ direction: 'in' }, e.bytes),
        // REP-22: a provider proven wrong (invariant 8)
        onBadProvider: (e) => reputation.onWrongChunk(e.peer, e.code)
      })
      await exchange.start()
      const x = exchange
      streams.track('chunk', () => x.activeStreams())
      if (opts.sync !== undefined) {
        const adapters = bookSyncAdapters(book, {
          maxClockSkewMs,
          clock,
          // SYNC-15: a node off the network's digest chain finds out and adopts the network's state
          digestAt: (key, epoch) => market.epochDigest(key, epoch),
          onAdopted: (snap, previous, rejoin) =>
            market.adopted(snap.key, snap.closedEpoch, snap.digest, previous, rejoin)
        })
        sync = new SyncService({
          metrics: createSyncMetrics(registry),
          onStreamRefused: node.streamGuard('sync'),
          ...opts.sync,
          libp2p: h.libp2p,
          book: adapters.book,
          snapshots: adapters.snapshots,
          epochParams: params,
          logger,
          now: clock,
          // SYNC-16, MARKET-18: peers' host clocks, timed in the chain checks
          hostNow: hostClock,
          ...(networkClock !== undefined
            ? { onTimeSample: (peer: string, t: TimeSample) => networkClock.sample(peer, t.offsetMs) }
            : {})
        })
        await sync.start()
        const sy = sync
        streams.track('sync', () => sy.servedStreams())
      }
      // The trade over the market's transaction topic: it serves and grants (CHUNK-14) the
      // files of this node's transactions from the chunk store.
      const t = new TradeService({
        logger,
        ...opts.trade,
        libp2p: h.libp2p,
        signer: identity,
        channel: txChannel,
        store: chunks,
        // CHUNK-16: the work pushed over the trade is not provided (its hash is public on the
        // transaction topic); work inputs named by key are, once fetched through the gateway
        files,
        onStreamRefused: node.streamGuard('trade'),
        // TRADE-20: bulk data to a relayed-only seller goes over a direct connection or not at all
        ...(h.direct !== undefined ? { direct: h.direct } : {}),
        onPath: (path) => h.metrics.tradePaths.inc({ path })
      })
      trade = t
      await t.start()
      streams.track('trade', () => t.inboundStreams())
      const sweepMs = opts.content?.sweepIntervalMs ?? PROVIDE_DEFAULTS.sweepIntervalMs
      if (sweepMs > 0) {
        sweepTimer = setInterval(() => {
          provided.sweep({ signal: controller.signal }).catch(() => {})
        }, sweepMs)
        sweepTimer.unref()
      }
      if (opts.memoryWatch !== false) leaveMemoryWatch = watchMemory(opts.memoryWatch ?? DEFAULT_MEMORY_WATCH)
      state = 'running'
      log.info(
        { peerId: identity.peerId, articles: book.articles().length, resumed: r.resumed.length },
        'node started'
      )
    },
    stop() {
      stopping ??= (async () => {
        controller.abort()
        state = 'stopped'
        leaveMemoryWatch?.()
        clearInterval(sweepTimer)
        gateway.stop()
        provided.stop()
        fileProviders.stop()
        await trade?.stop()
        await sync?.stop()
        await exchange?.stop()
        await market.stop()
        await reputation.stop()
        await host?.stop()
        if (ownChunkStore) await chunks.close()
        await closeStore()
        log.info({}, 'node stopped')
      })()
      return stopping
    },
    async follow(article) {
      if (!isValidArticle(article))
        throw new BitwrkError(NodeCode.BAD_ARTICLE, 'article cannot be followed', { length: article.length })
      // The book follows before the first await: a bid placed right after this call (a worker's
      // offer, WRK-11) finds the article followed; the stored subscription comes next.
      book.follow(article)
      subscribe(article)
      await repos.settings.follow(article, clock())
    },
    async unfollow(article) {
      await repos.settings.unfollow(article)
      book.unfollow(article)
      host?.gossip.unsubscribe(bidTopic(article))
      host?.gossip.unsubscribe(txTopic(article))
    },
    articles: () => book.articles(),
    placeBid: (req: PlaceBidRequest) => market.placeBid(req),
    cancelBid: (id: string) => market.cancelBid(id),
    buy: async (article, work, o) => {
      const r = await buyWork({
        logger,
        ...o,
        market,
        trade: node.trade,
        store: chunks,
        reputation,
        article,
        work
      })
      // CHUNK-16: an accepted result is provided while it is held
      provided.add(r.result, 'result')
      return r
    },
    sell: (worker) =>
      wireSeller(market, { onEstablished: (tx, w, o) => node.trade.onEstablished(tx, w, o) }, worker, logger),
    multiaddrs: () => (host === undefined ? [] : host.multiaddrs().map(String)),
    streamGuard(protocol) {
      const count = streams.refused(protocol)
      return (reason, peer) => {
        count(reason)
        // the budget is spent and the peer still opens streams: it is dropped, not served
        if (reason === 'budget') host?.ban(peer, `${protocol} invalid-request budget`)
      }
    }
  }
  return node
}

/** Writes `identity` as the key file of `dir` when there is none; refuses a different one. */
async function ensureKey(dir: string, identity: Identity): Promise<void> {
  try {
    const { identity: stored } = await loadKeyFile(dir)
    if (stored.address !== identity.address)
      throw new BitwrkError(NodeCode.IDENTITY_MISMATCH, 'identity differs from the key file', { dir })
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'STORE_KEY_MISSING') throw err
    await createKeyFile(dir, identity.toWif())
  }
}
