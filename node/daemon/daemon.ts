/**
 * The daemon (issue 5, DESIGN.md §5): one node with its data directory, its services and the
 * local API under one lifecycle (STYLE.md, after Lodestar's `init`): started in dependency
 * order, stopped in reverse, stop idempotent. While it runs, `<dataDir>/daemon.json` tells
 * local tools (`status`, `peers`, the testnet) where the API listens.
 */

import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { EpochParams } from '../../protocol/matching/index.js'
import type { Thresholds } from '../../protocol/reputation/index.js'
import { ApiServer, DEFAULT_API_HOST, DEFAULT_API_PORT } from '../api/server.js'
import type { HostDirectOptions } from '../host/direct-setup.js'
import type { Logger } from '../logger.js'
import { MandateBook } from '../mandates/index.js'
import { type BitwrkNode, createBitwrkNode } from '../node.js'
import { type WorkerAllowRule, WorkerPool } from '../workers/index.js'
import { createNodeFacade } from './facade.js'
import { DAEMON_FILE_NAME, DAEMON_VERSION, type DaemonInfo } from './info.js'

/** Default listen address: loopback, a free port (DESIGN.md: no public exposure by default). */
export const DEFAULT_LISTEN = '/ip4/127.0.0.1/tcp/0'

/** The demo article followed when nothing else is (node/demo, protocol/spec/demo-article.md). */
export const DEFAULT_ARTICLES: readonly string[] = ['net.bitwrk/rays/0']

/** Options of {@link startDaemon}. */
export interface DaemonOptions {
  readonly dataDir: string
  readonly listen?: readonly string[]
  /** Multiaddrs announced instead of the listen addresses (`--announce`, NET-2). */
  readonly announce?: readonly string[]
  /**
   * Serve as a circuit relay (NET-12): undefined serves while the node is public (the default),
   * true always (`--relay-server`), false never (`--no-relay-server`).
   */
  readonly relayServer?: boolean
  readonly bootstrap?: readonly string[]
  readonly apiHost?: string
  readonly apiPort?: number
  /** Host names the API answers to besides loopback names and IP literals (API-2). */
  readonly apiAllowedHosts?: readonly string[]
  /** Articles to follow besides the stored subscriptions; default {@link DEFAULT_ARTICLES}. */
  readonly articles?: readonly string[]
  readonly logger?: Logger
  /** Epoch parameters of the network (every node must use the same). */
  readonly epochParams?: Partial<EpochParams>
  /**
   * REP-6 reputation thresholds: `blocked`, `establishMin` (no transaction with a counterparty
   * below it, REP-23) and `lowTrust` (replicate deterministic work below it, REP-17).
   */
  readonly trust?: Partial<Thresholds>
  /**
   * Articles whose results are byte-comparable (REP-17): buys of them from a low-trust seller
   * are replicated. Default none: a replica needs a second seller, and an honest seller on a
   * different build could differ (the demo tracer is deterministic per Node binary, RAYS-6).
   */
  readonly deterministicArticles?: readonly string[]
  /**
   * The (host, port) rules a worker's push URL must match (`--worker-allow`, WRK-9); default
   * any port of a loopback host (the original's behaviour).
   */
  readonly workerAllow?: readonly WorkerAllowRule[]
  /**
   * Direct connections between NATed peers (`--webrtc`, `--stun-port`, `--stun`;
   * protocol/spec/network-direct.md); default none.
   */
  readonly direct?: HostDirectOptions
  /**
   * Provide files on the DHT and serve them to any peer (CHUNK-16); default true, false with
   * `--no-provide` (uploads are then stored and served locally only).
   */
  readonly provide?: boolean
}

/** A running daemon. */
export interface Daemon {
  readonly node: BitwrkNode
  readonly info: DaemonInfo
  /** Stops API, services and node in reverse order and removes the status file. Idempotent. */
  stop(): Promise<void>
}

/** Starts node and local API; on failure everything started so far is stopped again. */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  const listen = [...(opts.listen ?? [DEFAULT_LISTEN])]
  const announce = [...(opts.announce ?? [])]
  // NET-1: loopback-only (the default) while every listen and announce address is loopback
  const loopbackOnly = [...listen, ...announce].every(
    (a) => a.startsWith('/ip4/127.') || a.startsWith('/ip6/::1/')
  )
  const node = await createBitwrkNode({
    dataDir: opts.dataDir,
    listen,
    bootstrap: [...(opts.bootstrap ?? [])],
    articles: [...(opts.articles ?? DEFAULT_ARTICLES)],
    loopbackOnly,
    host: {
      ...(announce.length > 0 ? { announce } : {}),
      ...(opts.relayServer !== undefined ? { relayServer: opts.relayServer } : {}),
      ...(opts.direct !== undefined ? { direct: opts.direct } : {})
    },
    // book sync with its defaults: a daemon that joins late pulls the live book
    sync: {},
    ...(opts.provide === false ? { content: { provide: false } } : {}),
    ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
    ...(opts.epochParams !== undefined ? { epochParams: opts.epochParams } : {}),
    ...(opts.trust !== undefined ? { reputation: { thresholds: opts.trust } } : {})
  })
  const startedMs = Date.now()
  const stack: (() => Promise<void>)[] = []
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // reverse dependency order; a failing step does not keep the next from running
      for (const s of stack.reverse())
        await s().catch((err: unknown) =>
          opts.logger?.error({ err: String(err) }, 'daemon: stop step failed')
        )
    })()
    return stopping
  }
  try {
    // Dependency order: node (with its trade) → mandates + worker pool (+ seller hooks) → local APIs.
    stack.push(() => node.stop())
    await node.start()
    if (node.kv === undefined) throw new Error('daemon node without a data directory')
    const { book: mandates } = await MandateBook.open(node.kv)
    let workers: WorkerPool | undefined
    const facade = createNodeFacade({
      node,
      workers: () => workers,
      version: DAEMON_VERSION,
      startedMs,
      ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
      ...(opts.deterministicArticles !== undefined
        ? { deterministicArticles: opts.deterministicArticles }
        : {}),
      services: () => ({
        node: true,
        sync: node.sync?.running === true,
        chunkExchange: true,
        trade: true,
        workers: true,
        mandates: true,
        api: true
      })
    })
    stack.push(async () => facade.close())
    const pool = new WorkerPool({
      mandates,
      onOffer: (offer) => facade.onOffer(offer),
      ...(opts.workerAllow !== undefined ? { pushUrls: { allow: opts.workerAllow } } : {})
    })
    workers = pool
    stack.push(async () => pool.stop())
    const host = opts.apiHost ?? DEFAULT_API_HOST
    // The node's one HTTP listener (API-2): every route behind the same guards.
    const api = new ApiServer({
      facade,
      mandates,
      workers: pool,
      host,
      port: opts.apiPort ?? DEFAULT_API_PORT,
      dataDir: opts.dataDir,
      ...(opts.apiAllowedHosts !== undefined ? { allowedHosts: opts.apiAllowedHosts } : {})
    })
    stack.push(() => api.stop())
    await api.start()
    const info: DaemonInfo = {
      pid: process.pid,
      peerId: node.peerId,
      address: node.address,
      listen: node.multiaddrs(),
      apiUrl: api.url,
      startedMs,
      version: DAEMON_VERSION
    }
    const file = join(opts.dataDir, DAEMON_FILE_NAME)
    // a left-over file keeps its mode on rewrite: remove it so the new one is created 0600
    await rm(file, { force: true })
    await writeFile(file, `${JSON.stringify(info)}\n`, { mode: 0o600, flag: 'wx' })
    stack.push(() => rm(file, { force: true }))
    return { node, info, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
