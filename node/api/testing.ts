/**
 * A {@link NodeFacade} for tests and for trying the API without a network: an in-memory
 * chunk store and file index, fixed identity/peers/book, and a `buy` that runs the work on a
 * local idle worker of the article (like the original's local match, §5.6) or else on a
 * `compute` function.
 */
import { keyToHex } from '../../cafs/keys.js'
import { MemoryChunkStore } from '../../cafs/store/memory.js'
import { exportStream, importStream } from '../../cafs/stream.js'
import type { Manifest } from '../../cafs/types.js'
import { BitwrkError } from '../../protocol/errors.js'
import { formatMoney } from '../../protocol/money/index.js'
import type { WorkerPool } from '../workers/index.js'
import type {
  ActivityView,
  BookView,
  BuyOptions,
  FileIndex,
  IdentityView,
  NodeFacade,
  PeerView,
  TransactionView
} from './facade.js'

/** Options of {@link createTestFacade}. */
export interface TestFacadeOptions {
  /** Computes a result when no worker is idle (default: the work bytes reversed). */
  readonly compute?: (article: string, work: Uint8Array, signal: AbortSignal) => Promise<Uint8Array>
  /** Workers to run buys on (local match). */
  readonly workers?: WorkerPool
  /** Identity shown by `/api/v1/identity`. */
  readonly identity?: IdentityView
}

/** The test facade plus what tests inspect. */
export interface TestFacade extends NodeFacade {
  /** Buys started, in order. */
  readonly buys: { article: string; workKey: string; price: string; mandateId: number }[]
}

/** Test code error: the compute function was cancelled. */
export const TEST_FACADE_CANCELLED = 'TEST_FACADE_CANCELLED'

async function collect(m: Manifest, facade: NodeFacade): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const c of exportStream(m, facade.chunkStore)) parts.push(c)
  return Buffer.concat(parts)
}

/** A {@link TestFacade} (see the module comment). */
export function createTestFacade(options: TestFacadeOptions = {}): TestFacade {
  const chunkStore = new MemoryChunkStore()
  const manifests = new Map<string, Manifest>()
  const files: FileIndex = {
    get: async (key) => manifests.get(keyToHex(key)),
    put: async (m) => {
      manifests.set(keyToHex(m.fileKey), m)
    }
  }
  const activities: ActivityView[] = []
  const buys: TestFacade['buys'] = []
  const compute =
    options.compute ?? (async (_article: string, work: Uint8Array) => Uint8Array.from(work).reverse())
  const facade: TestFacade = {
    version: '0.1.0',
    chunkStore,
    files,
    buys,
    identity: () =>
      options.identity ?? {
        address: '1C7zdTfnkzmr13HfA2vNm5SJYRK6nEKyq8',
        peerId: '16Uiu2HAmTestPeer',
        addrs: ['/ip4/127.0.0.1/tcp/4001']
      },
    peers: async (): Promise<PeerView[]> => [{ peerId: '16Uiu2HAmOtherPeer', addrs: [], connected: true }],
    book: async (article: string): Promise<BookView> => ({ article, buys: [], sells: [] }),
    activities: async () => activities.slice(),
    transactions: async (): Promise<TransactionView[]> => [],
    storeStats: () => chunkStore.stats(),
    buy: async (article: string, work: Manifest, opts: BuyOptions) => {
      buys.push({
        article,
        workKey: keyToHex(work.fileKey),
        price: formatMoney(opts.price),
        mandateId: opts.mandateId
      })
      const activity = {
        id: activities.length + 1,
        side: 'BUY' as const,
        article,
        alive: true,
        phase: 'LOCAL',
        price: formatMoney(opts.price),
        bidId: null,
        txId: null,
        workerId: null as string | null,
        bytesTotal: work.size,
        bytesTransferred: 0,
        error: null as string | null
      }
      activities.push(activity)
      const done = (patch: Partial<typeof activity>): void => {
        activities[activity.id - 1] = { ...activity, ...patch, alive: false }
      }
      try {
        const workerId = options.workers?.idle(article)[0]
        let result: Manifest
        if (workerId !== undefined) {
          activity.workerId = workerId
          result = await options.workers!.dispatch(workerId, exportStream(work, chunkStore), {
            store: chunkStore,
            signal: opts.signal
          })
        } else {
          const bytes = await compute(article, await collect(work, facade), opts.signal)
          if (opts.signal.aborted) throw new BitwrkError(TEST_FACADE_CANCELLED, 'cancelled')
          result = await importStream([bytes], chunkStore)
        }
        await files.put(result)
        done({ phase: 'FINISHED', bytesTransferred: work.size })
        return { resultKey: result.fileKey }
      } catch (err) {
        done({ phase: 'FAILED', error: err instanceof BitwrkError ? err.code : 'ERROR' })
        throw err
      }
    }
  }
  return facade
}
