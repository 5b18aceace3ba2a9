/** Fixtures of the trade tests: real libp2p hosts on 127.0.0.1, in-memory channel, stores. */

import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hexToBytes } from '@noble/hashes/utils.js'
import type { StreamGuardReason } from '../../../cafs/adapters/libp2p/index.js'
import { keyToHex } from '../../../cafs/keys.js'
import { manifestOfBytes } from '../../../cafs/manifest.js'
import { MemoryChunkStore } from '../../../cafs/store/memory.js'
import type { ChunkStore } from '../../../cafs/types.js'
import { type BitwrkHost, createHost, type HostOptions } from '../../../node/host/host.js'
import {
  createMemoryController,
  type KvController,
  openLevelController,
  openStore,
  type TransactionRepository
} from '../../../node/store/index.js'
import { randomPrivateKey } from '../../../node/testing.js'
import {
  encodeTradeFrame,
  libp2pTradeStream,
  type MemoryTxChannel,
  type MemoryTxNetwork,
  readTradeFrame,
  type TestClock,
  TRADE_PROTOCOL,
  TradeCode,
  type TradeLimits,
  TradeMsg,
  TradeService,
  type TxChannel
} from '../../../node/trade/index.js'
import { isBitwrkError } from '../../../protocol/errors.js'
import { Identity } from '../../../protocol/identity/index.js'
import { money } from '../../../protocol/money/index.js'
import {
  type MatchTerms,
  signTxMessage,
  type Transaction,
  workSecretHash
} from '../../../protocol/transaction/index.js'

/** One node of a trade test. */
export interface TradeNode {
  readonly identity: Identity
  readonly host: BitwrkHost
  readonly store: ChunkStore
  readonly repo: TransactionRepository
  readonly channel: MemoryTxChannel
  readonly trade: TradeService
  /** Stops trade service, host and database (idempotent enough for afterEach). */
  stop(): Promise<void>
}

/** Options of {@link makeNode}. */
export interface NodeOptions {
  /** Use a LevelDB in a temp dir instead of the memory controller. */
  readonly level?: boolean
  /** Wraps the chunk store (fault injection). */
  readonly wrapStore?: (store: ChunkStore) => ChunkStore
  /** Trade limits. */
  readonly limits?: Partial<TradeLimits>
  /** Wraps the channel the trade service publishes on (a hostile party's messages). */
  readonly wrapChannel?: (channel: TxChannel) => TxChannel
  /** Inbound streams refused or cut by the seller's guards (TRADE-16, TRADE-19). */
  readonly onStreamRefused?: (reason: StreamGuardReason) => void
  /** Host options (listen addresses, direct connections: TRADE-20). */
  readonly host?: Partial<HostOptions>
}

/** Starts a node: host on 127.0.0.1 port 0, store, repository, channel, trade service. */
export async function makeNode(
  network: MemoryTxNetwork,
  clock: TestClock,
  opts: NodeOptions = {}
): Promise<TradeNode> {
  const key = randomPrivateKey()
  const identity = Identity.fromPrivateKey(key)
  let dir: string | undefined
  let kv: KvController
  if (opts.level === true) {
    dir = await mkdtemp(join(tmpdir(), 'bitwrk-trade-'))
    kv = await openLevelController(join(dir, 'db'))
  } else kv = createMemoryController()
  const repos = await openStore(kv)
  const host = await createHost({ privateKey: key, loopbackOnly: true, ...opts.host })
  const base = new MemoryChunkStore()
  const store = opts.wrapStore?.(base) ?? base
  const channel = network.join(repos.transactions, clock)
  const trade = new TradeService({
    libp2p: host.libp2p,
    signer: identity,
    channel: opts.wrapChannel?.(channel) ?? channel,
    store,
    clock,
    ...(opts.limits !== undefined ? { limits: opts.limits } : {}),
    ...(opts.onStreamRefused !== undefined ? { onStreamRefused: opts.onStreamRefused } : {}),
    ...(host.direct !== undefined ? { direct: host.direct } : {})
  })
  await trade.start()
  let stopped: Promise<void> | undefined
  return {
    identity,
    host,
    store,
    repo: repos.transactions,
    channel,
    trade,
    stop() {
      stopped ??= (async () => {
        await trade.stop()
        await host.stop()
        channel.close()
        await kv.close()
        if (dir !== undefined) await rm(dir, { recursive: true, force: true })
      })()
      return stopped
    }
  }
}

/** A random 64-hex string (bid ids, secrets). */
export function randomHex(): string {
  return randomBytes(32).toString('hex')
}

/** Deterministic pseudo-random bytes (the LCG of notes vectors I) of length `n`, seeded. */
export function lcgBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff
    out[i] = (x >>> 16) & 0xff
  }
  return out
}

/** The test worker's function: the work reversed. */
export function reversed(work: Uint8Array): Uint8Array {
  return Uint8Array.from(work).reverse()
}

/** A trade ready to run: established on every node (TRANSMITTING). */
export interface Established {
  readonly tx: Transaction
  readonly secret: string
}

/**
 * Opens a transaction between `buyer` and `seller` matched now and publishes both establishing
 * messages (the market's job), committing to `work` with a fresh secret (or `commitSecret`); the
 * seller announces `sellerAddrs` (default: all its addresses).
 */
export async function establish(
  network: MemoryTxNetwork,
  clock: TestClock,
  buyer: TradeNode,
  seller: TradeNode,
  work: Uint8Array,
  commitSecret?: string,
  sellerAddrs?: string[]
): Promise<Established> {
  const terms: MatchTerms = {
    buyBidId: randomHex(),
    sellBidId: randomHex(),
    buyer: buyer.identity.address,
    seller: seller.identity.address,
    buyerPeerId: buyer.host.peerId,
    sellerPeerId: seller.host.peerId,
    article: 'net.bitwrk/gorays/0',
    price: money('BTC', 150_000n),
    matchedMs: clock.now()
  }
  const tx = await network.open(terms)
  const secret = randomHex()
  const workHash = keyToHex(manifestOfBytes(work).fileKey)
  await buyer.channel.publish(
    signTxMessage(buyer.identity, tx.id, {
      kind: 'establish-buyer',
      workHash,
      workSecretHash: workSecretHash(workHash, commitSecret ?? secret)
    })
  )
  const established = await seller.channel.publish(
    signTxMessage(seller.identity, tx.id, {
      kind: 'establish-seller',
      peerId: seller.host.peerId,
      addrs: sellerAddrs ?? seller.host.multiaddrs().map(String)
    })
  )
  return { tx: established, secret }
}

/**
 * What `from`'s HELLO for `txid` gets from `seller` within 5 s: the ERROR's code, `reset` when
 * the stream broke without a frame, `no answer` when nothing came.
 */
export async function helloAnswer(from: TradeNode, seller: TradeNode, txid: string): Promise<string> {
  const ts = libp2pTradeStream(await from.host.libp2p.dialProtocol(seller.host.multiaddrs(), TRADE_PROTOCOL))
  await ts.bytes.write(encodeTradeFrame(TradeMsg.HELLO, hexToBytes(txid))).catch(() => {})
  try {
    await readTradeFrame(ts, { timeoutMs: 5000 }, (why) => new Error(why))
    return 'no error'
  } catch (err) {
    if (isBitwrkError(err, TradeCode.PEER_ERROR)) return String(err.details.remoteCode)
    return err instanceof Error && err.message.includes('timeout') ? 'no answer' : 'reset'
  } finally {
    ts.bytes.abort()
  }
}
