import { createHash } from 'node:crypto'
import { compare } from 'uint8arrays/compare'
import { entryIdBytes, type SyncBook, type SyncSnapshots } from './book.js'
import type { SyncChannel } from './channel.js'
import { BUCKET_DIGEST_BYTES, type SyncResponse } from './codec.js'
import { bucketOf, chooseBits, groupIds, idHex, summarize } from './digest.js'
import { SyncCode, syncError } from './errors.js'
import type { SyncLimits } from './limits.js'

/** What the requester needs. */
export interface PullDeps {
  readonly book: SyncBook
  readonly limits: SyncLimits
  readonly now: () => number
}

/** Counters of one pull (requester side). */
export interface PullStats {
  /** Buckets whose count or digest differed. */
  bucketsDiffering: number
  /** Bids received (valid or not). */
  bidsReceived: number
  /** Bids the book accepted. */
  accepted: number
  /** Bids the book ignored (expired in flight, duplicate, future-dated, book full). */
  ignored: number
}

/**
 * Cost rule of SYNC-8: fetch a differing bucket's ids first (32 bytes each) only when we hold
 * enough of its bids that resending them would cost more: a bid is ~450 bytes, so ids pay off
 * when local × 14 > remote (450 / 32 ≈ 14).
 */
const IDS_FIRST_RATIO = 14

/**
 * Pulls the live bids of `article` from one responder (SYNC-8): SUMMARY, then whole buckets or
 * ids + missing bids for the buckets whose digest differs. Every bid goes through the book's
 * validator; the first reject ends the session with `SYNC_INVALID_BID`. Throws a sync
 * `BitwrkError`; bids accepted before a failure stay (each was validated on its own) and are
 * counted in `stats`, which the caller may pass in to see them after a failure.
 */
export async function pullArticle(
  ch: SyncChannel,
  article: string,
  deps: PullDeps,
  stats: PullStats = { bucketsDiffering: 0, bidsReceived: 0, accepted: 0, ignored: 0 }
): Promise<PullStats> {
  const local = deps.book.liveBids(article, deps.now()).map(entryIdBytes)
  const bits = chooseBits(local.length, deps.limits.maxBucketBits)
  await ch.sendRequest({ type: 'summaryReq', article, bits })
  const summary = expect(await ch.readResponse(), 'summary')
  if (summary.bits !== bits) syncError(SyncCode.UNEXPECTED, 'summary of other bucket bits')
  const mine = groupIds(local, bits)
  const mineSum = summarize(mine)
  const whole: number[] = []
  const idsFirst: number[] = []
  let budget = deps.limits.maxBidsPerSession
  for (let i = 0; i < summary.counts.length; i++) {
    const remote = summary.counts[i] as number
    const o = i * BUCKET_DIGEST_BYTES
    const same =
      remote === mineSum.counts[i] &&
      compare(
        summary.digests.subarray(o, o + BUCKET_DIGEST_BYTES),
        mineSum.digests.subarray(o, o + BUCKET_DIGEST_BYTES)
      ) === 0
    if (same || remote === 0) continue
    stats.bucketsDiffering++
    // the book bound (invariant 10): take no more buckets than the session may hold
    if (remote > budget) break
    budget -= remote
    if ((mine[i] as Uint8Array[]).length * IDS_FIRST_RATIO > remote) idsFirst.push(i)
    else whole.push(i)
  }
  const count = (list: number[]): number => list.reduce((s, i) => s + (summary.counts[i] as number), 0)
  const session = new Receiver(ch, article, deps, stats)
  if (whole.length > 0) {
    await ch.sendRequest({ type: 'getBuckets', buckets: whole })
    const set = new Set(whole)
    await session.receiveBids(count(whole), (id) => set.has(bucketOf(id, bits)))
  }
  if (idsFirst.length > 0) {
    await ch.sendRequest({ type: 'getIds', buckets: idsFirst })
    const set = new Set(idsFirst)
    const ids = await session.receiveIds(count(idsFirst), (id) => set.has(bucketOf(id, bits)))
    const have = new Set(local.map(idHex))
    await session.fetchBids(ids.filter((id) => !have.has(idHex(id))))
  }
  return stats
}

/** A snapshot offered by one peer (SYNC-11): header and resting ids, all fetched and validated. */
export interface PeerSnapshot {
  /** Match key. */
  readonly key: string
  /** Last matched epoch. */
  readonly closedEpoch: number
  /** Match digest, hex. */
  readonly digest: string
  /** Resting bid ids, hex, ascending. */
  readonly resting: readonly string[]
}

/**
 * Pulls the snapshot of match key `key` (an article of the session) and every resting bid we
 * do not hold yet (validated like any synced bid). Undefined when the peer has none.
 */
export async function pullSnapshot(
  ch: SyncChannel,
  article: string,
  key: string,
  snapshots: SyncSnapshots,
  deps: PullDeps
): Promise<PeerSnapshot | undefined> {
  const stats: PullStats = { bucketsDiffering: 0, bidsReceived: 0, accepted: 0, ignored: 0 }
  await ch.sendRequest({ type: 'getSnapshot', key })
  const header = expect(await ch.readResponse(), 'snapshot').header
  if (header === undefined) return undefined
  const session = new Receiver(ch, article, deps, stats)
  const ids = await session.receiveIds(header.count, () => true)
  if (ids.length !== header.count) syncError(SyncCode.MALFORMED, 'snapshot id count differs from its header')
  const resting = ids.map(idHex)
  await session.fetchBids(
    ids.filter((_id, i) => snapshots.matchable(key, resting[i] as string) === undefined)
  )
  return { key, closedEpoch: header.closedEpoch, digest: idHex(header.digest), resting }
}

/** One clock sample of a peer (SYNC-16): its host clock's offset from ours, and the round trip. */
export interface TimeSample {
  /** The peer's host clock minus ours at the middle of the round trip, ms. */
  readonly offsetMs: number
  /** The round trip of the TIME_REQ, ms: the sample is good to half of it. */
  readonly rttMs: number
}

/** Asks the peer's host clock (SYNC-16), timed on `hostNow`. */
export async function pullTime(ch: SyncChannel, hostNow: () => number): Promise<TimeSample> {
  const t0 = hostNow()
  await ch.sendRequest({ type: 'timeReq' })
  const { nowMs } = expect(await ch.readResponse(), 'time')
  const t1 = hostNow()
  return { offsetMs: nowMs - (t0 + t1) / 2, rttMs: t1 - t0 }
}

function expect<T extends SyncResponse['type']>(
  msg: SyncResponse,
  type: T
): Extract<SyncResponse, { type: T }> {
  if (msg.type === 'error')
    syncError(SyncCode.PEER_ERROR, 'peer answered with an error', { remoteCode: msg.code })
  if (msg.type !== type) syncError(SyncCode.UNEXPECTED, `expected ${type}, got ${msg.type}`)
  return msg as Extract<SyncResponse, { type: T }>
}

/** Id (raw SHA-256 of the document, BID-19) of signed bid bytes; undefined without a LF. */
function bidIdOf(bytes: Uint8Array): Uint8Array | undefined {
  const nl = bytes.indexOf(0x0a)
  if (nl <= 0) return undefined
  return new Uint8Array(createHash('sha256').update(bytes.subarray(0, nl)).digest())
}

/** Receives BIDS / IDS streams of one session, checking every item against what was asked. */
class Receiver {
  private readonly seen = new Set<string>()

  constructor(
    private readonly ch: SyncChannel,
    private readonly article: string,
    private readonly deps: PullDeps,
    private readonly stats: PullStats
  ) {}

  /** Asks for `ids` (GET_BIDS in chunks) and takes the bids. */
  async fetchBids(ids: Uint8Array[]): Promise<void> {
    const step = this.deps.limits.maxIdsPerFrame
    for (let i = 0; i < ids.length; i += step) {
      const chunk = ids.slice(i, i + step).sort(compare)
      await this.ch.sendRequest({ type: 'getBids', ids: chunk })
      const set = new Set(chunk.map(idHex))
      await this.receiveBids(chunk.length, (id) => set.has(idHex(id)))
    }
  }

  /**
   * Reads BIDS frames until DONE: at most `max` bids, each inside `allowed` and new in this
   * session (SYNC-6), each validated by the book (SYNC-8).
   */
  async receiveBids(max: number, allowed: (id: Uint8Array) => boolean): Promise<void> {
    let n = 0
    for (;;) {
      const msg = await this.ch.readResponse()
      if (msg.type === 'done') return
      const bids = expect(msg, 'bids').bids
      n += bids.length
      if (n > max) syncError(SyncCode.TOO_MANY, 'more bids than asked for', { max })
      for (const bytes of bids) this.take(bytes, allowed)
    }
  }

  private take(bytes: Uint8Array, allowed: (id: Uint8Array) => boolean): void {
    this.stats.bidsReceived++
    const id = bidIdOf(bytes)
    // [REJECT] a bid without document/signature separator is invalid bytes (BID-2)
    if (id === undefined)
      syncError(SyncCode.INVALID_BID, 'bid is not document LF signature', { bidCode: 'BID_MALFORMED' })
    const hex = idHex(id)
    if (!allowed(id) || this.seen.has(hex)) syncError(SyncCode.UNSOLICITED, 'bid was not asked for')
    this.seen.add(hex)
    const r = this.deps.book.addBid(this.article, bytes, this.deps.now())
    if (r.result === 'accept') this.stats.accepted++
    else if (r.result === 'ignore') this.stats.ignored++
    else syncError(SyncCode.INVALID_BID, 'the bid validator rejected a synced bid', { bidCode: r.code })
  }

  /** Reads IDS frames until DONE: at most `max`, strictly ascending, each inside `allowed`. */
  async receiveIds(max: number, allowed: (id: Uint8Array) => boolean): Promise<Uint8Array[]> {
    const ids: Uint8Array[] = []
    for (;;) {
      const msg = await this.ch.readResponse()
      if (msg.type === 'done') return ids
      for (const id of expect(msg, 'ids').ids) {
        if (ids.length >= max) syncError(SyncCode.TOO_MANY, 'more ids than announced', { max })
        const last = ids[ids.length - 1]
        if (last !== undefined && compare(last, id) >= 0) syncError(SyncCode.MALFORMED, 'ids not ascending')
        if (!allowed(id)) syncError(SyncCode.UNSOLICITED, 'id outside the requested buckets')
        ids.push(id)
      }
    }
  }
}
