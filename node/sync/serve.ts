import { parseMatchKey } from '../../protocol/article/index.js'
import type { SyncBook, SyncEntry, SyncSnapshots } from './book.js'
import type { SyncChannel } from './channel.js'
import { toSyncError } from './channel.js'
import { ID_BYTES, type SyncRequest } from './codec.js'
import { bucketOf, groupIds, idBytes, idHex, summarize } from './digest.js'
import { SyncCode, syncError } from './errors.js'
import type { SyncLimits } from './limits.js'

/** What the responder needs. */
export interface ServeDeps {
  readonly book: SyncBook
  readonly snapshots?: SyncSnapshots | undefined
  readonly limits: SyncLimits
  readonly now: () => number
  /** The host clock as it is, answered to TIME_REQ (SYNC-16); default `now`. */
  readonly hostNow?: () => number
  /** Called before each request; false refuses it with `SYNC_RATE_LIMITED` (SYNC-10). */
  readonly admit: () => boolean
}

/** Outcome of serving one session. */
export interface ServeResult {
  /** Requests served. */
  readonly requests: number
  /** Bids sent. */
  readonly bidsSent: number
  /** Failure code, when the session ended with an error. */
  readonly code?: string
}

/** The responder's view of one article, fixed when the article is named (SYNC-5). */
interface View {
  readonly article: string
  readonly entries: readonly { entry: SyncEntry; id: Uint8Array }[]
  byId?: Map<string, SyncEntry>
  buckets?: { bits: number; groups: Uint8Array[][] }
}

/**
 * Serves one sync stream (responder side, SYNC-5 … SYNC-7): answers requests in order until the
 * requester half-closes. A bad request is answered with ERROR and ends the session; the caller
 * charges the peer's invalid-request budget with the returned code.
 */
export async function serveSession(ch: SyncChannel, deps: ServeDeps): Promise<ServeResult> {
  let requests = 0
  let bidsSent = 0
  let view: View | undefined
  const openView = (article: string): View => {
    const nowMs = deps.now()
    const entries = deps.book
      .liveBids(article, nowMs)
      .map((entry) => ({ entry, id: idBytes(entry.id) ?? new Uint8Array(ID_BYTES) }))
    return { article, entries }
  }
  const live = (e: SyncEntry): boolean => e.expiresMs > deps.now()
  try {
    for (;;) {
      const req: SyncRequest | undefined = await ch.readRequest()
      if (req === undefined) break
      if (++requests > deps.limits.maxRequestsPerSession)
        syncError(SyncCode.BAD_REQUEST, 'too many requests in one session')
      if (!deps.admit()) syncError(SyncCode.RATE_LIMITED, 'over the request rate')
      switch (req.type) {
        case 'summaryReq': {
          if (view?.article !== req.article) view = openView(req.article)
          const groups = groupIds(
            view.entries.map((e) => e.id),
            req.bits
          )
          view.buckets = { bits: req.bits, groups }
          const { counts, digests } = summarize(groups)
          await ch.sendResponse({
            type: 'summary',
            bits: req.bits,
            total: view.entries.length,
            counts,
            digests
          })
          break
        }
        case 'getBuckets':
        case 'getIds': {
          const b = view?.buckets
          if (view === undefined || b === undefined)
            syncError(SyncCode.UNEXPECTED, 'bucket request before a summary')
          const wanted = new Set<number>()
          for (const i of req.buckets) {
            if (i >= b.groups.length) syncError(SyncCode.BAD_REQUEST, 'bucket out of range', { bucket: i })
            wanted.add(i)
          }
          if (req.type === 'getIds') {
            const ids = req.buckets.flatMap((i) => b.groups[i] as Uint8Array[])
            await sendIds(ch, ids, deps.limits)
          } else {
            const entries = view.entries.filter((e) => wanted.has(bucketOf(e.id, b.bits)) && live(e.entry))
            bidsSent += await sendBids(
              ch,
              entries.map((e) => e.entry.bytes),
              deps.limits
            )
          }
          break
        }
        case 'getBids': {
          if (view === undefined) syncError(SyncCode.UNEXPECTED, 'GET_BIDS before the article is named')
          view.byId ??= new Map(view.entries.map((e) => [e.entry.id, e.entry]))
          const found: Uint8Array[] = []
          for (const id of req.ids) {
            const e = view.byId.get(idHex(id))
            // a bid that expired since the summary is skipped, not an error (SYNC-6)
            if (e !== undefined && live(e)) found.push(e.bytes)
          }
          bidsSent += await sendBids(ch, found, deps.limits)
          break
        }
        case 'timeReq':
          await ch.sendResponse({
            type: 'time',
            nowMs: Math.max(0, Math.round((deps.hostNow ?? deps.now)()))
          })
          break
        case 'getSnapshot': {
          let article: string
          try {
            article = parseMatchKey(req.key).article
          } catch {
            return syncError(SyncCode.BAD_REQUEST, 'not a match key')
          }
          if (view?.article !== article) view = openView(article)
          const snap = deps.snapshots?.snapshot(req.key)
          const ids = (snap?.resting ?? [])
            .map((bid) => idBytes(bid.id) ?? new Uint8Array(ID_BYTES))
            .sort(compare)
          const digest = snap === undefined ? undefined : idBytes(snap.digest)
          if (snap === undefined || digest === undefined || ids.length > deps.limits.maxSnapshotBids) {
            await ch.sendResponse({ type: 'snapshot', header: undefined })
            break
          }
          await ch.sendResponse({
            type: 'snapshot',
            header: { closedEpoch: snap.closedEpoch, digest, count: ids.length }
          })
          await sendIds(ch, ids, deps.limits)
          break
        }
      }
    }
    await ch.close()
    return { requests, bidsSent }
  } catch (e) {
    const err = toSyncError(e)
    // best effort: tell the requester why (it must not wait for its per-message timeout)
    if (err.code !== SyncCode.CLOSED && err.code !== SyncCode.TIMEOUT && err.code !== SyncCode.ABORTED)
      await ch.sendResponse({ type: 'error', code: err.code }).catch(() => {})
    await ch.close()
    return { requests, bidsSent, code: err.code }
  }
}

function compare(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}

/** Sends bids in BIDS frames bounded by count and bytes, then DONE; returns the number sent. */
async function sendBids(ch: SyncChannel, bids: readonly Uint8Array[], limits: SyncLimits): Promise<number> {
  let frame: Uint8Array[] = []
  let size = 3
  for (const b of bids) {
    if (
      frame.length > 0 &&
      (frame.length >= limits.maxBidsPerFrame || size + 2 + b.length > limits.maxResponseBytes)
    ) {
      await ch.sendResponse({ type: 'bids', bids: frame })
      frame = []
      size = 3
    }
    frame.push(b)
    size += 2 + b.length
  }
  if (frame.length > 0) await ch.sendResponse({ type: 'bids', bids: frame })
  await ch.sendResponse({ type: 'done' })
  return bids.length
}

/** Sends ascending ids in IDS frames of at most `maxIdsPerFrame`, then DONE. */
async function sendIds(ch: SyncChannel, ids: readonly Uint8Array[], limits: SyncLimits): Promise<void> {
  for (let i = 0; i < ids.length; i += limits.maxIdsPerFrame)
    await ch.sendResponse({ type: 'ids', ids: ids.slice(i, i + limits.maxIdsPerFrame) })
  await ch.sendResponse({ type: 'done' })
}
