import assert from 'node:assert/strict'
import type { GossipSub, Message, TopicValidatorFn } from '@libp2p/gossipsub'
import type { TopicScoreParams } from '@libp2p/gossipsub/score'
import type { PeerId } from '@libp2p/interface'
import {
  bidTopic,
  createMetrics,
  GossipAdapter,
  type GossipAdapterOptions,
  GossipCode,
  type MessageValidator,
  messageIdHex,
  silentLogger,
  TOPIC_SCORE_PARAMS,
  txTopic
} from '../../../node/index.js'
import { isBitwrkError } from '../../../protocol/errors.js'

const TOPIC = bidTopic('fnord')

/** The parts of GossipSub the adapter touches, recorded for assertions. */
class StubPubsub extends EventTarget {
  readonly topicValidators = new Map<string, TopicValidatorFn>()
  readonly subscriptions = new Set<string>()
  readonly score = { params: { topics: {} as Record<string, TopicScoreParams> } }
  subscribers: string[] = []
  published: Uint8Array[] = []
  subscribe(t: string): void {
    this.subscriptions.add(t)
  }
  unsubscribe(t: string): void {
    this.subscriptions.delete(t)
  }
  getSubscribers(): PeerId[] {
    return this.subscribers.map(peer)
  }
  getScore(): number {
    return 0
  }
  async publish(_t: string, data: Uint8Array): Promise<{ recipients: PeerId[] }> {
    this.published.push(data)
    return { recipients: this.getSubscribers() }
  }
}

function peer(id: string): PeerId {
  return { toString: () => id } as unknown as PeerId
}

function setup(validator: MessageValidator, opts: Partial<GossipAdapterOptions> = {}) {
  const stub = new StubPubsub()
  const metrics = createMetrics()
  const adapter = new GossipAdapter({
    pubsub: stub as unknown as GossipSub,
    validators: { bids: validator },
    metrics,
    logger: silentLogger(),
    ...opts
  })
  adapter.subscribe(TOPIC)
  const run = async (data: Uint8Array, from = 'peerA'): Promise<string> => {
    const fn = stub.topicValidators.get(TOPIC)
    assert.ok(fn !== undefined)
    const msg: Message = { type: 'unsigned', topic: TOPIC, data }
    return fn(peer(from), msg)
  }
  return { stub, adapter, metrics, run }
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('node/gossip/adapter', () => {
  it('registers the validator, the topic score parameters and the subscription', () => {
    const { stub, adapter } = setup(() => ({ result: 'accept' }))
    assert.ok(stub.topicValidators.has(TOPIC))
    assert.deepEqual(stub.score.params.topics[TOPIC], TOPIC_SCORE_PARAMS)
    assert.ok(stub.subscriptions.has(TOPIC))
    assert.deepEqual(adapter.topics(), [TOPIC])
    adapter.unsubscribe(TOPIC)
    assert.equal(stub.topicValidators.has(TOPIC), false)
    assert.equal(stub.subscriptions.has(TOPIC), false)
  })

  it('refuses topics it cannot validate', () => {
    const { adapter } = setup(() => ({ result: 'accept' }))
    assert.throws(
      () => adapter.subscribe('/ipfs/whatever'),
      (e) => isBitwrkError(e, GossipCode.BAD_TOPIC)
    )
    assert.throws(
      () => adapter.subscribe(txTopic('fnord')),
      (e) => isBitwrkError(e, GossipCode.NO_VALIDATOR)
    )
  })

  it('maps accept / ignore / reject and counts them by code', async () => {
    const { run, metrics } = setup((data) => {
      const s = new TextDecoder().decode(data)
      if (s === 'good') return { result: 'accept' }
      if (s === 'late') return { result: 'ignore', code: 'BID_TOO_LATE' }
      return { result: 'reject', code: 'BID_BAD_SIGNATURE' }
    })
    assert.equal(await run(bytes('good')), 'accept')
    assert.equal(await run(bytes('late')), 'ignore')
    assert.equal(await run(bytes('forged')), 'reject')
    const values = (await metrics.validation.get()).values.map(
      (v) => `${v.labels['result']}:${v.labels['code']}`
    )
    assert.deepEqual(values.sort(), ['accept:OK', 'ignore:BID_TOO_LATE', 'reject:BID_BAD_SIGNATURE'])
  })

  it('answers repeats from the seen cache without running the validator again', async () => {
    let calls = 0
    const { run } = setup((data) => {
      calls++
      return new TextDecoder().decode(data) === 'good'
        ? { result: 'accept' }
        : { result: 'reject', code: 'BID_BAD_SIGNATURE' }
    })
    await run(bytes('good'))
    await run(bytes('bad'))
    assert.equal(await run(bytes('good')), 'ignore')
    assert.equal(await run(bytes('bad')), 'reject')
    assert.equal(calls, 2)
  })

  it('rejects oversized messages before anything else', async () => {
    let calls = 0
    const { run } = setup(
      () => {
        calls++
        return { result: 'accept' }
      },
      { maxMessageBytes: { bids: 8 } }
    )
    assert.equal(await run(new Uint8Array(9)), 'reject')
    assert.equal(calls, 0)
  })

  it('ignores a message when the validation queue is full', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const { run, metrics } = setup(
      async () => {
        await gate
        return { result: 'accept' }
      },
      { queue: { concurrency: 1, maxLength: 1 } }
    )
    const first = run(bytes('1'))
    const second = run(bytes('2'))
    assert.equal(await run(bytes('3')), 'ignore')
    release()
    assert.deepEqual(await Promise.all([first, second]), ['accept', 'accept'])
    const dropped = (await metrics.queueDropped.get()).values[0]?.value
    assert.equal(dropped, 1)
  })

  it('turns a throwing validator into an ignore', async () => {
    const { run, metrics } = setup(() => {
      throw new Error('bug')
    })
    assert.equal(await run(bytes('x')), 'ignore')
    const v = (await metrics.validation.get()).values[0]
    assert.equal(v?.labels['code'], GossipCode.VALIDATOR_ERROR)
  })

  it('emits accepted messages on subscribed topics with their id', () => {
    const { stub, adapter } = setup(() => ({ result: 'accept' }))
    const got: string[] = []
    adapter.addEventListener('gossip:message', (e) =>
      got.push(`${e.detail.kind}:${e.detail.article}:${e.detail.msgId}`)
    )
    const data = bytes('hello')
    stub.dispatchEvent(new CustomEvent('message', { detail: { type: 'unsigned', topic: TOPIC, data } }))
    stub.dispatchEvent(new CustomEvent('message', { detail: { type: 'unsigned', topic: '/other', data } }))
    assert.deepEqual(got, [`bids:fnord:${messageIdHex(data)}`])
  })

  it('publishes once a peer subscribes, and times out or stops cleanly otherwise', async () => {
    const { stub, adapter } = setup(() => ({ result: 'accept' }))
    await assert.rejects(adapter.publish(TOPIC, bytes('a'), { timeoutMs: 30 }), (e) =>
      isBitwrkError(e, GossipCode.PUBLISH_TIMEOUT)
    )
    const pending = adapter.publish(TOPIC, bytes('b'), { timeoutMs: 5000 })
    stub.subscribers = ['peerB']
    stub.dispatchEvent(new CustomEvent('subscription-change'))
    assert.deepEqual(await pending, { recipients: 1, duplicate: false })
    assert.equal(stub.published.length, 1)
    stub.subscribers = []
    const stopped = adapter.publish(TOPIC, bytes('c'), { timeoutMs: 5000 })
    adapter.stop()
    adapter.stop()
    await assert.rejects(stopped, (e) => isBitwrkError(e, GossipCode.STOPPED))
    await assert.rejects(adapter.publish('/nope', bytes('d')), (e) => isBitwrkError(e, GossipCode.BAD_TOPIC))
  })
})
