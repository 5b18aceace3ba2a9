import assert from 'node:assert/strict'
import { memoryWatchStats, watchMemory } from '../../../node/host/memory-watch.js'
import { waitFor } from '../../../node/testing.js'

describe('node/memory-watch', () => {
  it('runs a full collection once the RSS grew past its bound, is shared by its users and stops with the last', async () => {
    const before = memoryWatchStats()
    const leaveA = watchMemory({ growthBytes: 4 << 20, minIntervalMs: 0, sampleMs: 5 })
    // a second user joins the running watch (its options are ignored)
    const leaveB = watchMemory({ growthBytes: 1 << 30, minIntervalMs: 60_000, sampleMs: 60_000 })
    assert.equal(memoryWatchStats().running, true)
    // memory that stays: the RSS grows past any bound the watch runs with (at most 256 MiB)
    const held: Buffer[] = []
    await waitFor(
      () => {
        if (held.length < 64) held.push(Buffer.alloc(4 << 20, 1))
        return memoryWatchStats().collections > before.collections
      },
      { timeoutMs: 20_000, what: 'a collection by the watch' }
    )
    assert.ok(held.length > 0)
    held.length = 0
    leaveA()
    leaveA()
    assert.equal(memoryWatchStats().running, true, 'one user left, the other still watches')
    leaveB()
    // as before the test: stopped, unless a node elsewhere in the process still runs
    assert.equal(memoryWatchStats().running, before.running)
  })

  it('backs off while the RSS holds still and still collects once it grows', async () => {
    const before = memoryWatchStats()
    const leave = watchMemory({ growthBytes: 4 << 20, minIntervalMs: 0, sampleMs: 5, idleSampleMs: 200 })
    // quiet first: the sampling interval doubles up to idleSampleMs
    await waitFor(() => memoryWatchStats().sampleMs === 200, {
      timeoutMs: 10_000,
      what: 'the watch backing off'
    })
    const held: Buffer[] = []
    let sampledFast = false
    await waitFor(
      () => {
        if (held.length < 64) held.push(Buffer.alloc(4 << 20, 1))
        // growth brings the watch back to its full rate at once
        if (memoryWatchStats().sampleMs === 5) sampledFast = true
        return memoryWatchStats().collections > before.collections
      },
      { timeoutMs: 20_000, what: 'a collection by the backed-off watch' }
    )
    assert.ok(sampledFast, 'growth brought the watch back to sampleMs')
    assert.ok(held.length > 0)
    held.length = 0
    leave()
    assert.equal(memoryWatchStats().running, before.running)
  })

  it('runs a young-generation collection every youngCollectMs', async () => {
    const before = memoryWatchStats()
    // a huge growth bound: only the young-generation collections run
    const leave = watchMemory({ growthBytes: 2 ** 40, minIntervalMs: 0, sampleMs: 5, youngCollectMs: 20 })
    await waitFor(() => memoryWatchStats().youngCollections >= before.youngCollections + 2, {
      timeoutMs: 20_000,
      what: 'two young-generation collections by the watch'
    })
    assert.equal(memoryWatchStats().collections, before.collections, 'no full collection')
    leave()
    assert.equal(memoryWatchStats().running, before.running)
  })
})
