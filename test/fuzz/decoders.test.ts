import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  encodeHave,
  encodeHaveReply,
  encodeManifestGet,
  QueryType
} from '../../cafs/adapters/libp2p/index.js'
import { decodeHave, decodeHaveReply, decodeManifestGet } from '../../cafs/adapters/libp2p/wire.js'
import { CafsCode } from '../../cafs/errors.js'
import { decodeManifest, encodeManifest, manifestOfBytes } from '../../cafs/manifest.js'
import { DEFAULT_LIMITS, XferCode } from '../../cafs/transfer/index.js'
import {
  decodeMessage,
  encodeAck,
  encodeChunks,
  encodeDone,
  encodeError,
  encodeGet,
  encodeMissing,
  encodeOffer,
  encodeWant
} from '../../cafs/transfer/messages.js'
import { BlenderCode, decodeBlenderWork, encodeBlenderWork } from '../../node/blender/index.js'
import {
  DemoCode,
  decodePng,
  decodeWork,
  defaultScene,
  encodePng,
  encodeWork
} from '../../node/demo/index.js'
import {
  DEFAULT_SYNC_LIMITS,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  SyncCode
} from '../../node/sync/index.js'
import { TradeCode } from '../../node/trade/errors.js'
import { decodeTradeFrame, encodeTradeError, encodeTradeFrame, TradeMsg } from '../../node/trade/wire.js'
import { ArticleCode, parseArticle } from '../../protocol/article/index.js'
import { decodeCancelBytes } from '../../protocol/bid/cancel.js'
import { decodeBidBytes } from '../../protocol/bid/document.js'
import {
  BidCode,
  encodeSigned,
  signBid,
  signCancel,
  validateBid,
  validateCancel
} from '../../protocol/bid/index.js'
import {
  decodeAddress,
  decodeCompactSignature,
  decodeWif,
  Identity,
  IdentityCode
} from '../../protocol/identity/index.js'
import { MoneyCode, money, parseMoney } from '../../protocol/money/index.js'
import { decodeEquivocation, encodeEquivocation, ReputationCode } from '../../protocol/reputation/index.js'
import {
  decodeTxMessage,
  encodeTxMessage,
  parseTxDocument,
  signTxMessage,
  TxCode,
  transactionId
} from '../../protocol/transaction/index.js'
import { codesOf, FUZZ, hostileBytes, hostileText, outcome, Tally } from './helpers.js'

/** Fixed keys and times: the seeds are the same on every run (fast-check seeds the rest). */
const ALICE = Identity.fromPrivateKey(new Uint8Array(32).fill(2), true)
const BOB = Identity.fromPrivateKey(new Uint8Array(32).fill(3), true)
const T0 = 1_700_000_000_000
const ARTICLE = 'net.bitwrk/gorays/0'
const NONCE = '0123456789abcdef0123456789abcdef'
const bid = (who: Identity, type: 'BUY' | 'SELL', sat: bigint, nonce = NONCE) =>
  signBid(who, {
    article: ARTICLE,
    type,
    price: money('BTC', sat),
    nonce,
    createdMs: T0,
    expiresMs: T0 + 60_000
  })
const BIDS = [bid(ALICE, 'BUY', 1000n), bid(BOB, 'SELL', 900n)]
const BID_BYTES = BIDS.map(encodeSigned)
const CANCEL_BYTES = [
  encodeSigned(signCancel(ALICE, { bidId: (BIDS[0] as { id: string }).id, createdMs: T0 + 10 }))
]
const TXID = transactionId((BIDS[0] as { id: string }).id, (BIDS[1] as { id: string }).id)
const TX_MESSAGES = [
  signTxMessage(ALICE, TXID, {
    kind: 'establish-buyer',
    workHash: 'a'.repeat(64),
    workSecretHash: 'b'.repeat(64)
  }),
  signTxMessage(BOB, TXID, {
    kind: 'establish-seller',
    peerId: BOB.peerId,
    addrs: ['/ip4/127.0.0.1/tcp/4001']
  })
].map(encodeTxMessage)
const EQUIVOCATION = [
  encodeEquivocation({
    case: 'nonce-reuse',
    participant: ALICE.address,
    a: {
      document: (BIDS[0] as { document: string }).document,
      signature: (BIDS[0] as { signature: string }).signature
    },
    b: (() => {
      const b = bid(ALICE, 'BUY', 2000n)
      return { document: b.document, signature: b.signature }
    })()
  })
]
const FILE = manifestOfBytes(new Uint8Array(300_000).map((_, i) => (i * 7919) % 251))
const MANIFESTS = [encodeManifest(FILE), encodeManifest(manifestOfBytes(new Uint8Array(10)))]
const KEY = FILE.chunks[0]?.key as Uint8Array

describe('hostile input: decoders', () => {
  it('bid wire bytes: decode and validate return a BID_* code or a bid, never throw', () => {
    const codes = codesOf(BidCode)
    const t = new Tally()
    fc.assert(
      fc.property(hostileBytes(BID_BYTES, 600), (b) => {
        const d = decodeBidBytes(b)
        if (typeof d === 'string') assert.ok(codes.has(d), d)
        const v = validateBid(b, { nowMs: T0 + 1000, maxClockSkewMs: 2000, lateCutoffMs: 1250 })
        if (v.result !== 'accept') assert.ok(codes.has(v.code), v.code)
        t.add(v.result === 'accept' ? 'ok' : v.code)
      }),
      FUZZ
    )
    assert.ok(t.codes() >= 5 && (t.counts.get('ok') ?? 0) > 0, t.toString())
  })

  it('cancel wire bytes: decode and validate return a BID_* code or a cancel, never throw', () => {
    const codes = codesOf(BidCode)
    const t = new Tally()
    fc.assert(
      fc.property(hostileBytes(CANCEL_BYTES, 400), (b) => {
        const d = decodeCancelBytes(b)
        if (typeof d === 'string') assert.ok(codes.has(d), d)
        const v = validateCancel(b, { nowMs: T0 + 1000, maxClockSkewMs: 2000 })
        if (v.result !== 'accept') assert.ok(codes.has(v.code), v.code)
        t.add(v.result === 'accept' ? 'ok' : v.code)
      }),
      FUZZ
    )
    assert.ok(t.codes() >= 3, t.toString())
  })

  it('transaction messages: decode throws TX_*, the document parser returns a TX_* code', () => {
    const codes = codesOf(TxCode)
    const t = new Tally()
    fc.assert(
      fc.property(hostileBytes(TX_MESSAGES, 400), (b) => {
        let doc: string | undefined
        const o = outcome(
          () => {
            doc = decodeTxMessage(b).document
          },
          codes,
          'decodeTxMessage'
        )
        if (doc !== undefined) {
          const p = parseTxDocument(doc)
          if (!p.ok) assert.ok(codes.has(p.code), p.code)
          t.add(p.ok ? 'ok' : p.code)
        } else t.add(o)
      }),
      FUZZ
    )
    assert.ok(t.codes() >= 3, t.toString())
  })

  it('equivocation proofs: decode returns a REP_* code or a proof', () => {
    const codes = codesOf(ReputationCode)
    const t = new Tally()
    fc.assert(
      fc.property(hostileBytes(EQUIVOCATION, 400), (b) => {
        const d = decodeEquivocation(b)
        if (!d.ok) assert.ok(codes.has(d.code), d.code)
        t.add(d.ok ? 'ok' : d.code)
      }),
      FUZZ
    )
    assert.ok(t.codes() >= 2, t.toString())
  })

  it('manifests (bwmf): decode throws CAFS_* codes only', () => {
    const codes = codesOf(CafsCode)
    const t = new Tally()
    fc.assert(
      fc.property(hostileBytes(MANIFESTS), (b) => {
        t.add(outcome(() => decodeManifest(b), codes, 'decodeManifest'))
      }),
      FUZZ
    )
    assert.ok(t.codes() >= 2, t.toString())
  })

  it('transfer messages (chunk sessions): decode throws CAFS_XFER_* codes only', () => {
    const codes = codesOf(XferCode)
    const seeds = [
      encodeOffer(FILE),
      encodeWant([{ start: 0, end: 2 }]),
      encodeChunks([{ index: 1, bytes: new Uint8Array(40) }]),
      encodeDone(),
      encodeAck(FILE.fileKey),
      encodeGet([KEY, FILE.fileKey]),
      encodeMissing([0, 3]),
      encodeError('CAFS_XFER_BAD_MESSAGE')
    ]
    const t = new Tally()
    fc.assert(
      fc.property(hostileBytes(seeds), fc.integer({ min: 0, max: 10 }), (b, chunkCount) => {
        t.add(outcome(() => decodeMessage(b, { limits: DEFAULT_LIMITS, chunkCount }), codes, 'decodeMessage'))
      }),
      FUZZ
    )
    assert.ok(t.codes() >= 3, t.toString())
  })

  it('chunk queries (HAVE, HAVE_REPLY, MANIFEST_GET): decode throws CAFS_XFER_* codes only', () => {
    const codes = codesOf(XferCode)
    const seeds = [
      encodeHave([KEY, FILE.fileKey]),
      encodeHaveReply([true, false, true]),
      encodeManifestGet(FILE.fileKey)
    ]
    const t = new Tally()
    fc.assert(
      fc.property(hostileBytes(seeds), (b) => {
        const type = b[0]
        const fn =
          type === QueryType.HAVE
            ? () => decodeHave(b, 64)
            : type === QueryType.HAVE_REPLY
              ? () => decodeHaveReply(b, 3)
              : () => decodeManifestGet(b)
        t.add(outcome(fn, codes, 'chunk query'))
      }),
      FUZZ
    )
    assert.ok(t.codes() >= 2, t.toString())
  })

  it('sync requests and responses: decode throws SYNC_* codes only', () => {
    const codes = codesOf(SyncCode)
    const id = new Uint8Array(32).fill(9)
    const requests = [
      encodeRequest({ type: 'summaryReq', article: ARTICLE, bits: 2 }),
      encodeRequest({ type: 'getBuckets', buckets: [0, 3] }),
      encodeRequest({ type: 'getIds', buckets: [1] }),
      encodeRequest({ type: 'getBids', ids: [id] }),
      encodeRequest({ type: 'getSnapshot', key: `${ARTICLE}:BTC` })
    ]
    const responses = [
      encodeResponse({ type: 'summary', bits: 1, total: 3, counts: [1, 2], digests: new Uint8Array(32) }),
      encodeResponse({ type: 'bids', bids: BID_BYTES }),
      encodeResponse({ type: 'ids', ids: [id] }),
      encodeResponse({ type: 'done' }),
      encodeResponse({ type: 'snapshot', header: { closedEpoch: 4, digest: id, count: 1 } }),
      encodeResponse({ type: 'error', code: 'SYNC_BAD_REQUEST' })
    ]
    const t = new Tally()
    fc.assert(
      fc.property(hostileBytes([...requests, ...responses], 600), (b) => {
        t.add(outcome(() => decodeRequest(b, DEFAULT_SYNC_LIMITS), codes, 'decodeRequest'))
        t.add(outcome(() => decodeResponse(b, DEFAULT_SYNC_LIMITS), codes, 'decodeResponse'))
      }),
      FUZZ
    )
    assert.ok(t.codes() >= 2, t.toString())
  })

  it('trade frames: decode throws TRADE_* codes only', () => {
    const codes = codesOf(TradeCode)
    const seeds = [
      encodeTradeFrame(TradeMsg.HELLO, new Uint8Array(32).fill(1)),
      encodeTradeFrame(TradeMsg.READY),
      encodeTradeFrame(TradeMsg.SECRET, new Uint8Array(32).fill(2)),
      encodeTradeFrame(
        TradeMsg.RECEIPT,
        new TextEncoder().encode((BIDS[0] as { signature: string }).signature)
      ),
      encodeTradeError('TRADE_BUSY')
    ].map((f) => f.subarray(1))
    const t = new Tally()
    fc.assert(
      fc.property(hostileBytes(seeds, 140), (b) => {
        t.add(outcome(() => decodeTradeFrame(b), codes, 'decodeTradeFrame'))
      }),
      FUZZ
    )
    assert.ok(t.codes() >= 2, t.toString())
  })

  it('PNG results and demo work: decode throws DEMO_* codes only', () => {
    const codes = codesOf(DemoCode)
    const img = { width: 4, height: 3, data: new Uint8Array(48).map((_, i) => i * 5) }
    const png = [encodePng(img), encodePng({ width: 1, height: 1, data: new Uint8Array(4) })]
    const work = [
      encodeWork({ scene: defaultScene(), width: 8, height: 4, tile: { x: 0, y: 0, w: 4, h: 4 }, samples: 1 })
    ]
    const t = new Tally()
    fc.assert(
      fc.property(hostileBytes(png), hostileBytes(work, 64), (p, w) => {
        t.add(outcome(() => decodePng(p), codes, 'decodePng'))
        t.add(outcome(() => decodeWork(w), codes, 'decodeWork'))
      }),
      FUZZ
    )
    assert.ok(t.codes() >= 3, t.toString())
  })

  it('Blender work (tagged stream): decode throws BLENDER_* codes only', () => {
    const codes = codesOf(BlenderCode)
    const blend = new Uint8Array(Buffer.from('BLENDER-v304REND\0\0\0\0'))
    const work = [
      encodeBlenderWork({ xmin: 0, ymin: 0, xmax: 2, ymax: 1, frame: 1, blend }),
      encodeBlenderWork({ xmin: 40, ymin: 30, xmax: 120, ymax: 90, frame: -5, blend })
    ]
    const t = new Tally()
    fc.assert(
      fc.property(hostileBytes(work, 128), (w) => {
        t.add(outcome(() => decodeBlenderWork(w), codes, 'decodeBlenderWork'))
      }),
      FUZZ
    )
    assert.ok(t.codes() >= 4, t.toString())
  })

  it('a garbage table (empty, NUL, 0xff, huge, doubled and CRLF-terminated encodings) gets documented codes from every byte decoder', () => {
    const good = [
      BID_BYTES[0],
      CANCEL_BYTES[0],
      TX_MESSAGES[0],
      EQUIVOCATION[0],
      MANIFESTS[0]
    ] as Uint8Array[]
    const garbage: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.of(0),
      new Uint8Array(64).fill(0xff),
      new Uint8Array(1 << 20).fill(0x41),
      new Uint8Array(70_000),
      ...good.flatMap((g) => [
        new Uint8Array(Buffer.concat([g, g])),
        new Uint8Array(Buffer.concat([g, Buffer.from('\r\n')])),
        new Uint8Array(Buffer.concat([g, Uint8Array.of(0)])),
        g.subarray(0, g.length - 1)
      ])
    ]
    const decoders: [string, ReadonlySet<string>, (b: Uint8Array) => unknown][] = [
      ['bid', codesOf(BidCode), (b) => decodeBidBytes(b)],
      ['cancel', codesOf(BidCode), (b) => decodeCancelBytes(b)],
      ['tx', codesOf(TxCode), (b) => decodeTxMessage(b)],
      ['manifest', codesOf(CafsCode), (b) => decodeManifest(b)],
      ['transfer', codesOf(XferCode), (b) => decodeMessage(b, { limits: DEFAULT_LIMITS, chunkCount: 3 })],
      ['have', codesOf(XferCode), (b) => decodeHave(b, 64)],
      ['sync request', codesOf(SyncCode), (b) => decodeRequest(b, DEFAULT_SYNC_LIMITS)],
      ['sync response', codesOf(SyncCode), (b) => decodeResponse(b, DEFAULT_SYNC_LIMITS)],
      ['trade', codesOf(TradeCode), (b) => decodeTradeFrame(b)],
      ['png', codesOf(DemoCode), (b) => decodePng(b)],
      ['work', codesOf(DemoCode), (b) => decodeWork(b)],
      ['blender work', codesOf(BlenderCode), (b) => decodeBlenderWork(b)]
    ]
    for (const [name, codes, fn] of decoders)
      for (const [i, g] of garbage.entries()) {
        let returned: unknown
        let o = outcome(
          () => {
            returned = fn(g)
          },
          codes,
          `${name} garbage #${i}`
        )
        // the bid and cancel decoders return their code instead of throwing it
        if (typeof returned === 'string') {
          assert.ok(codes.has(returned), `${name} garbage #${i}: undocumented ${returned}`)
          o = returned
        }
        // the empty, huge and all-0xff inputs are never a valid encoding of anything
        if (i < 4) assert.notEqual(o, 'ok', `${name} accepted garbage #${i}`)
      }
    for (const g of garbage) {
      const d = decodeEquivocation(g)
      if (!d.ok) assert.ok(codesOf(ReputationCode).has(d.code))
      const v = validateBid(g, { nowMs: T0 + 1000, maxClockSkewMs: 2000 })
      if (v.result !== 'accept') assert.ok(codesOf(BidCode).has(v.code))
    }
  })

  it('money, address, WIF, signature and article text: parse throws its module codes only', () => {
    const money = codesOf(MoneyCode)
    const identity = codesOf(IdentityCode)
    const article = codesOf(ArticleCode)
    const sig = (BIDS[0] as { signature: string }).signature
    const seeds = ['mBTC 1', 'BTC 0.00000001', 'uBTC 12.5', ALICE.address, ALICE.toWif(), sig, ARTICLE]
    const t = new Tally()
    fc.assert(
      fc.property(hostileText(seeds), (s) => {
        t.add(outcome(() => parseMoney(s), money, 'parseMoney'))
        t.add(outcome(() => decodeAddress(s), identity, 'decodeAddress'))
        t.add(outcome(() => decodeWif(s), identity, 'decodeWif'))
        t.add(outcome(() => parseArticle(s), article, 'parseArticle'))
        // returns undefined for anything but a canonical 65-byte compact signature
        decodeCompactSignature(s)
      }),
      FUZZ
    )
    assert.ok(t.codes() >= 4, t.toString())
  })
})
