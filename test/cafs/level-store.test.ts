import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Level } from 'level'
import { sha256 } from '../../cafs/keys.js'
import { type ChunkDb, LEVEL_STORE_SCHEMA, LevelChunkStore } from '../../cafs/store/level.js'
import type { ChunkStore } from '../../cafs/types.js'
import { seededBytes, tempDir } from './helpers.js'
import { type StoreHarness, storeComplianceSuite } from './store-compliance.js'

const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.js', import.meta.url))

/** Runs the crash writer in `dir` and SIGKILLs it once it has stored at least `after` chunks. */
function runAndKill(dir: string, after: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let acknowledged = 0
    let buf = ''
    let stderr = ''
    const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000)
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString()
      const lines = buf.split('\n')
      buf = lines.pop() ?? ''
      for (const l of lines) acknowledged = Math.max(acknowledged, Number(l))
      if (acknowledged >= after) child.kill('SIGKILL')
    })
    child.on('exit', (_code, signal) => {
      clearTimeout(deadline)
      if (signal !== 'SIGKILL') reject(new Error(`writer ended without being killed: ${stderr}`))
      else resolve(acknowledged)
    })
  })
}

function levelHarness(): StoreHarness {
  const dirs: (() => Promise<void>)[] = []
  const fresh = async (): Promise<string> => {
    const d = await tempDir()
    dirs.push(d.remove)
    return d.path
  }
  const paths = new WeakMap<ChunkStore, string>()
  return {
    create: async (options) => {
      const path = await fresh()
      const s = await LevelChunkStore.open({ path, ...options })
      paths.set(s, path)
      return s
    },
    reopen: async (store, options) => {
      const path = paths.get(store)!
      await store.close()
      const s = await LevelChunkStore.open({ path, ...options })
      paths.set(s, path)
      return s
    },
    crash: async () => {
      const path = await fresh()
      const acknowledged = await runAndKill(path, 200)
      return { store: await LevelChunkStore.open({ path }), acknowledged }
    },
    cleanup: async () => {
      for (const r of dirs.splice(0)) await r()
    }
  }
}

storeComplianceSuite('cafs/store/level', levelHarness, { persistent: true })

describe('cafs/store/level', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
  })
  const dir = async (): Promise<string> => {
    const d = await tempDir()
    cleanups.push(d.remove)
    return d.path
  }

  it('refuses a database of another schema version with CAFS_STORE_SCHEMA', async () => {
    const path = await dir()
    const db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
    await db.put(Uint8Array.from([0, ...Buffer.from('schema')]), Buffer.from(`${LEVEL_STORE_SCHEMA}x`))
    await db.close()
    await assert.rejects(LevelChunkStore.open({ path }), { code: 'CAFS_STORE_SCHEMA' })
    // The failed open released the database: it can be opened again.
    const again = new Level(path)
    await again.open()
    await again.close()
  })

  it('refuses a database holding other data without a schema version', async () => {
    const path = await dir()
    const db = new Level(path)
    await db.put('foreign', 'data')
    await db.close()
    await assert.rejects(LevelChunkStore.open({ path }), { code: 'CAFS_STORE_SCHEMA' })
  })

  it('works inside a sublevel of a larger database and leaves that database open', async () => {
    const path = await dir()
    const root = new Level<string, string>(path)
    cleanups.push(() => root.close())
    const sub = root.sublevel<Uint8Array, Uint8Array>('cafs', { keyEncoding: 'view', valueEncoding: 'view' })
    await root.put('other', 'value')
    const s = await LevelChunkStore.open({ db: sub as unknown as ChunkDb })
    const bytes = seededBytes(1000, 1)
    await s.put(sha256(bytes), bytes)
    await s.close()
    assert.equal(await root.get('other'), 'value')
    const s2 = await LevelChunkStore.open({ db: sub as unknown as ChunkDb })
    assert.deepEqual(await s2.get(sha256(bytes)), bytes)
    await s2.close()
  })

  it('keeps its index consistent with the disk when a write fails', async () => {
    const path = await dir()
    const level = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
    cleanups.push(() => level.close())
    let failing = false
    const db: ChunkDb = {
      get: (k) => level.get(k),
      batch: async (ops) => {
        if (failing) throw new Error('simulated disk error')
        await level.batch(ops)
      },
      iterator: (o) => level.iterator(o ?? {}),
      close: async () => {}
    }
    const s = await LevelChunkStore.open({ db, budgetBytes: 1000 })
    const a = seededBytes(600, 4)
    const b = seededBytes(600, 5)
    await s.put(sha256(a), a)
    failing = true
    // b would evict a: the failed batch must neither lose a nor count b.
    await assert.rejects(s.put(sha256(b), b), /simulated disk error/)
    assert.equal(await s.has(sha256(a)), true)
    assert.equal(await s.has(sha256(b)), false)
    assert.deepEqual([s.stats().chunks, s.stats().bytes, s.stats().evictions], [1, 600, 0])
    failing = false
    await s.put(sha256(b), b)
    assert.deepEqual([s.stats().chunks, s.stats().bytes, s.stats().evictions], [1, 600, 1])
    assert.deepEqual(await s.get(sha256(b)), b)
    await s.close()
  })

  it('applies LevelDB tuning options when it opens the database itself', async () => {
    const path = await dir()
    const s = await LevelChunkStore.open({
      path,
      tuning: { compression: false, writeBufferSize: 1024 * 1024 }
    })
    const a = seededBytes(70_000, 6)
    await s.put(sha256(a), a)
    await s.close()
    const s2 = await LevelChunkStore.open({ path })
    assert.deepEqual(await s2.get(sha256(a)), a)
    await s2.close()
  })

  it('drops a chunk damaged on disk instead of serving it, and scrub finds the rest', async () => {
    const path = await dir()
    const a = seededBytes(5000, 2)
    const b = seededBytes(6000, 3)
    let s = await LevelChunkStore.open({ path })
    await s.put(sha256(a), a)
    await s.put(sha256(b), b)
    await s.close()
    // Damage both chunks behind the store's back.
    const db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view' })
    for (const x of [a, b]) {
      const bad = x.slice()
      bad[0]! ^= 0xff
      await db.put(Uint8Array.from([1, ...sha256(x)]), bad)
    }
    await db.close()
    s = await LevelChunkStore.open({ path })
    cleanups.push(() => s.close())
    assert.equal(await s.get(sha256(a)), undefined)
    assert.equal(await s.has(sha256(a)), false)
    assert.deepEqual(await s.scrub(), { ok: 0, removed: 1 })
    assert.equal(s.corruptChunks(), 2)
    assert.equal(s.stats().chunks, 0)
    assert.equal(s.stats().bytes, 0)
  })
})
