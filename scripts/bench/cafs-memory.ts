import { spawn } from 'node:child_process'
import { createCipheriv } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LevelChunkStore } from '../../cafs/store/level.js'
import { importStream } from '../../cafs/stream.js'
import type { Bench } from '../bench.js'

/** Chunks between RSS samples (about 10 MiB). */
const SAMPLE_EVERY = 256

/** Set in the child process that does the measuring (a clean heap, `--expose-gc`). */
const CHILD_ENV = 'BITWRK_BENCH_CAFS_MEMORY_CHILD'

/** Piece size of the generated stream: fs.createReadStream's default highWaterMark. */
const PIECE = 64 * 1024

/** `mib` MiB of pseudo-random bytes (AES-128-CTR keystream) in fresh 64 KiB buffers. */
async function* generated(mib: number): AsyncGenerator<Uint8Array> {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16))
  const zeros = Buffer.alloc(PIECE)
  for (let i = 0; i < (mib * 1024 * 1024) / PIECE; i++) yield cipher.update(zeros)
}

/** Resident set split as Linux reports it (anonymous vs file-backed pages), in bytes. */
function rss(): { total: number; anon: number } {
  const total = process.memoryUsage().rss
  try {
    const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    return { total, anon: m ? Number(m[1]) * 1024 : total }
  } catch {
    return { total, anon: total }
  }
}

/** The measurement: import a generated stream into a fresh LevelDB store, sampling RSS. */
async function child(mib: number): Promise<Record<string, unknown>> {
  const gc = (globalThis as { gc?: () => void }).gc
  const dir = await mkdtemp(join(tmpdir(), 'bitwrk-bench-cafs-'))
  try {
    const store = await LevelChunkStore.open({ path: dir })
    // Samples follow a full GC: the figure is the memory the pipeline holds, not the garbage
    // V8 has not collected yet (it lets up to ~64 MiB of dead Buffers pile up by design).
    const sample = (): { total: number; anon: number } => {
      gc?.()
      return rss()
    }
    const base = sample()
    const peak = { ...base }
    const t = process.hrtime.bigint()
    const m = await importStream(generated(mib), store, {
      onProgress: (p) => {
        if (p.chunks % SAMPLE_EVERY !== 0) return
        const r = sample()
        peak.total = Math.max(peak.total, r.total)
        peak.anon = Math.max(peak.anon, r.anon)
      }
    })
    const seconds = Number(process.hrtime.bigint() - t) / 1e9
    const stats = store.stats()
    await store.close()
    return {
      file_mib: mib,
      rss_growth_mib: Math.round((peak.total - base.total) / 2 ** 20),
      rss_anon_growth_mib: Math.round((peak.anon - base.anon) / 2 ** 20),
      rss_base_mib: Math.round(base.total / 2 ** 20),
      mib_per_s: Math.round(mib / seconds),
      chunks: m.chunks.length,
      stored_bytes_ok: stats.bytes === m.size,
      gc_exposed: gc !== undefined
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * cafs-memory: chunking and storing a generated 1 GiB stream into the LevelDB store (temp dir,
 * removed after) in a child process with `--expose-gc`; reports the peak RSS growth over the
 * baseline taken after opening the store.
 */
export const bench: Bench = {
  name: 'cafs-memory',
  run({ quick }) {
    const mib = quick ? 128 : 1024
    return new Promise((resolve, reject) => {
      const p = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url)], {
        env: { ...process.env, [CHILD_ENV]: String(mib) },
        stdio: ['ignore', 'pipe', 'inherit']
      })
      let out = ''
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString()
      })
      p.on('error', reject)
      p.on('exit', (code) => {
        if (code !== 0) reject(new Error(`cafs-memory child exited with ${code}`))
        else resolve(JSON.parse(out) as Record<string, unknown>)
      })
    })
  }
}

if (process.env[CHILD_ENV]) {
  const figures = await child(Number(process.env[CHILD_ENV]))
  process.stdout.write(JSON.stringify(figures))
}
