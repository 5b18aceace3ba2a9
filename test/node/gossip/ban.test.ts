import assert from 'node:assert/strict'
import type { Multiaddr } from '@multiformats/multiaddr'
import {
  type BitwrkHost,
  bidTopic,
  bidTopicValidator,
  type HostOptions,
  MAX_BANNED_PEERS,
  PeerBans,
  SCORE_THRESHOLDS
} from '../../../node/index.js'
import { createTestnet, forgedBid, type Testnet, testBid, waitFor } from '../../../node/testing.js'

const ARTICLE = 'net.bitwrk/gorays/0'
const TOPIC = bidTopic(ARTICLE)
const HOST: Omit<HostOptions, 'privateKey'> = {
  validators: { bids: bidTopicValidator() },
  gossip: { heartbeatIntervalMs: 100 }
}

describe('node/gossip bans (GOSSIP-12)', () => {
  describe('PeerBans', () => {
    it('bans for the ban time, renews, forgets ended bans and the oldest beyond the bound', () => {
      let now = 1000
      const bans = new PeerBans(() => now, 500, 2)
      bans.ban('a')
      assert.equal(bans.isBanned('a'), true)
      assert.equal(bans.isBanned('b'), false)
      now = 1400
      bans.ban('a')
      now = 1600
      assert.equal(bans.isBanned('a'), true, 'renewed at 1400, ends at 1900')
      now = 1900
      assert.equal(bans.isBanned('a'), false)
      assert.equal(bans.size(), 0)
      bans.ban('x')
      bans.ban('y')
      bans.ban('z')
      assert.equal(bans.size(), 2)
      assert.equal(bans.isBanned('x'), false)
      assert.ok(MAX_BANNED_PEERS >= 1000)
    })
  })

  describe('host', () => {
    let net: Testnet | undefined
    afterEach(async () => {
      await net?.stop()
      net = undefined
    })

    /** b (validating) and mallory, connected; mallory sends ten forged bids. */
    async function flood(banMs?: number): Promise<{ b: BitwrkHost; mallory: BitwrkHost }> {
      net = await createTestnet({
        nodes: 2,
        topology: 'line',
        fixedTopology: false,
        host: { ...HOST, ...(banMs !== undefined ? { banMs } : {}) }
      })
      const [b, mallory] = net.hosts as [BitwrkHost, BitwrkHost]
      b.gossip.subscribe(TOPIC)
      await waitFor(() => mallory.libp2p.services.pubsub.getSubscribers(TOPIC).length > 0, {
        timeoutMs: 5000,
        what: 'mallory sees b subscribed'
      })
      for (let i = 0; i < 10; i++)
        await mallory.libp2p.services.pubsub.publish(TOPIC, forgedBid(testBid(ARTICLE).bid))
      return { b, mallory }
    }

    it('disconnects and refuses a peer whose rejected messages graylisted it', async () => {
      const { b, mallory } = await flood()
      await waitFor(() => b.libp2p.getConnections(mallory.libp2p.peerId).length === 0, {
        timeoutMs: 10_000,
        what: 'mallory disconnected'
      })
      assert.equal(b.isBanned(mallory.peerId), true)
      assert.ok(b.gossip.score(mallory.peerId) < SCORE_THRESHOLDS.graylistThreshold)
      // refused when it dials again: b's gater closes the connection after the handshake
      await mallory.libp2p
        .dial(b.multiaddrs()[0] as Multiaddr, { signal: AbortSignal.timeout(5000) })
        .catch(() => undefined)
      await waitFor(
        () =>
          mallory.libp2p.getConnections(b.libp2p.peerId).length === 0 &&
          b.libp2p.getConnections(mallory.libp2p.peerId).length === 0,
        { timeoutMs: 5000, what: 'the redial refused' }
      )
      assert.equal(b.isBanned(mallory.peerId), true)
    })

    it('with banMs 0 keeps the graylisted peer connected (GossipSub only ignores it)', async () => {
      const { b, mallory } = await flood(0)
      await waitFor(() => b.gossip.score(mallory.peerId) < SCORE_THRESHOLDS.graylistThreshold, {
        timeoutMs: 10_000,
        what: 'mallory graylisted'
      })
      assert.equal(b.isBanned(mallory.peerId), false)
      assert.ok(b.libp2p.getConnections(mallory.libp2p.peerId).length > 0)
    })
  })
})
