import assert from 'node:assert/strict'
import type { Counter } from 'prom-client'
import {
  type BitwrkHost,
  bidTopic,
  bidTopicValidator,
  GossipCode,
  type HostOptions,
  messageIdHex,
  SCORE_THRESHOLDS
} from '../../../node/index.js'
import {
  createTestnet,
  forgedBid,
  type Testnet,
  testBid,
  waitFor,
  waitForMesh
} from '../../../node/testing.js'
import { BidCode } from '../../../protocol/bid/index.js'

const ARTICLE = 'net.bitwrk/gorays/0'
const TOPIC = bidTopic(ARTICLE)

/** Host options of every gossip test: the real bid validator, a short heartbeat. */
const HOST: Omit<HostOptions, 'privateKey'> = {
  validators: { bids: bidTopicValidator() },
  // 100 ms instead of 1 s: meshes form and IHAVE gossip runs 10x faster in tests
  gossip: { heartbeatIntervalMs: 100 }
}

/** Message ids each host delivered to the application. */
function collect(hosts: BitwrkHost[]): Set<string>[] {
  return hosts.map((h) => {
    const got = new Set<string>()
    h.gossip.addEventListener('gossip:message', (e) => got.add(e.detail.msgId))
    return got
  })
}

/** Sum of a counter over the series whose labels include `labels`. */
async function count<T extends string>(c: Counter<T>, labels: Partial<Record<T, string>>): Promise<number> {
  let sum = 0
  for (const v of (await c.get()).values) {
    const l = v.labels as Record<string, string | number | undefined>
    if (Object.entries(labels).every(([k, want]) => l[k] === want)) sum += v.value
  }
  return sum
}

describe('node/gossip (e2e)', () => {
  let net: Testnet | undefined
  afterEach(async () => {
    await net?.stop()
    net = undefined
  })

  it('delivers a valid message to every node of a line of five', async () => {
    net = await createTestnet({ nodes: 5, topology: 'line', host: HOST })
    const got = collect(net.hosts)
    for (const h of net.hosts) h.gossip.subscribe(TOPIC)
    const msg = testBid(ARTICLE).bytes
    const first = net.hosts[0] as BitwrkHost
    const res = await first.gossip.publish(TOPIC, msg, { timeoutMs: 5000 })
    assert.equal(res.recipients, 1)
    const id = messageIdHex(msg)
    await waitFor(() => got.slice(1).every((s) => s.has(id)), { timeoutMs: 10_000, what: 'delivery' })
    // the publisher does not deliver its own message to itself
    assert.equal(got[0]?.has(id), false)
    // one scrape shows bitwrk and GossipSub metrics, with bounded labels only
    const text = await (net.hosts[2] as BitwrkHost).metrics.registry.metrics()
    assert.match(text, /bitwrk_gossip_validation_total\{kind="bids",result="accept",code="OK"\} 1/)
    assert.match(text, /gossipsub_msg_received_prevalidation_total\{topic="bids"\} 1/)
    // no topic string in any label; libp2p's own metrics name the node's protocol ids only
    assert.equal(text.includes(TOPIC), false)
    for (const line of text.split('\n').filter((l) => l.includes('/bitwrk/')))
      assert.match(
        line,
        /^libp2p_[a-z0-9_]+\{[a-z0-9_]+="\/bitwrk\/(kad|chunk|sync|trade)\/1\.0\.0( sent| received)?"\} \d+$/,
        line
      )
    assert.equal(text.includes('16Uiu2'), false)
  })

  it('delivers messages from every node of a random graph of six to all others', async () => {
    let seed = 7
    const random = (): number => {
      // small LCG so the topology is the same on every run
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed / 2 ** 31
    }
    net = await createTestnet({ nodes: 6, topology: 'random', degree: 3, random, host: HOST })
    const got = collect(net.hosts)
    for (const h of net.hosts) h.gossip.subscribe(TOPIC)
    await waitForMesh(net.hosts, TOPIC, 10_000)
    const ids = await Promise.all(
      net.hosts.map(async (h, i) => {
        const msg = testBid(ARTICLE, { price: `mBTC ${i + 1}` }).bytes
        await h.gossip.publish(TOPIC, msg, { timeoutMs: 5000 })
        return messageIdHex(msg)
      })
    )
    await waitFor(() => got.every((s, i) => ids.every((id, j) => i === j || s.has(id))), {
      timeoutMs: 10_000,
      what: 'all deliveries'
    })
  })

  it('stops invalid messages at the first hop, graylists their sender, and keeps honest traffic flowing', async () => {
    // a star around b: a, c and mallory each know only b
    net = await createTestnet({ nodes: 4, topology: 'star', host: HOST })
    const [b, a, c, mallory] = net.hosts as [BitwrkHost, BitwrkHost, BitwrkHost, BitwrkHost]
    const got = collect([a, b, c])
    for (const h of [a, b, c]) h.gossip.subscribe(TOPIC)
    await waitFor(() => mallory.libp2p.services.pubsub.getSubscribers(TOPIC).length > 0, {
      timeoutMs: 5000,
      what: 'mallory to see b subscribed'
    })

    // ten well-formed bids whose signature does not recover the bid's peer key
    const bad: string[] = []
    for (let i = 0; i < 10; i++) {
      const msg = forgedBid(testBid(ARTICLE).bid)
      bad.push(messageIdHex(msg))
      await mallory.libp2p.services.pubsub.publish(TOPIC, msg)
    }
    await waitFor(() => b.gossip.score(mallory.peerId) < SCORE_THRESHOLDS.graylistThreshold, {
      timeoutMs: 10_000,
      what: 'mallory graylisted at b'
    })
    assert.ok((await count(b.metrics.validation, { result: 'reject', code: BidCode.badSignature })) >= 4)

    // honest traffic from a keeps reaching c through b
    const good: string[] = []
    for (let i = 0; i < 3; i++) {
      const msg = testBid(ARTICLE).bytes
      good.push(messageIdHex(msg))
      await a.gossip.publish(TOPIC, msg, { timeoutMs: 5000 })
    }
    await waitFor(() => good.every((id) => got[2]?.has(id) === true), {
      timeoutMs: 10_000,
      what: 'honest delivery'
    })
    // nothing invalid reached the second hop or any application
    for (const s of got) for (const id of bad) assert.equal(s.has(id), false)
    assert.equal(await count(c.metrics.validation, { result: 'reject' }), 0)
    assert.equal(await count(a.metrics.validation, { result: 'reject' }), 0)
    // honest neighbours keep non-negative scores
    assert.ok(b.gossip.score(a.peerId) >= 0)
    assert.ok(b.gossip.score(c.peerId) >= 0)
  })

  it('ignores messages over a peer rate limit and rejects a sustained flood', async () => {
    net = await createTestnet({
      nodes: 3,
      topology: 'line',
      // ~no refill during the test: a's budget at b is the burst of 3; excess above 4 is abuse
      host: { ...HOST, adapter: { rateLimit: { ratePerSec: 0.01, burst: 3, rejectAfter: 4 } } }
    })
    const [a, b, c] = net.hosts as [BitwrkHost, BitwrkHost, BitwrkHost]
    const got = collect([a, b, c])
    for (const h of [a, b, c]) h.gossip.subscribe(TOPIC)
    // b forwards only to its mesh: wait until c is in b's mesh (a loaded machine forms it late)
    await waitFor(
      () =>
        b.gossip.meshPeers(TOPIC).map(String).includes(c.peerId.toString()) &&
        a.gossip.meshPeers(TOPIC).length > 0,
      { timeoutMs: 10_000, what: 'the a-b-c mesh' }
    )
    for (let i = 0; i < 10; i++)
      await a.gossip.publish(TOPIC, testBid(ARTICLE).bytes, {
        timeoutMs: 5000
      })
    await waitFor(async () => (await count(b.metrics.validation, {})) === 10, {
      timeoutMs: 10_000,
      what: 'b to see 10'
    })
    assert.equal(await count(b.metrics.validation, { result: 'accept' }), 3)
    assert.equal(await count(b.metrics.validation, { result: 'ignore', code: GossipCode.RATE_LIMITED }), 4)
    assert.equal(await count(b.metrics.validation, { result: 'reject', code: GossipCode.RATE_ABUSE }), 3)
    assert.equal(await count(b.metrics.rateLimited, { action: 'ignore' }), 4)
    assert.equal(await count(b.metrics.rateLimited, { action: 'reject' }), 3)
    await waitFor(() => got[2]?.size === 3, { timeoutMs: 10_000, what: 'c to get the three accepted' })
    assert.equal(got[1]?.size, 3)
    // c only ever heard from b, which forwarded the three it accepted and nothing else
    assert.equal(await count(c.metrics.validation, {}), 3)
  })

  it('leaves every honest peer score >= 0 after many idle heartbeats, even beyond 10 peers on one IP', async () => {
    // a star: the hub has 11 peers on 127.0.0.1, above the IP-colocation threshold of 10
    net = await createTestnet({
      nodes: 12,
      topology: 'star',
      host: { ...HOST, gossip: { heartbeatIntervalMs: 50 } }
    })
    for (const h of net.hosts) h.gossip.subscribe(TOPIC)
    const hub = net.hosts[0] as BitwrkHost
    let beats = 0
    hub.libp2p.services.pubsub.addEventListener('gossipsub:heartbeat', () => beats++)
    // 20 heartbeats with meshes formed; the simulated idle hour is in gossip-units.test.ts
    await waitFor(() => beats >= 20 && hub.gossip.meshPeers(TOPIC).length > 0, {
      timeoutMs: 15_000,
      what: 'idle heartbeats'
    })
    for (const h of net.hosts)
      for (const p of h.libp2p.getPeers()) assert.ok(h.gossip.score(p) >= 0, `score of ${p} at ${h.peerId}`)
  })
})
