import assert from 'node:assert/strict'
import { createPeerScoreParams, PeerScore, validatePeerScoreParams } from '@libp2p/gossipsub/score'
import type { ComponentLogger, Logger as Libp2pLogger } from '@libp2p/interface'
import fc from 'fast-check'
import { Gauge, Histogram, Registry } from 'prom-client'
import { messageIdToStr, routerMessageId, routerMessageIdHex } from '../../../node/gossip/adapter.js'
import {
  bidTopic,
  codeLabel,
  GossipCode,
  gossipsubMetricsRegister,
  isValidArticle,
  MAX_ARTICLE_LENGTH,
  messageIdHex,
  PeerRateLimiter,
  parseTopic,
  peerScoreParams,
  SCORE_THRESHOLDS,
  SeenCache,
  TOPIC_SCORE_PARAMS,
  TopicKindLabels,
  topicKindLabel,
  txTopic,
  ValidationQueue
} from '../../../node/index.js'
import { encodeSigned } from '../../../protocol/bid/index.js'
import { isBitwrkError } from '../../../protocol/errors.js'
import { VECTOR_BUY } from '../../bid/fixtures.js'

/** A libp2p component logger that prints nothing (PeerScore needs one). */
function quietLogger(): ComponentLogger {
  const log: Libp2pLogger = Object.assign(() => {}, {
    error: () => {},
    trace: () => {},
    enabled: false,
    newScope: () => log
  })
  return { forComponent: () => log }
}

describe('node/gossip/topics', () => {
  it('names bid and transaction topics per article and parses them back', () => {
    assert.equal(bidTopic('net.bitwrk/gorays/0'), '/bitwrk/bids/1/net.bitwrk/gorays/0')
    assert.equal(txTopic('fnord~trusted'), '/bitwrk/tx/2/fnord~trusted')
    assert.deepEqual(parseTopic('/bitwrk/bids/1/net.bitwrk/blender/0/2.80/512M'), {
      kind: 'bids',
      article: 'net.bitwrk/blender/0/2.80/512M'
    })
    assert.deepEqual(parseTopic('/bitwrk/tx/2/fnord'), { kind: 'tx', article: 'fnord' })
  })

  it('refuses articles that cannot be part of a topic name', () => {
    for (const bad of [
      '',
      ' fnord',
      'fn ord',
      '/abs',
      'ä',
      'a'.repeat(MAX_ARTICLE_LENGTH + 1),
      'a?b',
      'a\nb'
    ]) {
      assert.equal(isValidArticle(bad), false, JSON.stringify(bad))
      assert.throws(
        () => bidTopic(bad),
        (e) => isBitwrkError(e, GossipCode.BAD_ARTICLE)
      )
    }
    for (const t of [
      '/bitwrk/bids/1/',
      '/bitwrk/bids/2/fnord',
      '/ipfs/x',
      'fnord',
      '/bitwrk/tx/2/ x',
      '/bitwrk/tx/1/fnord',
      '/bitwrk/evidence/1'
    ])
      assert.equal(parseTopic(t), undefined, t)
  })

  it('round-trips every valid article (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._~/-]{0,40}$/), (article) => {
        assert.deepEqual(parseTopic(bidTopic(article)), { kind: 'bids', article })
        assert.deepEqual(parseTopic(txTopic(article)), { kind: 'tx', article })
      })
    )
  })
})

describe('node/gossip/message id', () => {
  it('is SHA-256 of the message bytes (GOSSIP-2 vectors)', () => {
    assert.equal(
      messageIdHex(new Uint8Array(0)),
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    )
    const wire = encodeSigned(VECTOR_BUY)
    assert.equal(wire.byteLength, 362)
    assert.equal(messageIdHex(wire), 'fc9767a55a5b0c57ddd663d7012bfe4b0bcce7902ff618797c7009de5045f06a')
  })

  it("reuses GossipSub's id for the same bytes object and hashes anything else (issue 14)", () => {
    const wire = encodeSigned(VECTOR_BUY)
    const hex = 'fc9767a55a5b0c57ddd663d7012bfe4b0bcce7902ff618797c7009de5045f06a'
    const id = routerMessageId(wire)
    assert.equal(Buffer.from(id).toString('hex'), hex)
    assert.equal(messageIdToStr(id), hex)
    assert.equal(routerMessageIdHex(wire), hex)
    // equal bytes in another object, and other bytes, are hashed
    assert.equal(routerMessageIdHex(Uint8Array.from(wire)), hex)
    assert.equal(routerMessageIdHex(new Uint8Array(0)), messageIdHex(new Uint8Array(0)))
    // once GossipSub has hashed another message, the first is hashed again
    routerMessageId(new Uint8Array(0))
    assert.equal(routerMessageIdHex(wire), hex)
    assert.equal(routerMessageIdHex(new Uint8Array(0)), messageIdHex(new Uint8Array(0)))
  })
})

describe('node/gossip/rate-limit', () => {
  it('allows a burst, refills at the rate, ignores the excess and rejects a sustained flood', () => {
    let now = 0
    const rl = new PeerRateLimiter(
      { ratePerSec: 10, burst: 5, rejectAfter: 3, abuseHalfLifeMs: 1000 },
      () => now
    )
    for (let i = 0; i < 5; i++) assert.equal(rl.take('p'), 'ok')
    assert.equal(rl.take('p'), 'ignore')
    assert.equal(rl.take('p'), 'ignore')
    assert.equal(rl.take('p'), 'ignore')
    assert.equal(rl.take('p'), 'reject')
    // other peers have their own bucket
    assert.equal(rl.take('q'), 'ok')
    // 100 ms at 10/s refills one token
    now += 100
    assert.equal(rl.take('p'), 'ok')
    // the abuse counter halves per second: after 10 s the peer is back to plain ignores
    now += 10_000
    for (let i = 0; i < 5; i++) assert.equal(rl.take('p'), 'ok')
    assert.equal(rl.take('p'), 'ignore')
  })

  it('forgets the least recently seen peer beyond maxPeers', () => {
    const rl = new PeerRateLimiter({ maxPeers: 3 }, () => 0)
    for (const p of ['a', 'b', 'c', 'a', 'd']) rl.take(p)
    assert.equal(rl.size, 3)
  })
})

describe('node/gossip/seen-cache', () => {
  it('remembers verdicts until they expire and evicts the oldest when full', () => {
    let now = 0
    const c = new SeenCache(2, 1000, () => now)
    c.put('a', 'accept')
    c.put('b', 'reject', 'X_BAD')
    assert.deepEqual(c.get('b'), { verdict: 'reject', code: 'X_BAD' })
    c.put('c', 'accept')
    assert.equal(c.get('a'), undefined)
    assert.equal(c.size, 2)
    now = 1000
    assert.equal(c.get('c'), undefined)
  })
})

describe('node/gossip/queue', () => {
  it('runs up to its concurrency, queues up to maxLength and drops the newest beyond', async () => {
    const lengths: number[] = []
    const q = new ValidationQueue<number>({ concurrency: 1, maxLength: 2 }, (n) => lengths.push(n))
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const first = q.push(async () => {
      await gate
      return 1
    })
    const second = q.push(() => 2)
    const third = q.push(() => 3)
    assert.equal(
      q.push(() => 4),
      undefined
    )
    assert.equal(q.length, 2)
    release()
    assert.deepEqual(await Promise.all([first, second, third]), [1, 2, 3])
    assert.equal(q.length, 0)
    assert.equal(lengths.at(-1), 0)
  })

  it('passes a failing job on to its caller and keeps going', async () => {
    const q = new ValidationQueue<number>({ concurrency: 1, maxLength: 4 })
    const bad = q.push(() => {
      throw new Error('boom')
    })
    const good = q.push(() => 7)
    await assert.rejects(bad as Promise<number>, /boom/)
    assert.equal(await good, 7)
  })
})

describe('node/metrics', () => {
  it('maps topics to their kind for GossipSub metric labels', () => {
    assert.equal(topicKindLabel('/bitwrk/bids/1/fnord'), 'bids')
    assert.equal(topicKindLabel('/bitwrk/tx/2/fnord'), 'tx')
    assert.equal(topicKindLabel('bids'), 'bids')
    assert.equal(topicKindLabel('/some/peer/supplied/topic'), 'other')
    assert.equal(new TopicKindLabels().get('/bitwrk/tx/2/a'), 'tx')
  })

  it('keeps label values bounded', () => {
    assert.equal(codeLabel('BID_BAD_SIGNATURE'), 'BID_BAD_SIGNATURE')
    assert.equal(codeLabel('16Uiu2HAm…'), 'OTHER')
    assert.equal(codeLabel('lower'), 'OTHER')
    assert.equal(codeLabel(`X${'_'.repeat(80)}`), 'OTHER')
  })

  it("exports GossipSub's gauges and histograms exactly as prom-client's own (issue 14)", async () => {
    const ours = new Registry()
    const reg = gossipsubMetricsRegister(ours)
    const ref = new Registry()
    const g = reg.gauge<{ topic: string; status: string }>({
      name: 'g_total',
      help: 'a gauge',
      labelNames: ['topic', 'status']
    })
    const refG = new Gauge({
      name: 'g_total',
      help: 'a gauge',
      labelNames: ['topic', 'status'],
      registers: [ref]
    })
    const plain = reg.gauge({ name: 'plain', help: 'no labels' })
    const refPlain = new Gauge({ name: 'plain', help: 'no labels', registers: [ref] })
    const h = reg.histogram<{ topic: string }>({
      name: 'h_seconds',
      help: 'a histogram',
      labelNames: ['topic'],
      buckets: [0.5, 1, 2]
    })
    const refH = new Histogram({
      name: 'h_seconds',
      help: 'a histogram',
      labelNames: ['topic'],
      buckets: [0.5, 1, 2],
      registers: [ref]
    })
    const noBuckets = reg.histogram({ name: 'd_seconds', help: 'default buckets' })
    const refD = new Histogram({ name: 'd_seconds', help: 'default buckets', registers: [ref] })
    for (const [topic, status, v] of [
      ['/bitwrk/bids/1/a', 'valid', 0.5],
      ['bids', 'valid', 1.5],
      ['/peer/topic', 'invalid', 3],
      ['/bitwrk/tx/2/b', 'valid', 0]
    ] as const) {
      const kind = topicKindLabel(topic)
      g.inc({ topic, status }, 2)
      refG.inc({ topic: kind, status }, 2)
      h.observe({ topic }, v)
      refH.observe({ topic: kind }, v)
      noBuckets.observe(v / 100)
      refD.observe(v / 100)
    }
    g.set({ topic: 'tx', status: 'valid' }, 7)
    refG.set({ topic: 'tx', status: 'valid' }, 7)
    plain.inc()
    plain.inc(3)
    refPlain.inc(4)
    assert.equal(await ours.metrics(), await ref.metrics())
    assert.deepEqual(await ours.getMetricsAsJSON(), await ref.getMetricsAsJSON())
    h.reset()
    refH.reset()
    assert.equal(await ours.metrics(), await ref.metrics())
  })
})

describe('node/gossip/score', () => {
  const topic = bidTopic('net.bitwrk/gorays/0')
  function scorer(): PeerScore {
    const params = createPeerScoreParams({ ...peerScoreParams(), topics: { [topic]: TOPIC_SCORE_PARAMS } })
    validatePeerScoreParams(params)
    return new PeerScore(params, null, quietLogger(), { scoreCacheValidityMs: 0 })
  }

  it('leaves an honest mesh peer of an idle bid topic at >= 0 after a simulated hour', () => {
    const ps = scorer()
    ps.addPeer('honest')
    ps.graft('honest', topic)
    const stats = ps.peerStats.get('honest')?.topics[topic]
    assert.ok(stats !== undefined)
    // grafted an hour ago; 3600 decay intervals of 1 s pass with not one message
    stats.graftTime = Date.now() - 3600 * 1000
    for (let i = 0; i < 3600; i++) ps.refreshScores()
    assert.equal(stats.meshMessageDeliveriesActive, true)
    assert.ok(ps.score('honest') >= 0, `score ${ps.score('honest')}`)
    // and the time-in-mesh credit is capped by the topic score cap
    assert.ok(ps.score('honest') <= 10)
  })

  it('graylists a peer after four rejects and lets it recover within an hour of good behaviour', () => {
    const ps = scorer()
    ps.addPeer('bad')
    ps.graft('bad', topic)
    ps.rejectInvalidMessage('bad', topic)
    assert.equal(ps.score('bad'), -10)
    assert.ok(ps.score('bad') >= SCORE_THRESHOLDS.gossipThreshold)
    for (let i = 0; i < 3; i++) ps.rejectInvalidMessage('bad', topic)
    assert.ok(ps.score('bad') < SCORE_THRESHOLDS.graylistThreshold)
    for (let i = 0; i < 3600; i++) ps.refreshScores()
    assert.ok(ps.score('bad') >= SCORE_THRESHOLDS.gossipThreshold)
  })

  it('documents thresholds in the order GossipSub requires', () => {
    const t = SCORE_THRESHOLDS
    assert.ok(t.graylistThreshold < t.publishThreshold && t.publishThreshold < t.gossipThreshold)
    assert.ok(t.gossipThreshold < 0)
  })
})
