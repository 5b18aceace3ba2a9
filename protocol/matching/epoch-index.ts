import { BidState, type Entry } from './order.js'

/** Below this size a bucket is never rebuilt: copying would cost more than the dead entries. */
const BUCKET_COMPACT_MIN = 64

/** The bids of one epoch by id; `live` counts those still pending or resting. */
interface Bucket {
  ids: Map<string, Entry>
  live: number
}

/**
 * The bids of a book by (epoch, id): one small map per epoch instead of one book-sized map.
 * A bid's epoch is known wherever it is looked up (duplicates arrive in their own epoch; a
 * cancel names its target's creation time), and small maps stay in cache: the book-sized map
 * cost a third of the matching time (scripts/bench/matching.ts). A bucket is dropped once all
 * its bids are terminal and rebuilt when three quarters are, so memory stays O(live bids).
 */
export class EpochIndex {
  private readonly buckets = new Map<number, Bucket>()

  /** The entry of bid `id` created in `epoch`, live or not yet swept, or undefined. */
  get(epoch: number, id: string): Entry | undefined {
    return this.buckets.get(epoch)?.ids.get(id)
  }

  /** The entries of an epoch in insertion order (a copy). */
  entries(epoch: number): Entry[] {
    const bucket = this.buckets.get(epoch)
    return bucket ? [...bucket.ids.values()] : []
  }

  /** Adds a live entry; false (and nothing changes) when its id is already in its epoch. */
  insert(e: Entry): boolean {
    let bucket = this.buckets.get(e.epoch)
    if (bucket === undefined) {
      bucket = { ids: new Map(), live: 0 }
      this.buckets.set(e.epoch, bucket)
    } else if (bucket.ids.has(e.id)) return false
    bucket.ids.set(e.id, e)
    bucket.live++
    return true
  }

  /** Records that a live entry became terminal (its state is already set). */
  release(e: Entry): void {
    const bucket = this.buckets.get(e.epoch)
    if (bucket === undefined) return
    bucket.live--
    if (bucket.live <= 0) this.buckets.delete(e.epoch)
    else if (bucket.ids.size > BUCKET_COMPACT_MIN && bucket.live * 4 < bucket.ids.size) {
      const ids = new Map<string, Entry>()
      for (const [id, x] of bucket.ids)
        if (x.state === BidState.PENDING || x.state === BidState.RESTING) ids.set(id, x)
      bucket.ids = ids
    }
  }

  /** Number of epochs with live bids. */
  get size(): number {
    return this.buckets.size
  }
}
