import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { hexToBytes } from '@noble/hashes/utils.js'
import { INVALID_REQUEST_WINDOW_MS } from '../../../cafs/transfer/index.js'
import type { ChunkStore } from '../../../cafs/types.js'
import {
  encodeTradeFrame,
  libp2pTradeStream,
  MemoryTxNetwork,
  readTradeFrame,
  TestClock,
  TRADE_PROTOCOL,
  TradeCode,
  TradeMsg,
  type TradeWorker
} from '../../../node/trade/index.js'
import { BitwrkError, isBitwrkError } from '../../../protocol/errors.js'
import { Identity } from '../../../protocol/identity/index.js'
import {
  PHASE_EXTENSION_MS,
  parseTxDocument,
  SealCode,
  sealResultKey,
  signTxMessage,
  type TxMessage
} from '../../../protocol/transaction/index.js'
import { rejectsWithCode } from '../../support/errors.js'
import { establish, helloAnswer, lcgBytes, makeNode, reversed, type TradeNode } from './helpers.js'

/** A worker that reverses the work and counts its jobs. */
function reversingWorker(): TradeWorker & { jobs: number } {
  const w = {
    jobs: 0,
    async work(work: Uint8Array): Promise<Uint8Array> {
      w.jobs++
      return reversed(work)
    }
  }
  return w
}

describe('node/trade', function () {
  this.timeout(20_000)
  let clock: TestClock
  let network: MemoryTxNetwork
  const nodes: TradeNode[] = []

  beforeEach(() => {
    clock = new TestClock()
    network = new MemoryTxNetwork()
  })
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()))
    network.close()
  })

  async function node(opts?: Parameters<typeof makeNode>[2]): Promise<TradeNode> {
    const n = await makeNode(network, clock, opts)
    nodes.push(n)
    return n
  }

  it('runs a trade through every phase to FINISHED with every message persisted on both sides', async () => {
    const buyer = await node({ level: true })
    const seller = await node()
    const observer = await node()
    const work = lcgBytes(300_000, 7)
    const { tx, secret } = await establish(network, clock, buyer, seller, work)
    assert.equal(tx.phase, 'TRANSMITTING')
    const worker = reversingWorker()
    const sell = seller.trade.onEstablished(tx, worker)
    const bought = await buyer.trade.runBuyer(tx, work, secret)

    assert.deepEqual(bought.result, reversed(work))
    assert.equal(worker.jobs, 1)
    assert.equal(bought.tx.state, 'retired')
    assert.equal(bought.tx.outcome?.result, 'seller-paid')
    assert.equal(bought.tx.outcome?.reason, 'accepted')
    assert.equal(bought.tx.outcome?.debt?.debtor, buyer.identity.address)
    assert.equal(bought.stats.workBytesSent, work.length)
    const sold = await sell
    assert.equal(sold.error, null)
    assert.equal(sold.tx.state, 'retired')
    assert.equal(sold.tx.phase, 'FINISHED')

    const kinds = [
      'establish-buyer',
      'establish-seller',
      'publish-secret',
      'transmit-finished',
      'accept-result'
    ]
    for (const n of [buyer, seller, observer]) {
      const stored = await n.repo.messages(tx.id)
      assert.deepEqual(
        stored.map((m) => /msg=([a-z-]+)/.exec(m.message.document)?.[1]),
        kinds
      )
      const replayed = await n.repo.get(tx.id)
      assert.equal(replayed?.state, 'retired')
      assert.equal(replayed?.phase, 'FINISHED')
      assert.equal(replayed?.outcome?.result, 'seller-paid')
    }
    // The key is published sealed to the buyer (TX-23); the receipt is the buyer's.
    const final = buyer.channel.current(tx.id)
    assert.ok(final?.sealedResultKey !== null && final?.receipt !== null)
  })

  it('lets the seller reject work whose secret does not open the commitment (WORK_DISPUTED)', async () => {
    const buyer = await node()
    const seller = await node()
    const work = lcgBytes(50_000, 3)
    // The buyer committed to one secret and sends another.
    const { tx } = await establish(network, clock, buyer, seller, work, 'ab'.repeat(32))
    const worker = reversingWorker()
    const sell = seller.trade.onEstablished(tx, worker)
    await rejectsWithCode(buyer.trade.runBuyer(tx, work, 'cd'.repeat(32)), TradeCode.WORK_REJECTED)
    const sold = await sell
    assert.equal(worker.jobs, 0)
    for (const n of [buyer, seller]) {
      const t = n.channel.current(tx.id)
      assert.equal(t?.phase, 'WORK_DISPUTED')
      assert.equal(t?.state, 'retired')
      assert.equal(t?.outcome?.result, 'disputed')
      assert.equal(t?.outcome?.disputedBy, 'seller')
      assert.equal(t?.outcome?.debt, null)
      assert.equal((await n.repo.get(tx.id))?.phase, 'WORK_DISPUTED')
    }
    assert.equal(sold.tx.outcome?.reason, 'work-rejected')
  })

  it("tells the buyer its seller's worker failed, not that its work was rejected (issue 12.5)", async () => {
    const buyer = await node()
    const seller = await node()
    const work = lcgBytes(50_000, 4)
    const { tx, secret } = await establish(network, clock, buyer, seller, work)
    const crashing = {
      work: async (): Promise<Uint8Array> => {
        throw new BitwrkError('WORKER_UNREACHABLE', 'worker connection reset')
      }
    }
    const sell = seller.trade.onEstablished(tx, crashing)
    const err = await rejectsWithCode(buyer.trade.runBuyer(tx, work, secret), TradeCode.WORKER_FAILED)
    assert.ok(isBitwrkError(err))
    assert.equal(err.details.remoteCode, TradeCode.WORKER_FAILED)
    const sold = await sell
    assert.ok(isBitwrkError(sold.error, TradeCode.WORKER_FAILED))
    assert.equal(sold.error.details.cause, 'WORKER_UNREACHABLE')
    // the phase machine has one way out of WORKING for the seller: reject-work (TX rules)
    assert.equal(buyer.channel.current(tx.id)?.phase, 'WORK_DISPUTED')
  })

  it('lets the buyer reject a result that fails its check (RESULT_DISPUTED)', async () => {
    const buyer = await node()
    const seller = await node()
    const work = lcgBytes(40_000, 5)
    const { tx, secret } = await establish(network, clock, buyer, seller, work)
    const sell = seller.trade.onEstablished(tx, reversingWorker())
    let checked: Uint8Array | undefined
    await rejectsWithCode(
      buyer.trade.runBuyer(tx, work, secret, {
        resultCheck: (result) => {
          checked = result
          return false
        }
      }),
      TradeCode.RESULT_REJECTED
    )
    // The buyer did decrypt the real result before rejecting it.
    assert.deepEqual(checked, reversed(work))
    const sold = await sell
    assert.equal(sold.tx.phase, 'RESULT_DISPUTED')
    assert.equal(sold.tx.outcome?.disputedBy, 'buyer')
    const stored = await buyer.repo.messages(tx.id)
    assert.match(stored.at(-1)?.message.document ?? '', /msg=reject-result/)
    assert.equal(stored.length, 5)
    assert.equal((await seller.repo.get(tx.id))?.outcome?.reason, 'result-rejected')
  })

  it('rejects a result whose published key is sealed to another key (TRADE_BAD_SEALED_KEY, RESULT_DISPUTED)', async () => {
    const buyer = await node()
    const stranger = Identity.generate((n) => new Uint8Array(randomBytes(n)))
    let resealed = 0
    // A hostile seller: its transmit-finished carries the key sealed to a stranger, well formed
    // and validly signed, so every phase machine accepts it; only the buyer can tell.
    const seller: TradeNode = await node({
      wrapChannel: (channel) =>
        new Proxy(channel, {
          get(target, prop, receiver) {
            if (prop !== 'publish') {
              const v: unknown = Reflect.get(target, prop, receiver)
              return typeof v === 'function' ? v.bind(target) : v
            }
            return (message: TxMessage) => {
              const parsed = parseTxDocument(message.document)
              if (!parsed.ok || parsed.doc.content.kind !== 'transmit-finished')
                return target.publish(message)
              resealed++
              const sealed = sealResultKey(stranger.publicKey, parsed.doc.txid, randomBytes(32), (n) =>
                randomBytes(n)
              )
              return target.publish(
                signTxMessage(seller.identity, parsed.doc.txid, {
                  ...parsed.doc.content,
                  sealedResultKey: Buffer.from(sealed).toString('hex')
                })
              )
            }
          }
        })
    })
    const work = lcgBytes(30_000, 8)
    const { tx, secret } = await establish(network, clock, buyer, seller, work)
    const sell = seller.trade.onEstablished(tx, reversingWorker())
    let checked = false
    const err = await rejectsWithCode(
      buyer.trade.runBuyer(tx, work, secret, {
        resultCheck: () => {
          checked = true
          return true
        }
      }),
      TradeCode.BAD_SEALED_KEY
    )
    assert.equal((err as BitwrkError).details.sealCode, SealCode.MISMATCH)
    assert.equal(resealed, 1)
    assert.equal(checked, false, 'nothing to check without the key')
    const sold = await sell
    for (const t of [sold.tx, buyer.channel.current(tx.id)]) {
      assert.equal(t?.phase, 'RESULT_DISPUTED')
      assert.equal(t?.outcome?.disputedBy, 'buyer')
      assert.equal(t?.outcome?.debt, null)
    }
  })

  it('gives the buyer a typed error when the seller dies mid-transfer; the transaction retires by the rules', async () => {
    const buyer = await node()
    let sellerNode: TradeNode | undefined
    let puts = 0
    let stopping: Promise<void> | undefined
    const killing = (store: ChunkStore): ChunkStore =>
      new Proxy(store, {
        get(target, prop, receiver) {
          // both ways a chunk reaches a store: `put`, and `putVerified` for chunks hashed on arrival
          if (prop === 'put' || prop === 'putVerified')
            return async (...args: unknown[]) => {
              // From the third chunk on, the seller stores nothing more until its host is down:
              // the work can never complete, however fast or slow the machine is.
              if (++puts >= 3) {
                stopping ??= sellerNode?.host.stop()
                await stopping
              }
              const method = Reflect.get(target, prop, receiver) as (...a: unknown[]) => Promise<void>
              return method.apply(target, args)
            }
          const v: unknown = Reflect.get(target, prop, receiver)
          return typeof v === 'function' ? v.bind(target) : v
        }
      })
    const seller = await node({ wrapStore: killing })
    sellerNode = seller
    const work = lcgBytes(2_000_000, 11)
    const { tx, secret } = await establish(network, clock, buyer, seller, work)
    void seller.trade.onEstablished(tx, reversingWorker()).catch(() => {})
    const started = Date.now()
    await rejectsWithCode(buyer.trade.runBuyer(tx, work, secret), TradeCode.SELLER_UNREACHABLE)
    // Far within the per-message timeout and the TRANSMITTING deadline.
    assert.ok(Date.now() - started < 10_000)
    const t = buyer.channel.current(tx.id)
    assert.equal(t?.phase, 'TRANSMITTING')
    assert.equal(t?.state, 'active')
    // At the deadline the buyer's node retires it: not delivered, buyer refunded.
    clock.advance((t?.deadlineMs ?? 0) - clock.now())
    const retired = await buyer.channel.retireDue(tx.id)
    assert.equal(retired?.state, 'retired')
    assert.equal(retired?.outcome?.result, 'buyer-refunded')
    assert.equal(retired?.outcome?.reason, 'not-delivered')
    assert.equal((await buyer.repo.get(tx.id))?.state, 'retired')
  })

  it('sends only the changed chunks of a second, mostly identical work file', async () => {
    const buyer = await node()
    const seller = await node()
    const work1 = lcgBytes(1 << 20, 21)
    const work2 = Uint8Array.from(work1)
    for (let i = 500_000; i < 500_100; i++) work2[i] = (work2[i] ?? 0) ^ 0xff
    const worker = reversingWorker()

    const first = await establish(network, clock, buyer, seller, work1)
    const sell1 = seller.trade.onEstablished(first.tx, worker)
    const r1 = await buyer.trade.runBuyer(first.tx, work1, first.secret)
    await sell1
    assert.equal(r1.stats.workBytesSent, work1.length)

    const second = await establish(network, clock, buyer, seller, work2)
    const sell2 = seller.trade.onEstablished(second.tx, worker)
    const r2 = await buyer.trade.runBuyer(second.tx, work2, second.secret)
    await sell2
    assert.deepEqual(r2.result, reversed(work2))
    assert.ok(r2.stats.workChunksSent >= 1 && r2.stats.workChunksSent <= 3, `sent ${r2.stats.workChunksSent}`)
    assert.ok(r2.stats.workBytesSent < work2.length / 10, `sent ${r2.stats.workBytesSent} bytes`)
    assert.ok(r2.stats.workChunks > 10)
  })

  it('times out at the WORKING deadline when the worker never finishes, and retires not-delivered', async () => {
    const buyer = await node()
    const seller = await node()
    const work = lcgBytes(20_000, 9)
    const { tx, secret } = await establish(network, clock, buyer, seller, work)
    let started!: () => void
    const working = new Promise<void>((r) => {
      started = r
    })
    let workerAborted = false
    const hanging: TradeWorker = {
      work: (_w, { signal }) =>
        new Promise<Uint8Array>((_resolve, reject) => {
          started()
          signal.addEventListener('abort', () => {
            workerAborted = true
            reject(signal.reason)
          })
        })
    }
    const sell = seller.trade.onEstablished(tx, hanging)
    const buying = buyer.trade.runBuyer(tx, work, secret)
    await working
    const t = buyer.channel.current(tx.id)
    assert.equal(t?.phase, 'WORKING')
    // The protocol grants WORKING five minutes (TX-13); jump to its end.
    assert.equal(PHASE_EXTENSION_MS.WORKING, 300_000)
    clock.advance((t?.deadlineMs ?? 0) - clock.now())
    await rejectsWithCode(buying, TradeCode.TIMEOUT)
    const sold = await sell
    assert.ok(workerAborted)
    for (const n of [buyer, seller]) {
      const r = n.channel.current(tx.id)
      assert.equal(r?.state, 'retired')
      assert.equal(r?.outcome?.reason, 'not-delivered')
    }
    assert.equal(sold.tx.state, 'retired')
  })

  it('runs one job per worker and refuses a second sell with the same worker', async () => {
    const buyer = await node()
    const seller = await node()
    const worker = reversingWorker()
    const a = await establish(network, clock, buyer, seller, lcgBytes(1000, 1))
    const b = await establish(network, clock, buyer, seller, lcgBytes(1000, 2))
    const sell = seller.trade.onEstablished(a.tx, worker)
    await rejectsWithCode(seller.trade.onEstablished(b.tx, worker), TradeCode.WORKER_BUSY)
    await rejectsWithCode(seller.trade.onEstablished(a.tx, reversingWorker()), TradeCode.BUSY)
    await buyer.trade.runBuyer(a.tx, lcgBytes(1000, 1), a.secret)
    await sell
    // Free again once the first job ended.
    const sell2 = seller.trade.onEstablished(b.tx, worker)
    await buyer.trade.runBuyer(b.tx, lcgBytes(1000, 2), b.secret)
    assert.equal((await sell2).error, null)
  })

  it('answers a stranger or an unknown transaction with an ERROR and never starts a session', async () => {
    const buyer = await node()
    const seller = await node({ limits: { helloTimeoutMs: 200 } })
    const stranger = await node()
    const work = lcgBytes(1000, 4)
    const { tx } = await establish(network, clock, buyer, seller, work)
    void seller.trade.onEstablished(tx, reversingWorker()).catch(() => {})
    /** Sends HELLO for `txid` from `from` to the seller; returns the code of the ERROR answer. */
    const hello = async (from: TradeNode, txid: string): Promise<string> => {
      const ts = libp2pTradeStream(
        await from.host.libp2p.dialProtocol(seller.host.multiaddrs(), TRADE_PROTOCOL)
      )
      await ts.bytes.write(encodeTradeFrame(TradeMsg.HELLO, hexToBytes(txid)))
      try {
        await readTradeFrame(ts, { timeoutMs: 5000 }, (why) => new Error(why))
        return 'no error'
      } catch (err) {
        assert.ok(isBitwrkError(err, TradeCode.PEER_ERROR))
        return String(err.details.remoteCode)
      } finally {
        ts.bytes.abort()
      }
    }
    // Only the transaction's buyer peer may deliver its work (Noise authenticates the peer).
    assert.equal(await hello(stranger, tx.id), TradeCode.WRONG_PEER)
    assert.equal(await hello(buyer, '00'.repeat(32)), TradeCode.UNKNOWN_TX)
    assert.equal(seller.channel.current(tx.id)?.phase, 'TRANSMITTING')
  })

  it('refuses a peer that used up its invalid-request budget, and still trades with the buyer (TRADE-16)', async () => {
    const buyer = await node()
    const seller = await node({ limits: { helloTimeoutMs: 5000, invalidRequestBudget: 2 } })
    const stranger = await node()
    const work = lcgBytes(1000, 9)
    const { tx, secret } = await establish(network, clock, buyer, seller, work)
    const sold = seller.trade.onEstablished(tx, reversingWorker())
    const hello = (from: TradeNode, txid: string): Promise<string> => helloAnswer(from, seller, txid)
    const unknown = '11'.repeat(32)
    assert.equal(await hello(stranger, unknown), TradeCode.UNKNOWN_TX)
    assert.equal(await hello(stranger, tx.id), TradeCode.WRONG_PEER)
    assert.equal(seller.trade.isRefused(stranger.host.peerId), false, 'two are within a budget of 2')
    assert.equal(await hello(stranger, unknown), TradeCode.UNKNOWN_TX)
    assert.equal(seller.trade.isRefused(stranger.host.peerId), true)
    // refused from now on: reset before the seller reads anything, not even the registration wait
    assert.equal(await hello(stranger, tx.id), 'reset')
    assert.equal(seller.channel.current(tx.id)?.phase, 'TRANSMITTING')
    // the buyer's budget is untouched and its trade goes through
    assert.equal(seller.trade.isRefused(buyer.host.peerId), false)
    const r = await buyer.trade.runBuyer(tx, work, secret)
    assert.deepEqual(r.result, reversed(work))
    await sold
  })

  it('forgives invalid requests older than the budget window: an honest peer is not refused for good (issue 12.7)', async () => {
    // unknown transactions are answered at once (TRADE-16); a generous HELLO deadline keeps a
    // loaded machine's slow dial from turning an answer into a timeout
    const seller = await node({ limits: { helloTimeoutMs: 5000, invalidRequestBudget: 2 } })
    const peer = await node()
    const hello = (): Promise<string> => helloAnswer(peer, seller, '22'.repeat(32))
    // a HELLO that raced a retirement, now and then over a long life: never refused
    for (let i = 0; i < 6; i++) {
      assert.equal(await hello(), TradeCode.UNKNOWN_TX, `slip ${i + 1}`)
      assert.equal(seller.trade.isRefused(peer.host.peerId), false)
      clock.advance(INVALID_REQUEST_WINDOW_MS / 2)
    }
    // three within one window are over a budget of 2; served again once the window passed
    clock.advance(INVALID_REQUEST_WINDOW_MS)
    for (let i = 0; i < 3; i++) assert.equal(await hello(), TradeCode.UNKNOWN_TX)
    assert.equal(seller.trade.isRefused(peer.host.peerId), true)
    assert.equal(await hello(), 'reset')
    clock.advance(INVALID_REQUEST_WINDOW_MS)
    assert.equal(seller.trade.isRefused(peer.host.peerId), false)
    assert.equal(await hello(), TradeCode.UNKNOWN_TX)
  })

  it('reports TRADE_SELLER_UNREACHABLE when the seller cannot be dialled', async () => {
    const buyer = await node({ limits: { dialAttempts: 2 } })
    const seller = await node()
    const work = lcgBytes(1000, 6)
    const { tx, secret } = await establish(network, clock, buyer, seller, work)
    await seller.stop()
    await rejectsWithCode(buyer.trade.runBuyer(tx, work, secret), TradeCode.SELLER_UNREACHABLE)
    assert.equal(buyer.channel.current(tx.id)?.state, 'active')
  })

  it('aborts running buys and sells on stop(), which is idempotent, and on the caller signal', async () => {
    const buyer = await node()
    const seller = await node()
    const work = lcgBytes(5000, 8)
    const { tx, secret } = await establish(network, clock, buyer, seller, work)
    let started!: () => void
    const working = new Promise<void>((r) => {
      started = r
    })
    const hanging: TradeWorker = {
      work: (_w, { signal }) =>
        new Promise<Uint8Array>((_resolve, reject) => {
          started()
          signal.addEventListener('abort', () => reject(signal.reason))
        })
    }
    const sell = seller.trade.onEstablished(tx, hanging)
    const ctl = new AbortController()
    const buying = buyer.trade.runBuyer(tx, work, secret, { signal: ctl.signal })
    await working
    ctl.abort()
    await rejectsWithCode(buying, TradeCode.ABORTED)
    await Promise.all([seller.trade.stop(), seller.trade.stop()])
    const sold = await sell
    assert.ok(isBitwrkError(sold.error, TradeCode.ABORTED))
    // Nothing was published by the aborts: the transaction waits for its deadline.
    assert.equal(seller.channel.current(tx.id)?.phase, 'WORKING')
    await rejectsWithCode(seller.trade.runBuyer(tx, work, secret), TradeCode.ABORTED)
  })
})
