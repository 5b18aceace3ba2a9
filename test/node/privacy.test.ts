import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import { hexToBytes } from '@noble/hashes/utils.js'
import { PeerChunkSource, queryHave, queryManifest } from '../../cafs/adapters/libp2p/index.js'
import { importStream } from '../../cafs/stream.js'
import { resolveLimits } from '../../cafs/transfer/index.js'
import type { Manifest } from '../../cafs/types.js'
import type { BitwrkNode } from '../../node/index.js'
import { buyWork } from '../../node/market/buy.js'
import { waitFor } from '../../node/testing.js'
import { decryptResult } from '../../node/trade/crypto.js'
import type { TradeWorker } from '../../node/trade/index.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { openResultKey, SealCode, type Transaction } from '../../protocol/transaction/index.js'
import { random } from './market/helpers.js'
import { buyOptions, Nodes, readAll, type TradingNode } from './reputation/helpers.js'

/** What a peer gets for `keys` over `/bitwrk/chunk/1.0.0`: the bytes, or undefined when missing. */
async function getChunks(
  from: BitwrkNode,
  to: BitwrkNode,
  keys: Uint8Array[]
): Promise<(Uint8Array | undefined)[]> {
  const source = new PeerChunkSource(from.host.libp2p, peerIdFromString(to.peerId), resolveLimits())
  const out: (Uint8Array | undefined)[] = []
  try {
    for await (const c of source.fetch(keys, { signal: AbortSignal.timeout(10_000) }))
      out[c.index] = 'bytes' in c ? c.bytes : undefined
  } finally {
    await source.close()
  }
  return out
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** The bytes of the chunk `key` of `manifest` over `file`. */
function readChunk(file: Uint8Array, manifest: Manifest, key: Uint8Array): Uint8Array {
  let at = 0
  for (const c of manifest.chunks) {
    if (Buffer.compare(c.key, key) === 0) return file.subarray(at, at + c.size)
    at += c.size
  }
  throw new Error('no such chunk')
}

describe('node/privacy (issue 11 finding 3)', function () {
  this.timeout(40_000)
  const nodes = new Nodes()
  afterEach(() => nodes.stop())

  /** Buyer, seller (with `worker`) and a stranger with a fresh identity, all connected, the offer in the buyer's book. */
  async function market(
    worker?: TradeWorker
  ): Promise<{ buyer: TradingNode; seller: TradingNode; stranger: BitwrkNode }> {
    const { buyer, seller, third } = await nodes.trio(worker)
    return { buyer, seller, stranger: third }
  }

  it('keeps a small job from a stranger that follows the transaction topic: no work, no ciphertext, no key', async () => {
    const { buyer, seller, stranger } = await market()
    // The stranger audits every transaction it sees on the topic (as any node does).
    const audited = new Map<string, Transaction>()
    stranger.market.addEventListener('tx:phase', (e) => {
      if (e.detail.own === null) audited.set(e.detail.txid, e.detail.tx)
    })
    // 8 KiB: below the 16 KiB minimum chunk (CAFS-1), so the file key is the one chunk's key.
    const work = random(8192)
    const r = await buyWork(buyOptions(buyer, await importStream([work], buyer.node.chunks)))
    const txid = r.tx.id
    await waitFor(() => audited.get(txid)?.receipt != null, {
      timeoutMs: 10_000,
      what: 'transmit-finished at the stranger'
    })
    const seen = audited.get(txid) as Transaction
    assert.equal(seen.workHash, sha256(work), 'the stranger learns the work hash from establish-buyer')
    const encHash = seen.receipt?.encResultHash as string
    const keys = [hexToBytes(seen.workHash as string), hexToBytes(encHash)]

    for (const party of [buyer.node, seller.node]) {
      const got = await getChunks(stranger, party, keys)
      assert.deepEqual(got, [undefined, undefined], 'a stranger gets no chunk of the transaction')
      const held = await queryHave(
        stranger.host.libp2p,
        peerIdFromString(party.peerId),
        keys,
        resolveLimits(),
        {
          signal: AbortSignal.timeout(10_000)
        }
      )
      assert.deepEqual(held, [false, false], 'nor learns that the party holds them')
      for (const k of keys) {
        const m = await queryManifest(
          stranger.host.libp2p,
          peerIdFromString(party.peerId),
          k,
          resolveLimits(),
          {
            signal: AbortSignal.timeout(10_000)
          }
        )
        assert.equal(m, undefined, 'nor a manifest')
      }
    }
    // The published key is sealed to the buyer (TX-23): the stranger's key does not open it.
    const sealed = hexToBytes(seen.sealedResultKey as string)
    assert.throws(
      () => openResultKey(stranger.identity.privateKey, txid, sealed),
      (err: unknown) => isBitwrkError(err, SealCode.MISMATCH)
    )
    // The buyer's does, and it decrypts the ciphertext the buyer holds.
    const key = openResultKey(buyer.node.identity.privateKey, txid, sealed)
    const ciphertext = await readAll(buyer.node.chunks, {
      fileKey: hexToBytes(encHash),
      size: work.length,
      chunks: [{ key: hexToBytes(encHash), size: work.length }]
    })
    assert.deepEqual(decryptResult(key, ciphertext), Uint8Array.from(work).reverse())
  })

  it("serves a transaction's files to its counterparty while it runs, to nobody else, and to nobody once it retired", async () => {
    let reached: () => void = () => {}
    const working = new Promise<void>((r) => {
      reached = r
    })
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    // A worker that holds the transaction in WORKING until the test has looked (or the sell is given up).
    const held = {
      work: async (w: Uint8Array, { signal }: { signal: AbortSignal }) => {
        reached()
        await Promise.race([gate, new Promise((_r, reject) => signal.addEventListener('abort', reject))])
        return Uint8Array.from(w).reverse()
      }
    }
    const { buyer, seller, stranger } = await market(held)
    // 400 kB: several chunks, so the grant covers chunk keys that differ from the file key.
    const work = random(400_000)
    const manifest = await importStream([work], buyer.node.chunks)
    assert.ok(manifest.chunks.length > 1)
    const keys = manifest.chunks.map((c) => c.key)
    const bought = buyWork(buyOptions(buyer, manifest))
    bought.catch(() => {})
    try {
      await Promise.race([working, bought])
      // WORKING: each party holds the work and grants it to the other, and only to it.
      const chunks = manifest.chunks.map((c) => readChunk(work, manifest, c.key))
      assert.deepEqual(await getChunks(buyer.node, seller.node, keys), chunks)
      assert.deepEqual(await getChunks(seller.node, buyer.node, keys), chunks)
      for (const party of [buyer.node, seller.node])
        assert.deepEqual(
          await getChunks(stranger, party, keys),
          keys.map(() => undefined)
        )
    } finally {
      release()
    }
    const r = await bought
    await waitFor(() => seller.node.files.size() === 0 && buyer.node.files.size() === 0, {
      timeoutMs: 10_000,
      what: 'grants revoked at retirement'
    })
    const encHash = hexToBytes(r.tx.receipt?.encResultHash as string)
    assert.deepEqual(
      await getChunks(buyer.node, seller.node, [encHash, ...keys]),
      [encHash, ...keys].map(() => undefined)
    )
  })
})
