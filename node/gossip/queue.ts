/** Settings of {@link ValidationQueue} (GOSSIP-6). */
export interface QueueOptions {
  /** Validations running at once (only matters for async validators). */
  concurrency: number
  /** Validations allowed to wait; one more is dropped (drop-newest policy). */
  maxLength: number
}

/**
 * GOSSIP-6 defaults: 4 concurrent validations and 1024 waiting. At ~0.1 ms per native secp256k1
 * recovery (notes/libp2p-stack.md) a full queue drains in ~100 ms, GossipSub's budget for a
 * validator before duplicates start to be counted against the senders.
 */
export const DEFAULT_QUEUE: QueueOptions = { concurrency: 4, maxLength: 1024 }

interface Job<T> {
  run: () => T | Promise<T>
  resolve: (v: T) => void
  reject: (e: unknown) => void
}

/**
 * A bounded FIFO of validation jobs. `push` returns undefined when the queue is full, so the
 * caller answers Ignore at once (Lodestar's drop policy, drop-newest here: bids are not
 * superseded by fresher ones the way attestations are). `onLength` reports the waiting count.
 */
export class ValidationQueue<T> {
  private readonly waiting: Job<T>[] = []
  private head = 0
  private running = 0
  private readonly opts: QueueOptions

  constructor(
    opts: Partial<QueueOptions> = {},
    private readonly onLength: (n: number) => void = () => {}
  ) {
    this.opts = { ...DEFAULT_QUEUE, ...opts }
  }

  /** Number of jobs waiting (not running). */
  get length(): number {
    return this.waiting.length - this.head
  }

  /** Runs `run` when a slot is free; undefined when the queue is full (caller drops). */
  push(run: () => T | Promise<T>): Promise<T> | undefined {
    if (this.running < this.opts.concurrency) return this.start(run)
    if (this.length >= this.opts.maxLength) return undefined
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ run, resolve, reject })
      this.onLength(this.length)
    })
  }

  private start(run: () => T | Promise<T>): Promise<T> {
    this.running++
    const p = (async () => run())()
    p.finally(() => {
      this.running--
      this.next()
    }).catch(() => {})
    return p
  }

  private next(): void {
    while (this.running < this.opts.concurrency && this.length > 0) {
      const job = this.waiting[this.head++] as Job<T>
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        // compact the array now and then so it never grows without bound
        this.waiting.splice(0, this.head)
        this.head = 0
      }
      this.onLength(this.length)
      this.start(job.run).then(job.resolve, job.reject)
    }
  }
}
