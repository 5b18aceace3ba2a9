import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '../../../node/logger.js'
import { ReputationService, ReputationServiceCode } from '../../../node/reputation/index.js'
import { openLevelController, openStore, type Repositories } from '../../../node/store/index.js'
import { waitFor } from '../../../node/testing.js'
import { GOSSIP_APP_SCORE, HALF_LIFE_MS } from '../../../protocol/reputation/index.js'
import { newIdentity } from '../market/helpers.js'

describe('node/reputation (service)', () => {
  let dir: string
  const close: (() => Promise<void>)[] = []
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bitwrk-rep-'))
  })
  afterEach(async () => {
    for (const c of close.splice(0)) await c()
    await rm(dir, { recursive: true, force: true })
  })

  async function open(clock: () => number): Promise<{ repos: Repositories; svc: ReputationService }> {
    const kv = await openLevelController(join(dir, 'db'))
    const repos = await openStore(kv)
    const svc = new ReputationService({
      repo: repos.reputation,
      settings: repos.settings,
      clock,
      logger: silentLogger(),
      flushIntervalMs: 10
    })
    await svc.start()
    close.push(async () => {
      await svc.stop()
      await kv.close()
    })
    return { repos, svc }
  }

  it('persists observations, reloads them at start and decays them with the clock', async () => {
    let now = 1_700_000_000_000
    const peer = newIdentity()
    const first = await open(() => now)
    first.svc.onWrongChunk(peer.peerId, 'CAFS_HASH_MISMATCH')
    first.svc.onInvalidGossip(peer.peerId, 'BID_BAD_SIGNATURE')
    first.svc.onInvalidGossip(peer.peerId, 'BID_BAD_SIGNATURE')
    const subject = { kind: 'peer', id: peer.peerId } as const
    await waitFor(() => first.svc.record(subject)?.counters.invalidGossip === 2, { timeoutMs: 5000 })
    // N = 5 + 2·2 = 9: score −9 / 13; the app score is score × 40 (REP-9).
    assert.ok(Math.abs(first.svc.assess(subject).score - -9 / 13) < 1e-12)
    assert.ok(Math.abs(first.svc.appScore(peer.peerId) - (-9 / 13) * -GOSSIP_APP_SCORE.min) < 1e-9)
    // The peer's key is also a participant: an address record counts for its app score (invariant 2).
    assert.equal(first.svc.addressOfPeer(peer.peerId), peer.address)
    await close.pop()?.()

    now += HALF_LIFE_MS
    const second = await open(() => now)
    assert.equal(second.svc.record(subject)?.counters.wrongChunks, 1)
    // One half-life later: f = 1/2, score = −4.5 / (4.5 + 4).
    assert.ok(Math.abs(second.svc.assess(subject).score - -4.5 / 8.5) < 1e-12)
    assert.equal(
      second.svc.establishRefusal(newIdentity().address, peer.peerId),
      ReputationServiceCode.DISTRUSTED
    )
  })

  it('refuses a blocked address even when its peer id is clean, and replicates only low trust', async () => {
    const now = 1_700_000_000_000
    const { svc } = await open(() => now)
    const who = newIdentity()
    assert.equal(svc.establishRefusal(who.address, who.peerId), undefined)
    assert.equal(svc.shouldReplicate(who.address, true), true)
    assert.equal(svc.shouldReplicate(who.address, false), false)
    for (let i = 0; i < 3; i++) await svc.onContradicted(who.address)
    // −9 / 13 ≤ −0.5: no establishing; above −0.75: not blocked.
    assert.equal(svc.establishRefusal(who.address, newIdentity().peerId), ReputationServiceCode.DISTRUSTED)
    await svc.onContradicted(who.address)
    assert.equal(svc.establishRefusal(who.address, newIdentity().peerId), ReputationServiceCode.BLOCKED)
    assert.equal(svc.appScore(who.peerId), GOSSIP_APP_SCORE.blocked)
    assert.equal(svc.shouldReplicate(who.address, true), false)
  })
})
