import { Counter, Registry } from 'prom-client'

/** Metrics of bid sync (`bitwrk_sync_*`); labels are bounded: role, outcome code, result, direction. */
export interface SyncMetrics {
  /** Sessions by role (requester/responder) and outcome (`ok` or a `SYNC_*` code through `codeLabel`). */
  readonly sessions: Counter<'role' | 'outcome'>
  /** Synced bids offered to the book, by result (accept/ignore). */
  readonly bids: Counter<'result'>
  /** Bytes on sync streams by direction (in/out), framing included. */
  readonly bytes: Counter<'direction'>
  /** Snapshot decisions by outcome (adopted/refused). */
  readonly snapshots: Counter<'outcome'>
  /** Chain checks that found this node off the network's digest chain (SYNC-15). */
  readonly offChain: Counter
}

/** Creates the sync metric families in `registry` (default: a fresh one; pass the node's registry). */
export function createSyncMetrics(registry: Registry = new Registry()): SyncMetrics {
  const registers = [registry]
  return {
    sessions: new Counter({
      name: 'bitwrk_sync_sessions_total',
      help: 'Bid sync sessions by role and outcome',
      labelNames: ['role', 'outcome'],
      registers
    }),
    bids: new Counter({
      name: 'bitwrk_sync_bids_total',
      help: 'Synced bids by book result',
      labelNames: ['result'],
      registers
    }),
    bytes: new Counter({
      name: 'bitwrk_sync_bytes_total',
      help: 'Bytes on sync streams',
      labelNames: ['direction'],
      registers
    }),
    snapshots: new Counter({
      name: 'bitwrk_sync_snapshots_total',
      help: 'Matching snapshot decisions by outcome',
      labelNames: ['outcome'],
      registers
    }),
    offChain: new Counter({
      name: 'bitwrk_sync_off_chain_total',
      help: 'Chain checks that found this node off the network digest chain',
      registers
    })
  }
}
