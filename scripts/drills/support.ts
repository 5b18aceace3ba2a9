import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import type { AbortOptions, ChunkStore, Key, StoreStats } from '../../cafs/types.js'

/** Drill support: stores that misbehave on purpose, hashing on the drill side, timing. */

/** SHA-256 computed on the drill side, independent of the code under test. */
export function sha256(bytes: Uint8Array): Key {
  return new Uint8Array(createHash('sha256').update(bytes).digest())
}

/** Random bytes (the drill's own data). */
export function randomData(size: number): Uint8Array {
  return new Uint8Array(randomBytes(size))
}

/** Hex of a key. */
export function hex(k: Uint8Array): string {
  return Buffer.from(k).toString('hex')
}

/**
 * Test-only hostile store: serves every chunk of `inner` with its first byte flipped (the
 * provider's server must run with `verifyServed: false` for the damage to reach the wire).
 * Counts the chunks it corrupted.
 */
export class CorruptingStore implements ChunkStore {
  /** Chunks handed out corrupted. */
  corrupted = 0
  constructor(private readonly inner: ChunkStore) {}
  has(key: Key, options?: AbortOptions): Promise<boolean> {
    return this.inner.has(key, options)
  }
  async get(key: Key, options?: AbortOptions): Promise<Uint8Array | undefined> {
    const b = await this.inner.get(key, options)
    if (b === undefined || b.length === 0) return b
    const bad = b.slice()
    bad[0] = (bad[0] as number) ^ 0xff
    this.corrupted++
    return bad
  }
  put(key: Key, bytes: Uint8Array, options?: AbortOptions): Promise<void> {
    return this.inner.put(key, bytes, options)
  }
  delete(key: Key, options?: AbortOptions): Promise<boolean> {
    return this.inner.delete(key, options)
  }
  pin(key: Key): Promise<void> {
    return this.inner.pin(key)
  }
  unpin(key: Key): Promise<void> {
    return this.inner.unpin(key)
  }
  stats(): StoreStats {
    return this.inner.stats()
  }
  close(): Promise<void> {
    return this.inner.close()
  }
}

/**
 * Test-only trusting store: keeps whatever it is given WITHOUT re-hashing, so a drill checks
 * the fetcher's own verification rather than the store's. `entries()` lists what it holds.
 */
export class TrustingStore implements ChunkStore {
  private readonly chunks = new Map<string, { key: Key; bytes: Uint8Array }>()
  private readonly refs = new Map<string, number>()
  /** `put` calls, successful or not. */
  puts = 0
  async has(key: Key): Promise<boolean> {
    return this.chunks.has(hex(key))
  }
  async get(key: Key): Promise<Uint8Array | undefined> {
    return this.chunks.get(hex(key))?.bytes
  }
  async put(key: Key, bytes: Uint8Array): Promise<void> {
    this.puts++
    if (!this.chunks.has(hex(key))) this.chunks.set(hex(key), { key: key.slice(), bytes: bytes.slice() })
  }
  async delete(key: Key): Promise<boolean> {
    if ((this.refs.get(hex(key)) ?? 0) > 0) return false
    return this.chunks.delete(hex(key))
  }
  async pin(key: Key): Promise<void> {
    this.refs.set(hex(key), (this.refs.get(hex(key)) ?? 0) + 1)
  }
  async unpin(key: Key): Promise<void> {
    const n = this.refs.get(hex(key)) ?? 0
    if (n <= 1) this.refs.delete(hex(key))
    else this.refs.set(hex(key), n - 1)
  }
  stats(): StoreStats {
    let bytes = 0
    for (const c of this.chunks.values()) bytes += c.bytes.length
    return {
      chunks: this.chunks.size,
      bytes,
      budgetBytes: Number.POSITIVE_INFINITY,
      pinned: this.refs.size,
      evictions: 0,
      dedupHits: 0
    }
  }
  async close(): Promise<void> {}
  /** Every chunk held, with its key. */
  entries(): { key: Key; bytes: Uint8Array }[] {
    return [...this.chunks.values()]
  }
}

/** Chunks of `store` whose SHA-256 is not their key (re-hashed on the drill side). */
export function corruptEntries(store: TrustingStore): number {
  let bad = 0
  for (const e of store.entries()) if (hex(sha256(e.bytes)) !== hex(e.key)) bad++
  return bad
}

/** Milliseconds since `t0` (performance clock), rounded to 0.1. */
export function msSince(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10
}

/** A child node process spoken to by lines on stdin/stdout. */
export interface ChildLines {
  /**
   * The next stdout line starting with `prefix`, taken out of the lines received; other lines
   * stay for other callers (several may wait at once on one child, each for its own prefix).
   */
  next(prefix: string, timeoutMs: number): Promise<string>
  /** Writes one line to its stdin. */
  send(line: string): void
  /** SIGKILLs it (no-op once exited); resolves when it is gone. */
  kill(): Promise<void>
  /** The process id. */
  readonly pid: number | undefined
  /** Everything it wrote to stderr (for failure reasons). */
  stderr(): string
}

/** Starts `node script ...args` with line-oriented stdio. */
export function spawnLines(script: string, args: string[]): ChildLines {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  const lines: string[] = []
  const waiters: (() => void)[] = []
  let err = ''
  let exited = false
  const exit = new Promise<void>((r) =>
    child.once('exit', () => {
      exited = true
      for (const w of waiters.splice(0)) w()
      r()
    })
  )
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString()
  })
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l)
    for (const w of waiters.splice(0)) w()
  })
  return {
    pid: child.pid,
    stderr: () => err,
    send(line) {
      if (!exited) child.stdin.write(`${line}\n`)
    },
    async next(prefix, timeoutMs) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const i = lines.findIndex((l) => l.startsWith(prefix))
        if (i >= 0) {
          return lines.splice(i, 1)[0] as string
        }
        if (exited) throw new Error(`child exited before "${prefix}": ${err.slice(-500)}`)
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`timed out waiting for child line "${prefix}"`)
        await new Promise<void>((r) => {
          const t = setTimeout(r, left)
          waiters.push(() => {
            clearTimeout(t)
            r()
          })
        })
      }
    },
    async kill() {
      if (!exited) child.kill('SIGKILL')
      await exit
    }
  }
}
