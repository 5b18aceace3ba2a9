import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import type { Key, Manifest } from '../../../cafs/types.js'
import { ProviderCache, SEED_DEFAULTS, Seeder } from '../../../node/content/seed.js'
import { waitFor } from '../../../node/testing.js'

const key = (s: string): Key => new Uint8Array(createHash('sha256').update(s).digest())

/** A manifest of `n` distinct chunks (the policy reads keys only). */
function manifestOf(name: string, n: number): Manifest {
  return {
    fileKey: key(name),
    size: n * 10,
    chunks: Array.from({ length: n }, (_, i) => ({ key: key(`${name}/${i}`), size: 10 }))
  }
}

describe('node/content/seed (CHUNK-22)', () => {
  const file = manifestOf('asset', 4)
  const c0 = file.chunks[0]!.key
  const c1 = file.chunks[1]!.key

  function setup(providers: string[] = ['A', 'B', 'C']) {
    let now = 1_000_000
    const known = new Set(providers)
    let refusals = 0
    const seeder = new Seeder({
      providers: () => known,
      clock: () => now,
      onRefused: () => {
        refusals++
      }
    })
    seeder.seed(file)
    return {
      seeder,
      known,
      advance: (ms: number) => {
        now += ms
      },
      refusals: () => refusals
    }
  }

  it('serves each chunk once while its recipient provides the file; others are referred to the swarm', () => {
    const { seeder, refusals } = setup()
    assert.equal(seeder.allows('A', c0), true)
    assert.equal(seeder.allows('A', c0), true, 'the first recipient again (a retried request)')
    assert.equal(seeder.allows('B', c0), false)
    assert.equal(seeder.allows('C', c0), false)
    // another chunk goes to whoever asks first
    assert.equal(seeder.allows('B', c1), true)
    assert.equal(seeder.allows('A', c1), false)
    assert.equal(refusals(), 3)
  })

  it('serves a refused peer that asks again after reaskMs, not before', () => {
    const { seeder, advance } = setup()
    seeder.allows('A', c0)
    assert.equal(seeder.allows('B', c0), false)
    advance(SEED_DEFAULTS.reaskMs - 1)
    assert.equal(seeder.allows('B', c0), false)
    advance(1)
    assert.equal(seeder.allows('B', c0), true)
    // and refuses it anew only after another first refusal
    assert.equal(seeder.allows('B', c0), false)
  })

  it('serves everyone while the first recipient is not known to provide the file (--no-provide)', () => {
    const { seeder, known } = setup(['B'])
    seeder.allows('A', c0)
    assert.equal(seeder.allows('B', c0), true)
    assert.equal(seeder.allows('C', c0), true)
    known.add('A')
    assert.equal(seeder.allows('C', c0), false)
  })

  it('leaves other keys, unseeded files and one-chunk files alone', () => {
    const { seeder } = setup()
    const other = key('other')
    assert.equal(seeder.allows('A', other), true)
    assert.equal(seeder.allows('B', other), true)
    seeder.allows('A', c0)
    seeder.unseed(file.fileKey)
    assert.equal(seeder.allows('B', c0), true)
    assert.equal(seeder.size, 0)
    const one = manifestOf('small', 1)
    seeder.seed(one)
    assert.equal(seeder.size, 0)
  })

  it('is bounded: files beyond maxFiles push the oldest out, refused peers per chunk are capped', () => {
    const seeder = new Seeder({
      providers: () => new Set(['p0']),
      clock: () => 0,
      limits: { maxFiles: 2, maxRefusedPerChunk: 2 }
    })
    const files = ['f1', 'f2', 'f3'].map((n) => manifestOf(n, 3))
    for (const f of files) seeder.seed(f)
    assert.equal(seeder.size, 2)
    const first = files[0]!.chunks[0]!.key
    // f1 was dropped: its chunks are served to anyone
    seeder.allows('p0', first)
    assert.equal(seeder.allows('p1', first), true)
    const k = files[2]!.chunks[0]!.key
    seeder.allows('p0', k)
    assert.equal(seeder.allows('p1', k), false)
    assert.equal(seeder.allows('p2', k), false)
    // the third refused peer is past the bound: served rather than refused without a record
    assert.equal(seeder.allows('p3', k), true)
  })
})

describe('node/content/seed ProviderCache', () => {
  it('answers from the cache at once and looks up in the background when stale', async () => {
    let now = 0
    let lookups = 0
    let answer = ['A']
    const cache = new ProviderCache(
      async function* () {
        lookups++
        for (const p of answer) yield p
      },
      () => now,
      { refreshMs: 100 }
    )
    const k = key('f')
    assert.equal(cache.get(k).size, 0, 'nothing known before the first lookup')
    await waitFor(() => cache.get(k).has('A'), { timeoutMs: 2000, what: 'the first lookup' })
    assert.equal(lookups, 1)
    answer = ['A', 'B']
    // fresh: no new lookup
    cache.get(k)
    assert.equal(lookups, 1)
    now += 100
    cache.get(k)
    await waitFor(() => cache.get(k).has('B'), { timeoutMs: 2000, what: 'the refresh' })
    assert.equal(lookups, 2)
    cache.stop()
    now += 1000
    cache.get(k)
    assert.equal(lookups, 2, 'no lookup after stop')
  })

  it('keeps what it knew when a lookup fails', async () => {
    let now = 0
    let fail = false
    const cache = new ProviderCache(
      async function* () {
        if (fail) throw new Error('dht down')
        yield 'A'
      },
      () => now,
      { refreshMs: 10 }
    )
    const k = key('g')
    cache.get(k)
    await waitFor(() => cache.get(k).has('A'), { timeoutMs: 2000, what: 'the lookup' })
    fail = true
    now += 10
    cache.get(k)
    await new Promise((r) => setImmediate(r))
    now += 10
    assert.ok(cache.get(k).has('A'))
    cache.stop()
  })
})
