/**
 * One node of the `agreement` harness (scripts/agreement/run.ts), in its own process so that its
 * event loop, its clock and its links are its own: a real bitwrk node (LevelDB data directory,
 * libp2p on 127.0.0.1) with an emulated one-way delay on every connection, a clock offset, an
 * optional blocked event loop, and a partition switch. It places crossing bids on command and
 * reports its own matches, its established transactions and its epoch digests. Talks to the
 * coordinator over the IPC channel of `child_process.fork` ({@link ChildCommand}, {@link ChildReply}).
 */
import '../../node/polyfill.js'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import { drawDelay, type LinkDelay } from '../../node/host/link-emulation.js'
import { type BitwrkNode, bidTopic, createBitwrkNode, txTopic } from '../../node/index.js'
import { waitFor, waitForMesh } from '../../node/testing.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { money } from '../../protocol/money/index.js'
import { mulberry32 } from '../../protocol/util/prng.js'

/** How a child node is set up. */
export interface ChildConfig {
  /** Index in the network (names, seeds). */
  readonly index: number
  /** Article traded. */
  readonly article: string
  /** Epoch parameters of the network. */
  readonly epochParams: { readonly epochMs: number; readonly settleMs: number }
  /** Emulated one-way delay of every link, or none (loopback). */
  readonly delay?: LinkDelay
  /** Offset of this node's clock from the host's, ms. */
  readonly clockOffsetMs: number
  /** Block the event loop for `blockMs` every `everyMs` (the overloaded node). */
  readonly overload?: { readonly blockMs: number; readonly everyMs: number }
}

/** Commands of the coordinator. */
export type ChildCommand =
  | { readonly type: 'start'; readonly config: ChildConfig }
  | { readonly type: 'dial'; readonly addrs: readonly string[] }
  | { readonly type: 'load'; readonly bidsPerSec: number; readonly durationMs: number; readonly seed: number }
  | { readonly type: 'partition'; readonly peers: readonly string[] }
  | { readonly type: 'heal'; readonly addrs: readonly string[] }
  | { readonly type: 'mesh'; readonly timeoutMs: number }
  | { readonly type: 'report' }
  | { readonly type: 'stop' }

/** An own match seen by this node. */
export interface OwnMatch {
  readonly txid: string
  readonly party: 'buyer' | 'seller'
  readonly epoch: number
}

/** Replies to the coordinator. */
export type ChildReply =
  | { readonly type: 'started'; readonly peerId: string; readonly addrs: string[] }
  | { readonly type: 'done'; readonly command: ChildCommand['type'] }
  | {
      readonly type: 'report'
      readonly peerId: string
      readonly ownMatches: OwnMatch[]
      readonly established: string[]
      /** Epoch → digest after it (MATCH-13), for every epoch this node matched since start. */
      readonly digests: [number, string][]
      /** Bid placements the user saw fail (any code), and those that failed as late. */
      readonly placeFailed: number
      readonly placeLate: number
      readonly placed: number
      /** Bids of others this node ignored as late (MATCH_LATE, BID_TOO_LATE). */
      readonly lateReceptions: number
      /** Times from an own BUY's creation to its transaction established, ms. */
      readonly establishTimes: number[]
      /** The network clock's correction of this node's clock at the end, ms (MARKET-18). */
      readonly clockCorrectionMs: number
      /** Times (host clock, ms) this node adopted a snapshot. */
      readonly adoptions: number[]
    }
  | { readonly type: 'error'; readonly message: string }

function send(reply: ChildReply): void {
  process.send?.(reply)
}

async function main(): Promise<void> {
  let node: BitwrkNode | undefined
  let dataDir: string | undefined
  let config: ChildConfig | undefined
  const denied = new Set<string>()
  const ownMatches: OwnMatch[] = []
  const established = new Set<string>()
  const digests = new Map<number, string>()
  const adoptions: number[] = []
  let placed = 0
  let placeFailed = 0
  let placeLate = 0
  let overloadTimer: ReturnType<typeof setInterval> | undefined
  const loads = new Set<Promise<void>>()
  /** Own BUY bids: id → creation time on this node's clock. */
  const buyCreated = new Map<string, number>()
  /** Time from an own BUY's creation to its transaction established here, ms. */
  const establishTimes: number[] = []

  const start = async (c: ChildConfig): Promise<void> => {
    config = c
    dataDir = await mkdtemp(join(tmpdir(), `bitwrk-agree-${c.index}-`))
    const offset = c.clockOffsetMs
    const delay = c.delay
    node = await createBitwrkNode({
      dataDir,
      loopbackOnly: true,
      articles: [c.article],
      epochParams: c.epochParams,
      clock: () => Date.now() + offset,
      sync: {},
      memoryWatch: false,
      host: {
        dhtSelfQuery: false,
        denyPeer: (p) => denied.has(p),
        ...(delay !== undefined && delay.meanMs > 0 ? { inboundDelayMs: () => drawDelay(delay) } : {})
      }
    })
    node.market.addEventListener('market:match', (e) => {
      if (e.detail.own !== null)
        ownMatches.push({ txid: e.detail.txid, party: e.detail.own, epoch: e.detail.match.epoch })
    })
    node.market.addEventListener('tx:established', (e) => {
      if (e.detail.own === null) return
      established.add(e.detail.txid)
      const created = buyCreated.get(e.detail.tx.terms.buyBidId)
      if (created !== undefined) establishTimes.push(Date.now() + offset - created)
    })
    node.market.addEventListener('market:epoch', (e) => {
      digests.set(e.detail.epoch, e.detail.digest)
    })
    node.market.addEventListener('market:rejoined', (e) => {
      adoptions.push(Date.now())
      digests.set(e.detail.epoch, e.detail.digest)
    })
    await node.start()
    if (c.overload !== undefined) {
      const { blockMs, everyMs } = c.overload
      overloadTimer = setInterval(() => {
        const until = performance.now() + blockMs
        while (performance.now() < until) {
          // the overloaded node: its event loop does nothing else meanwhile
        }
      }, everyMs)
    }
    send({ type: 'started', peerId: node.peerId, addrs: node.multiaddrs() })
  }

  const dial = async (addrs: readonly string[]): Promise<void> => {
    const n = node
    if (n === undefined) return
    await Promise.all(
      addrs.map((a) =>
        n.host.libp2p.dial(multiaddr(a), { signal: AbortSignal.timeout(10_000) }).catch(() => undefined)
      )
    )
  }

  /** Places `bidsPerSec` crossing bids per second for `durationMs`: BUYs 100–199, SELLs 50–149. */
  const load = async (bidsPerSec: number, durationMs: number, seed: number): Promise<void> => {
    const n = node
    const c = config
    if (n === undefined || c === undefined) return
    const random = mulberry32(seed)
    const gap = 1000 / bidsPerSec
    const t0 = performance.now()
    for (let i = 0; performance.now() - t0 < durationMs; i++) {
      const due = t0 + i * gap + random() * gap * 0.5
      const wait = due - performance.now()
      if (wait > 0) await new Promise((r) => setTimeout(r, wait))
      const buy = random() < 0.5
      const price = buy ? 100 + Math.floor(random() * 100) : 50 + Math.floor(random() * 100)
      placed++
      try {
        const bid = await n.placeBid({
          article: c.article,
          side: buy ? 'BUY' : 'SELL',
          price: money('BTC', BigInt(price)),
          lifetimeMs: 30_000,
          ...(buy
            ? {
                work: {
                  workHash: randomBytes(32).toString('hex'),
                  buyerSecret: randomBytes(32).toString('hex')
                }
              }
            : {})
        })
        if (buy) buyCreated.set(bid.id, bid.createdMs)
      } catch (err) {
        placeFailed++
        if (isBitwrkError(err, 'MATCH_LATE')) placeLate++
      }
    }
  }

  const lateReceptions = async (): Promise<number> => {
    const n = node
    if (n === undefined) return 0
    const { values } = await n.marketMetrics.bids.get()
    let late = 0
    for (const v of values)
      if (
        v.labels.result === 'ignore' &&
        (v.labels.code === 'MATCH_LATE' || v.labels.code === 'BID_TOO_LATE')
      )
        late += v.value
    return late
  }

  const handle = async (cmd: ChildCommand): Promise<void> => {
    switch (cmd.type) {
      case 'start':
        return start(cmd.config)
      case 'dial':
        await dial(cmd.addrs)
        return send({ type: 'done', command: 'dial' })
      case 'load': {
        const p = load(cmd.bidsPerSec, cmd.durationMs, cmd.seed)
        loads.add(p)
        await p
        loads.delete(p)
        return send({ type: 'done', command: 'load' })
      }
      case 'mesh': {
        const n = node
        const c = config
        if (n !== undefined && c !== undefined) {
          await waitForMesh([n.host], bidTopic(c.article), cmd.timeoutMs)
          await waitForMesh([n.host], txTopic(c.article), cmd.timeoutMs)
          // warm-up: the node has timed its peers' clocks once (MARKET-18, SYNC-16), as a node
          // does in its first seconds on a network before it trades
          const clock = n.networkClock
          if (clock !== undefined)
            await waitFor(() => clock.peers() >= Math.min(3, n.host.libp2p.getPeers().length), {
              timeoutMs: cmd.timeoutMs,
              what: 'clock samples'
            })
        }
        return send({ type: 'done', command: 'mesh' })
      }
      case 'partition': {
        for (const p of cmd.peers) denied.add(p)
        const n = node
        if (n !== undefined)
          for (const c of n.host.libp2p.getConnections())
            if (denied.has(c.remotePeer.toString())) c.abort(new Error('partitioned'))
        return send({ type: 'done', command: 'partition' })
      }
      case 'heal':
        denied.clear()
        await dial(cmd.addrs)
        return send({ type: 'done', command: 'heal' })
      case 'report':
        return send({
          type: 'report',
          peerId: node?.peerId ?? '',
          ownMatches,
          established: [...established],
          digests: [...digests],
          placeFailed,
          placeLate,
          placed,
          lateReceptions: await lateReceptions(),
          establishTimes,
          clockCorrectionMs: node?.networkClock?.correctionMs ?? 0,
          adoptions
        })
      case 'stop':
        if (overloadTimer !== undefined) clearInterval(overloadTimer)
        await Promise.allSettled([...loads])
        await node?.stop()
        if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
        send({ type: 'done', command: 'stop' })
        process.disconnect?.()
        return
    }
  }

  process.on('message', (cmd: ChildCommand) => {
    handle(cmd).catch((err: unknown) => send({ type: 'error', message: String(err) }))
  })
  process.on('disconnect', () => {
    if (overloadTimer !== undefined) clearInterval(overloadTimer)
    void (async () => {
      await node?.stop().catch(() => {})
      if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
      process.exit(0)
    })()
  })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
