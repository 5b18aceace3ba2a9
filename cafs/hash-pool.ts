import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { sha256 } from './keys.js'
import type { Key } from './types.js'

/** Op codes shared with cafs/hash-worker.ts. */
const OP_DIGEST = 0
const OP_FILE_UPDATE = 1
const OP_FILE_DIGEST = 2

/**
 * Inputs larger than this go into a batch of their own at once; smaller ones wait for the end of
 * the current event-loop turn so one message carries many chunks (a round trip costs tens of µs,
 * a 32 KiB chunk ~50 µs of hashing).
 */
const BATCH_BYTES = 1 << 20

/** Size of the reusable batch buffers: a full batch plus the largest chunk that overflows it. */
const BUFFER_BYTES = 2 * BATCH_BYTES

/** Batch buffers kept per worker for reuse (they come back with each answer). */
const SPARE_BUFFERS = 4

interface Pending {
  resolve: (digest: Key) => void
  reject: (err: unknown) => void
}

/** A worker's answer: the digests, and the batch buffer handed back for reuse. */
interface Answer {
  id: number
  out: ArrayBuffer
  buf: ArrayBuffer
}

/** A batch handed to the worker: who waits, and the inputs (kept to hash here if it dies). */
interface Inflight {
  readonly waiting: (Pending | undefined)[]
  readonly parts: Uint8Array[]
  readonly ops: readonly number[]
}

/** One worker and the batch being filled for it. */
class PoolWorker {
  private ops: number[] = []
  private parts: Uint8Array[] = []
  private waiting: (Pending | undefined)[] = []
  private partBytes = 0
  private scheduled = false
  private nextId = 0
  private readonly inflight = new Map<number, Inflight>()
  /** Batch buffers back from the worker, ready for the next batch. */
  private readonly spare: ArrayBuffer[] = []
  /** Bytes queued or being hashed: the pool sends new work to the least loaded worker. */
  load = 0
  /** Set once the worker is gone: chunk digests are then computed here, file hashes fail. */
  private failure: unknown
  private closed = false

  constructor(private readonly worker: Worker) {
    worker.unref()
    worker.on('message', (msg: Answer) => this.answer(msg))
    worker.on('error', (err) => this.failAll(err))
    worker.on('exit', () => this.failAll(new Error('hash worker exited')))
  }

  push(op: number, arg: number, bytes: Uint8Array, wait: Pending | undefined): void {
    if (this.closed) {
      wait?.reject(new Error('hash pool closed'))
      return
    }
    if (this.failure !== undefined) {
      if (op === OP_DIGEST) wait?.resolve(sha256(bytes))
      else wait?.reject(this.failure)
      return
    }
    this.ops.push(op, arg, bytes.length)
    this.parts.push(bytes)
    this.waiting.push(op === OP_FILE_UPDATE ? undefined : wait)
    this.partBytes += bytes.length
    this.load += bytes.length
    if (this.partBytes >= BATCH_BYTES) this.flush()
    else if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
  }

  /** Copies the queued inputs into one buffer and hands it over (transferred, not cloned). */
  private flush(): void {
    this.scheduled = false
    if (this.ops.length === 0) return
    const reuse = this.partBytes <= BUFFER_BYTES ? this.spare.pop() : undefined
    const buf = new Uint8Array(reuse ?? new ArrayBuffer(Math.max(this.partBytes, BUFFER_BYTES)))
    let o = 0
    for (const p of this.parts) {
      buf.set(p, o)
      o += p.length
    }
    const id = this.nextId++
    const ops = Int32Array.from(this.ops)
    this.inflight.set(id, { waiting: this.waiting, parts: this.parts, ops: this.ops })
    if (this.inflight.size === 1) this.worker.ref()
    this.worker.postMessage({ id, ops, buf: buf.buffer }, [buf.buffer, ops.buffer])
    this.load -= this.partBytes
    this.ops = []
    this.parts = []
    this.waiting = []
    this.partBytes = 0
  }

  private answer(msg: Answer): void {
    if (msg.buf.byteLength === BUFFER_BYTES && this.spare.length < SPARE_BUFFERS) this.spare.push(msg.buf)
    const waiting = this.inflight.get(msg.id)?.waiting
    if (waiting === undefined) return
    this.inflight.delete(msg.id)
    if (this.inflight.size === 0) this.worker.unref()
    const out = new Uint8Array(msg.out)
    let r = 0
    for (const w of waiting) {
      if (w === undefined) continue
      w.resolve(out.subarray(32 * r, 32 * r + 32))
      r++
    }
  }

  /**
   * The worker failed (it could not start, or crashed): what it owed is hashed here instead,
   * except file hashes, whose state died with it. A closed pool rejects everything.
   */
  private failAll(err: unknown): void {
    this.failure ??= err
    const batches = [...this.inflight.values(), { waiting: this.waiting, parts: this.parts, ops: this.ops }]
    this.inflight.clear()
    this.ops = []
    this.parts = []
    this.waiting = []
    this.partBytes = 0
    for (const b of batches)
      b.waiting.forEach((w, i) => {
        if (w === undefined) return
        if (!this.closed && b.ops[3 * i] === OP_DIGEST) w.resolve(sha256(b.parts[i]!))
        else w.reject(this.closed ? new Error('hash pool closed') : err)
      })
  }

  terminate(): Promise<number> {
    this.closed = true
    return this.worker.terminate()
  }
}

/** Incremental SHA-256 of one file, computed on a pool worker. */
export interface AsyncFileHasher {
  /** Feeds the next bytes (copied at the end of this event-loop turn: keep them unchanged). */
  update(bytes: Uint8Array): void
  /** The SHA-256 of everything fed; the hasher cannot be used afterwards. */
  digest(): Promise<Key>
}

/**
 * SHA-256 on worker threads (STYLE.md: only where a profile asks; the transfer profile spends a
 * quarter of the main thread on hashing). Inputs are copied into one transferred buffer per
 * batch at the end of the event-loop turn, so callers must not modify them until the result
 * settles. Workers are unref'd while
 * idle, so an open pool never keeps the process alive; `close` ends them.
 */
export class HashPool {
  private readonly workers: PoolWorker[]
  private nextFile = 0

  /** Starts `size` workers (default: one less than the cores, 1…4). */
  constructor(size = Math.min(4, Math.max(1, availableParallelism() - 1))) {
    if (!(size >= 1)) throw new RangeError('HashPool size must be >= 1')
    const url = new URL('./hash-worker.js', import.meta.url)
    // Node flags of the main thread that make no sense for a worker file (`node -e`) are dropped.
    const execArgv = process.execArgv.filter(
      (a) => !a.startsWith('--input-type') && a !== '-e' && a !== '--eval'
    )
    this.workers = Array.from({ length: size }, () => new PoolWorker(new Worker(url, { execArgv })))
  }

  /** Number of workers. */
  get size(): number {
    return this.workers.length
  }

  /** SHA-256 of `bytes`, computed on the least loaded worker. */
  digest(bytes: Uint8Array): Promise<Key> {
    let w = this.workers[0]!
    for (const x of this.workers) if (x.load < w.load) w = x
    return new Promise<Key>((resolve, reject) => w.push(OP_DIGEST, 0, bytes, { resolve, reject }))
  }

  /** A file hasher pinned to one worker (its updates stay in order). */
  fileHasher(): AsyncFileHasher {
    const id = this.nextFile++ & 0x7fffffff
    const w = this.workers[id % this.workers.length]!
    let done = false
    return {
      update(bytes) {
        if (done) throw new Error('AsyncFileHasher.update after digest')
        w.push(OP_FILE_UPDATE, id, bytes, undefined)
      },
      digest() {
        if (done) throw new Error('AsyncFileHasher.digest called twice')
        done = true
        return new Promise<Key>((resolve, reject) =>
          w.push(OP_FILE_DIGEST, id, new Uint8Array(0), { resolve, reject })
        )
      }
    }
  }

  /** Stops the workers; pending and later calls reject. Idempotent. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}
