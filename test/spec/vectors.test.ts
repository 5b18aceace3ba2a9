import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { encodeHave, encodeHaveReply, encodeManifestGet } from '../../cafs/adapters/libp2p/index.js'
import { CHUNK_PARAMS, chunkBytes } from '../../cafs/chunker.js'
import { encodeManifest, manifestKey, manifestOfBytes } from '../../cafs/manifest.js'
import {
  DEFAULT_LIMITS,
  encodeError,
  encodeFrame,
  encodeMissing,
  encodeVarint,
  encodeWant,
  rangesFromIndices
} from '../../cafs/transfer/index.js'
import {
  blenderTiles,
  encodeBlenderWork,
  isBlenderArticle,
  parseBlenderArticle
} from '../../node/blender/index.js'
import { bidTopic, messageId, parseTopic, txTopic } from '../../node/gossip/index.js'
import { BookCode, createHost, GossipCode } from '../../node/index.js'
import { bucketDigest, encodeRequest, encodeResponse } from '../../node/sync/index.js'
import { randomPrivateKey } from '../../node/testing.js'
import { validateBid, validateCancel } from '../../protocol/bid/index.js'
import {
  bitcoinVarint,
  Identity,
  messageDigest,
  signMessage,
  verifyMessage
} from '../../protocol/identity/index.js'
import {
  DEFAULT_EPOCH_PARAMS,
  epochClosesAtMs,
  type MatchableBid,
  OrderBook
} from '../../protocol/matching/index.js'
import { formatMoney, parseMoney } from '../../protocol/money/index.js'
import {
  ESTABLISH_TIMEOUT_MS,
  parseTxDocument,
  renderTxDocument,
  transactionId
} from '../../protocol/transaction/index.js'
import { lcgBytes } from '../cafs/helpers.js'
import { SELLER, TXID } from '../transaction/helpers.js'

/**
 * Conformance: the vectors of protocol/spec/*.md are read from the markdown and checked against
 * the code, so that the spec cannot drift from the node (issue 12.20). Each `describe` names the
 * spec file and section it reads. Coverage:
 *
 * | spec file          | vectors read from the markdown here                                   |
 * | ------------------ | --------------------------------------------------------------------- |
 * | sync.md            | V1 … V8, D1, D2 (every row; each length prefix)                       |
 * | transactions.md    | establish-seller with no multiaddrs (TX-5); TX-23 in seal.test.ts     |
 * | gossip.md          | GOSSIP-1 topics and non-topics, GOSSIP-2 message ids, protocols, codes |
 * | cafs.md            | CAFS-1 parameters (table, reference code), LCG and zero-bytes vectors |
 * | cafs-transfer.md   | XFER-2 varints, the wishlist vector, maxManifestBytes                 |
 * | chunk-exchange.md  | every frame of Test vectors, maxManifestBytes                         |
 * | market.md          | the match's time, txid and establish deadline; MARKET-3 code          |
 * | matching.md        | bid ids, both epoch digests, the first match                          |
 * | money.md           | Parse → amount, Rejected (code), Parse → format                       |
 * | bids.md            | BID-V1 … BID-V4 (acceptance, ids, signatures)                         |
 * | identity.md        | ID-V2 digests and varints                                             |
 * | blender-article.md | the work vector (hex, SHA-256), the tiling and the article vectors     |
 *
 * Not yet read from the markdown (checked by hand-copied fixtures elsewhere, or not at all):
 * articles.md, cafs.md's other vectors (CAFS-2, -5, -7, -10: test/cafs), demo-article.md, local-api.md, reputation.md, trade.md vectors; bids.md
 * BID-V5 and vector C; identity.md ID-V1 and later; transactions.md original vectors D and the
 * other bitwrk-node documents; market.md live digest; money.md JSON strings; the cafs-transfer.md
 * byte-level example; sync.md's bucket example line.
 */

/** The text of protocol/spec/<name>. */
function spec(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../../../protocol/spec/${name}`, import.meta.url)), 'utf8')
}

/** The text from `heading` to the next heading of the same or a higher level. */
function section(text: string, heading: string): string {
  const at = text.indexOf(heading)
  assert.ok(at >= 0, `the spec has the section ${heading}`)
  const level = /^#+/.exec(heading)?.[0] ?? '##'
  const rest = text.slice(at + heading.length)
  const end = rest.search(new RegExp(`\\n#{1,${level.length}} `))
  return end < 0 ? rest : rest.slice(0, end)
}

/** The rows of the first markdown table in `text`, each as its trimmed cells (header and rule dropped). */
function tableRows(text: string): string[][] {
  const lines = text.split('\n').filter((l) => l.trim().startsWith('|'))
  return lines.slice(2).map((l) =>
    l
      .trim()
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim())
  )
}

/** The contents of every `code span` in `cell`, in order. */
function codeSpans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]*)`/g)].map((m) => m[1] as string)
}

/**
 * Expands the spec's abbreviation of a run of equal bytes: `abab…ab` with "(n × `ab`)" in the
 * same cell stands for n bytes `ab` (the run is written as two bytes, an ellipsis and one byte).
 */
function expandHex(hex: string, cell: string): string {
  if (!hex.includes('…')) return hex
  const n = /\((\d+) × `([0-9a-f]{2})`\)/.exec(cell)
  assert.ok(n !== null, `an abbreviated vector names its run length: ${cell}`)
  const b = n[2] as string
  const run = `${b}${b}…${b}`
  assert.ok(hex.includes(run), `the run ${run} is in ${hex}`)
  return hex.replace(run, b.repeat(Number(n[1])))
}

const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const ID = (b: number): Uint8Array => new Uint8Array(32).fill(b)
/** SHA-256 of the ASCII/UTF-8 text. */
const sha = (s: string): Uint8Array => new Uint8Array(createHash('sha256').update(s).digest())
/** Lower-case hex of {@link sha}: the spec's bid ids of labels. */
const h = (s: string): string => hexOf(sha(s))

describe('spec conformance: every vector of protocol/spec/*.md against the code', () => {
  describe('sync.md, Test vectors (SYNC-2, SYNC-4)', () => {
    const frame = (body: Uint8Array): string => hexOf(encodeFrame(body))
    const summaryDigests = new Uint8Array(32)
    summaryDigests.set(bucketDigest([ID(0)]), 16)
    // what the codec produces for each row's message; the row's text says which message it is
    const code: Record<string, string[]> = {
      V1: [frame(encodeRequest({ type: 'summaryReq', article: 'net.bitwrk/gorays/0', bits: 0 }))],
      V2: [frame(encodeRequest({ type: 'getBuckets', buckets: [0, 5] }))],
      V3: [frame(encodeRequest({ type: 'getBids', ids: [ID(1)] }))],
      V4: [
        frame(encodeResponse({ type: 'summary', bits: 1, total: 1, counts: [0, 1], digests: summaryDigests }))
      ],
      V5: [frame(encodeResponse({ type: 'bids', bids: [Uint8Array.of(0x61, 0x0a, 0x62)] }))],
      V6: [
        frame(
          encodeResponse({
            type: 'snapshot',
            header: { closedEpoch: 1764000000, digest: ID(0xab), count: 2 }
          })
        )
      ],
      V7: [frame(encodeResponse({ type: 'error', code: 'SYNC_BAD_REQUEST' }))],
      V8: [
        frame(encodeResponse({ type: 'done' })),
        frame(encodeResponse({ type: 'snapshot', header: undefined }))
      ],
      D1: [hexOf(bucketDigest([ID(0)]))],
      D2: [hexOf(bucketDigest([ID(0), ID(1)]))]
    }
    const rows = tableRows(section(spec('sync.md'), '## Test vectors'))

    it('lists exactly the vectors this test checks', () => {
      assert.deepEqual(
        rows.map((r) => r[0]),
        Object.keys(code)
      )
    })

    for (const [id, , cell] of rows)
      it(`${id}: the spec's bytes are the codec's`, () => {
        const want = code[id as string]
        assert.ok(want !== undefined, `vector ${id} is checked`)
        const spans = codeSpans(cell as string).filter((s) => /^[0-9a-f…]+$/.test(s) && s.length > 2)
        assert.deepEqual(
          spans.map((s) => expandHex(s, cell as string)),
          want
        )
      })

    it('a length prefix is the number of bytes that follow it (V4)', () => {
      for (const [id, , cell] of rows.filter((r) => /^V/.test(r[0] as string)))
        for (const s of codeSpans(cell as string).filter((s) => /^[0-9a-f…]+$/.test(s) && s.length > 2)) {
          const bytes = Buffer.from(expandHex(s, cell as string), 'hex')
          assert.equal(
            bytes[0],
            bytes.length - 1,
            `${id}: prefix ${bytes[0]}, ${bytes.length - 1} bytes follow`
          )
        }
    })
  })

  describe('numbers and codes the spec states (issue 12.18)', () => {
    it('maxManifestBytes is the transfer default in cafs-transfer.md (XFER-3) and chunk-exchange.md (CHUNK-7)', () => {
      const stated = (text: string): number => {
        const row = text.split('\n').find((l) => l.startsWith('| `maxManifestBytes`'))
        assert.ok(row !== undefined, 'the limit has its table row')
        const n = /(\d{1,3}(?: \d{3})+) ?B?\b/.exec(row)
        assert.ok(n !== null, `a number in ${row}`)
        return Number((n[1] as string).replaceAll(' ', ''))
      }
      assert.equal(stated(spec('cafs-transfer.md')), DEFAULT_LIMITS.maxManifestBytes)
      assert.equal(stated(spec('chunk-exchange.md')), DEFAULT_LIMITS.maxManifestBytes)
    })

    it('GOSSIP-3 names the wrong-topic code the node sends, and every code of its table exists', () => {
      const g = spec('gossip.md')
      const rule = section(g, '## GOSSIP-3')
      const wrong = /differs from the topic's article →\s*`\[REJECT\] (\w+)`/.exec(rule)
      assert.equal(wrong?.[1], BookCode.WRONG_TOPIC)
      const market = /\[REJECT\] `(\w+)`: the bid's article is not the topic's article/.exec(
        spec('market.md')
      )
      assert.equal(market?.[1], BookCode.WRONG_TOPIC)
      const known = new Set<string>([...Object.values(GossipCode), ...Object.values(BookCode)])
      const table = section(g, '## GOSSIP-3').includes('| code ') ? rule : g
      const codes = tableRows(table.slice(table.lastIndexOf('| code ')))
        .flatMap((r) => codeSpans(r[0] as string))
        .filter((c) => /^[A-Z_]+$/.test(c))
      assert.ok(codes.length > 5)
      for (const c of codes) assert.ok(known.has(c), `${c} is a code of the node`)
    })

    it('GOSSIP-2 lists exactly the GossipSub protocols a real host serves', async () => {
      const line = spec('gossip.md')
        .split('\n')
        .find((l) => l.startsWith('- Router: GossipSub'))
      assert.ok(line !== undefined)
      const g = spec('gossip.md')
      const listed = codeSpans(g.slice(g.indexOf(line), g.indexOf('floodsub fallback'))).filter((p) =>
        p.startsWith('/')
      )
      const host = await createHost({ privateKey: randomPrivateKey(), loopbackOnly: true })
      try {
        const served = host.libp2p
          .getProtocols()
          .filter((p) => p.startsWith('/meshsub/') || p.startsWith('/floodsub/'))
        assert.deepEqual([...listed].sort(), [...served].sort())
      } finally {
        await host.stop()
      }
    })
  })

  describe('transactions.md, Vectors: establish-seller with no multiaddrs (TX-5, TX-7; issue 12.15)', () => {
    const text = section(spec('transactions.md'), '### bitwrk-node documents')
    const item = text.slice(text.indexOf('- establish-seller, no multiaddrs'))
    const end = item.indexOf('\n- ')
    const spans = codeSpans(end < 0 ? item : item.slice(0, end))
    const document = spans.find((c) => c.startsWith('kind='))
    const tail = /signature tail `([^`]+)`/.exec(item)?.[1]
    const doc = (document ?? '').replace('TXID', TXID)

    it('is the document the node renders for zero multiaddrs, and parses to an empty list', () => {
      assert.equal(
        doc,
        renderTxDocument(TXID, { kind: 'establish-seller', peerId: SELLER.peerId, addrs: [] })
      )
      assert.ok(doc.includes('&addrs=&'), 'the field is present with an empty value')
      assert.deepEqual(parseTxDocument(doc), {
        ok: true,
        doc: { txid: TXID, content: { kind: 'establish-seller', peerId: SELLER.peerId, addrs: [] } }
      })
    })

    it('carries the seller signature the spec states (k = 1), which verifies', () => {
      const sig = signMessage(SELLER.privateKey, doc, { compressed: true, nonce: 1n })
      assert.ok(tail !== undefined && sig.endsWith(tail), `${sig} ends with ${tail}`)
      assert.ok(verifyMessage(SELLER.address, sig, doc))
    })

    it('refuses the other spellings of "no multiaddrs" with the codes TX-5 names', () => {
      assert.deepEqual(parseTxDocument(doc.replace('&addrs=&', '&')), { ok: false, code: 'TX_BAD_ARGUMENT' })
      assert.deepEqual(parseTxDocument(doc.replace('&addrs=&', '&addrs&')), {
        ok: false,
        code: 'TX_MALFORMED'
      })
      assert.deepEqual(parseTxDocument(doc.replace('&addrs=&', '&&')), { ok: false, code: 'TX_MALFORMED' })
    })
  })

  describe('gossip.md, GOSSIP-1 and GOSSIP-2 vectors', () => {
    const g = spec('gossip.md')
    const from = g.indexOf('Vectors: article')
    const topics = g.slice(from, g.indexOf('\n## ', from))

    it('maps each article to the topics the spec lists', () => {
      const pairs = [...topics.matchAll(/`([^`]+)`\s*→\s*`([^`]+)`(?: and\s+`([^`]+)`)?/g)]
      assert.ok(pairs.length >= 3)
      for (const [, article, bids, tx] of pairs) {
        assert.equal(bidTopic(article as string), bids)
        if (tx !== undefined) assert.equal(txTopic(article as string), tx)
      }
    })

    it('refuses every "not a topic" the spec lists', () => {
      const not = codeSpans(topics.slice(topics.indexOf('Not topics:')))
      assert.ok(not.length >= 5)
      for (const t of not) assert.equal(parseTopic(t), undefined, t)
    })

    it('computes the message id of empty data (SHA-256)', () => {
      const m = /`data` empty → `([0-9a-f]{64})`/.exec(g)
      assert.equal(m?.[1], hexOf(messageId(new Uint8Array(0))))
    })
  })

  describe('cafs-transfer.md, XFER-2 varints and the wishlist vector', () => {
    const t = spec('cafs-transfer.md')

    it('encodes every varint vector', () => {
      const line = t.slice(t.indexOf('**XFER-2 Varints.**'), t.indexOf('**XFER-3'))
      const vectors = [...line.matchAll(/(\d+(?:\^\d+−1)?) `([0-9a-f]+)`/g)]
      assert.ok(vectors.length >= 8)
      for (const [, n, hex] of vectors) {
        const p = /^(\d+)\^(\d+)−1$/.exec(n as string)
        const value = p === null ? Number(n) : Number(p[1]) ** Number(p[2]) - 1
        assert.equal(hexOf(encodeVarint(value)), hex, n)
      }
    })

    it('encodes the wishlist vector as its WANT body', () => {
      const m = /Vector: indices \{([\d,]+)\} of (\d+) → body `([0-9a-f ]+)`/.exec(t)
      assert.ok(m !== null)
      const indices = (m[1] as string).split(',').map(Number)
      assert.equal(hexOf(encodeWant(rangesFromIndices(indices))), (m[3] as string).replaceAll(' ', ''))
    })
  })

  describe('cafs.md, CAFS-1 parameters and the chunking vectors', () => {
    const t = spec('cafs.md')

    it('states the parameters the chunker uses (CAFS-1 table and the reference implementation)', () => {
      const rows = tableRows(section(t, '**CAFS-1 Parameters.**'))
      const value = (name: string): string => {
        const row = rows.find((r) => r[0] === `\`${name}\``)
        assert.ok(row !== undefined, name)
        return row[1] as string
      }
      assert.equal(Number(/^(\d+)/.exec(value('MIN'))?.[1]), CHUNK_PARAMS.min)
      assert.equal(Number(/^(\d+)/.exec(value('NORMAL'))?.[1]), CHUNK_PARAMS.normal)
      assert.equal(Number(/^(\d+)/.exec(value('MAX'))?.[1]), CHUNK_PARAMS.max)
      assert.equal(Number(/top (\d+) bits/.exec(value('MASK_S'))?.[1]), CHUNK_PARAMS.maskSmallBits)
      assert.equal(Number(/top (\d+) bits/.exec(value('MASK_L'))?.[1]), CHUNK_PARAMS.maskLargeBits)
      const py = t.slice(t.indexOf('```python'), t.indexOf('**CAFS-4'))
      assert.ok(py.includes(`if L < ${CHUNK_PARAMS.min}: continue`))
      assert.ok(
        py.includes(
          `if L == ${CHUNK_PARAMS.max} or (h >> (32 - (${CHUNK_PARAMS.maskSmallBits} if L < ${CHUNK_PARAMS.normal} else ${CHUNK_PARAMS.maskLargeBits}))) == 0:`
        )
      )
    })

    it('cuts the LCG data and zeros as the Vectors section states', () => {
      const v = section(t, '## Vectors')
      const lcg =
        /first 1 MiB: file key\s+`([0-9a-f]{64})`[^,]*,\s+(\d+) chunks, manifest of (\d+) bytes with key\s+`([0-9a-f]{64})`; sizes in order:([\d,\s]+)—/.exec(
          v
        )
      assert.ok(lcg !== null, 'the LCG vector')
      const data = lcgBytes(1 << 20)
      const chunks = chunkBytes(data)
      const sizes = (lcg[5] as string).split(',').map((x) => Number(x.trim()))
      assert.deepEqual(
        chunks.map((c) => c.length),
        sizes
      )
      assert.equal(chunks.length, Number(lcg[2]))
      const m = manifestOfBytes(data)
      assert.equal(hexOf(m.fileKey), lcg[1])
      assert.equal(encodeManifest(m).length, Number(lcg[3]))
      assert.equal(hexOf(manifestKey(m)), lcg[4])
      const zeros = /300 KiB of zero bytes → chunks of ([\d, ]+) bytes/.exec(v)
      assert.ok(zeros !== null, 'the zeros vector')
      assert.deepEqual(
        chunkBytes(new Uint8Array(300 * 1024)).map((c) => c.length),
        (zeros[1] as string).split(',').map((x) => Number(x.trim()))
      )
    })
  })

  describe('chunk-exchange.md, Test vectors (frames)', () => {
    const frame = (body: Uint8Array): string => hexOf(encodeFrame(body))
    // the row's message, as the code builds it; rows are matched by their first words
    const code: [string, string][] = [
      ['HAVE of SHA-256("") and SHA-256("abc")', frame(encodeHave([sha(''), sha('abc')]))],
      ['HAVE_REPLY [held, not, held]', frame(encodeHaveReply([true, false, true]))],
      [
        'HAVE_REPLY of 9: held at 0 and 8',
        frame(encodeHaveReply([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => i % 8 === 0)))
      ],
      ['MANIFEST_GET of SHA-256("abc")', frame(encodeManifestGet(sha('abc')))],
      ['"not held" answer to MANIFEST_GET', frame(encodeMissing([0]))],
      ['ERROR for an unknown message type', frame(encodeError('CAFS_XFER_UNKNOWN_MESSAGE'))]
    ]
    const rows = tableRows(section(spec('chunk-exchange.md'), '## Test vectors'))

    it('checks every row', () => {
      assert.equal(rows.length, code.length)
    })

    for (const [name, want] of code)
      it(`${name}: the spec's frame is the code's`, () => {
        const row = rows.find((r) => (r[0] as string).startsWith(name))
        assert.ok(row !== undefined, `a row ${name}`)
        const hex = codeSpans(row[1] as string)[0] ?? ''
        assert.equal(hex.replaceAll(' ', ''), want)
      })
  })

  describe('market.md, Test vectors: the match of bid-a and bid-b (MATCH-12, TX-1, TX-13)', () => {
    const text = section(spec('market.md'), '## Test vectors')

    it('states the match time, txid and establish deadline the code computes', () => {
      const m =
        /epoch (\d+), default parameters\) has `matchedMs = (\d+)` and\s+txid `([0-9a-f]{64})`[^`]*establish\s+deadline `(\d+)`/.exec(
          text
        )
      assert.ok(m !== null, 'the vector is in the spec')
      const matchedMs = epochClosesAtMs(Number(m[1]), DEFAULT_EPOCH_PARAMS)
      assert.equal(Number(m[2]), matchedMs)
      assert.equal(m[3], transactionId(h('bid-a'), h('bid-b')))
      assert.equal(Number(m[4]), matchedMs + ESTABLISH_TIMEOUT_MS)
    })
  })

  describe('money.md, Test vectors (parse, reject, format)', () => {
    const m = section(spec('money.md'), '## Test vectors')
    const para = (start: string): string => {
      const at = m.indexOf(start)
      assert.ok(at >= 0, start)
      const end = m.indexOf('\n\n', at)
      return m.slice(at + start.length, end < 0 ? undefined : end)
    }
    const codeOf = (text: string): string | undefined => {
      try {
        parseMoney(text)
        return undefined
      } catch (e) {
        return (e as { code?: string }).code
      }
    }

    it('parses each "Parse → amount" vector to its amount', () => {
      const pairs = [...para('Parse → amount:').matchAll(/`([^`]+)` (−?\d+)/g)]
      assert.ok(pairs.length >= 16)
      for (const [, text, amount] of pairs)
        assert.equal(parseMoney(text as string).amount, BigInt((amount as string).replace('−', '-')), text)
    })

    it('refuses each "Rejected" vector with the code the spec names', () => {
      const text = para('Rejected (code):')
      // each group of spans is followed by its code in parentheses
      let n = 0
      for (const [group, code] of [...text.matchAll(/([^;]*?)\(`(MONEY_[A-Z_]+)`\)/g)].map(
        (g) => [g[1] as string, g[2] as string] as const
      ))
        for (const input of codeSpans(group)) {
          assert.equal(codeOf(input), code, input)
          n++
        }
      assert.ok(n >= 19)
    })

    it('formats each "Parse → format" vector', () => {
      const text = para('Parse → format:')
      const pairs = [...text.matchAll(/((?:`[^`]+`,\s*)*`[^`]+`)\s*→\s*`([^`]+)`/g)]
      assert.ok(pairs.length >= 20, String(pairs.length))
      for (const [, inputs, out] of pairs)
        for (const input of codeSpans(inputs as string))
          assert.equal(formatMoney(parseMoney(input)), out, input)
    })
  })

  describe('matching.md, Test vector (MATCH-12, MATCH-13)', () => {
    const m = section(spec('matching.md'), '## Test vector')
    const T0 = Number(/`T0 = (\d+)`/.exec(m)?.[1])
    const rows = tableRows(m)
    const stated = /`epochMs` (\d+) ms and `settleMs` (\d+) ms/.exec(m)
    const params = { epochMs: Number(stated?.[1]), settleMs: Number(stated?.[2]) }

    function book(): OrderBook {
      const key = /^Key `([^`]+)`/m.exec(m)?.[1] as string
      const b = new OrderBook(key, params)
      for (const [label, , side, price, created, participant] of rows) {
        const dt = Number(/^T0\+(\d+)$/.exec(created as string)?.[1])
        const bid: MatchableBid = {
          id: h(label as string),
          side: side as 'BUY' | 'SELL',
          price: BigInt(price as string),
          createdMs: T0 + dt,
          expiresMs: T0 + dt + 120_000,
          participant: participant as string
        }
        assert.equal(b.add(bid, T0).result, 'accept')
      }
      return b
    }

    it('lists bid ids that are SHA-256 of their labels', () => {
      const full = m.slice(m.indexOf('Full ids:'))
      for (const [label] of rows) {
        const id = new RegExp(`${label}\\s+\`([0-9a-f]{64})\``).exec(full)?.[1]
        assert.equal(id, h(label as string), label)
      }
    })

    it('yields the digests and the match time the spec states', () => {
      const [r1, r2] = book().advance(T0 + 3_500)
      const digests = [...m.matchAll(/[Dd]igest[^`]*`([0-9a-f]{64})`/g)].map((x) => x[1])
      assert.deepEqual(digests, [r1?.digest, r2?.digest])
      assert.deepEqual(
        r1?.matches.map((x) => [x.buyId, x.sellId, x.price, x.maker]),
        [[h('bid-a'), h('bid-b'), 200_000n, 'BUY']]
      )
    })
  })

  describe('bids.md, Test vectors BID-V1 … BID-V4 (documents, ids, signatures)', () => {
    const b = section(spec('bids.md'), '## Test vectors')
    const key = /Participant: key `([^`]+)`/.exec(b)?.[1] as string
    const vector = (name: string): { document: string; id: string; signature: string } => {
      const at = b.indexOf(`**${name}`)
      assert.ok(at >= 0, name)
      const block = /```\n([\s\S]*?)```/.exec(b.slice(at))?.[1] ?? ''
      const [document, idLine, sigLine] = block.trim().split('\n')
      return {
        document: document as string,
        id: (idLine as string).replace(/^id\s+/, ''),
        signature: (sigLine as string).replace(/^signature\s+/, '')
      }
    }
    const createdOf = (doc: string): number => Number(/created=(\d+)/.exec(doc)?.[1])
    const wire = (v: { document: string; signature: string }): Uint8Array =>
      new TextEncoder().encode(`${v.document}\n${v.signature}`)

    for (const [name, nonce] of [
      ['BID-V1', undefined],
      ['BID-V2', undefined],
      ['BID-V3', 1n]
    ] as const)
      it(`${name}: accepted at nowMs = created with skew 0, with the stated id and signature`, () => {
        const v = vector(name)
        const r = validateBid(wire(v), { nowMs: createdOf(v.document), maxClockSkewMs: 0 })
        assert.equal(r.result, 'accept', JSON.stringify(r))
        assert.equal(r.result === 'accept' ? r.bid.id : undefined, v.id)
        const opts = nonce === undefined ? {} : { compressed: true, nonce }
        assert.equal(signMessage(Identity.fromWif(key).privateKey, v.document, opts), v.signature)
      })

    it('BID-V4: the cancel of BID-V1 is accepted with the stated id and signature', () => {
      const v = vector('BID-V4')
      const r = validateCancel(wire(v), { nowMs: createdOf(v.document), maxClockSkewMs: 0 })
      assert.equal(r.result, 'accept', JSON.stringify(r))
      assert.equal(r.result === 'accept' ? r.cancel.id : undefined, v.id)
      assert.equal(signMessage(Identity.fromWif(key).privateKey, v.document), v.signature)
    })

    it('gossip.md: the message id of BID-V1 is SHA-256 of its whole wire form (GOSSIP-2)', () => {
      const v = vector('BID-V1')
      const g = spec('gossip.md')
      const m = /bid vector 1 of `bids.md`[\s\S]*?→ `([0-9a-f]{64})`/.exec(g)
      assert.equal(wire(v).length, Number(/the (\d+)-byte wire form of bid vector 1/.exec(g)?.[1]))
      assert.equal(m?.[1], hexOf(messageId(wire(v))))
    })
  })

  describe('identity.md, ID-V2 digests and varints', () => {
    const text = spec('identity.md')
    const v2 = text.slice(
      text.indexOf('**ID-V2 Digests.**'),
      text.indexOf('\n\n', text.indexOf('**ID-V2 Digests.**'))
    )

    it('computes the message digests of "", "test" and "a" × 300', () => {
      const digest = (quoted: string): string | undefined =>
        new RegExp(`${quoted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*→\\s*\`([0-9a-f]{64})\``).exec(
          v2
        )?.[1]
      assert.equal(digest('`""`'), hexOf(messageDigest('')))
      assert.equal(digest('`"test"`'), hexOf(messageDigest('test')))
      assert.equal(digest('`"a" × 300`'), hexOf(messageDigest('a'.repeat(300))))
    })

    it('encodes the Bitcoin varints', () => {
      const pairs = [...v2.slice(v2.indexOf('Varints:')).matchAll(/(\d+) → `([0-9a-f]+)`/g)]
      assert.ok(pairs.length >= 6)
      for (const [, n, hex] of pairs) assert.equal(hexOf(bitcoinVarint(Number(n))), hex, n)
    })
  })

  describe('blender-article.md, Test vectors (BLEND-1, BLEND-2, BLEND-10)', () => {
    const text = section(spec('blender-article.md'), '## Test vectors')
    it('the work vector: its hex lines and SHA-256 are what encodeBlenderWork writes', () => {
      const hex = (/```\n([\s\S]*?)```/.exec(text)?.[1] ?? '').replace(/\s+/g, '')
      const bytes = encodeBlenderWork({
        xmin: 0,
        ymin: 0,
        xmax: 2,
        ymax: 1,
        frame: 1,
        blend: new Uint8Array(Buffer.from('BLENDER-v304REND'))
      })
      assert.equal(hex, hexOf(bytes))
      assert.ok(text.includes(`is these ${bytes.length} bytes`))
      assert.ok(text.includes(createHash('sha256').update(bytes).digest('hex')))
    })
    it('the tiling vector: 160×120 in 6 tiles', () => {
      const line = /160×120 in 6 tiles gives[^(]*\(xmin, xmax, ymin, ymax\)([^.]*)/.exec(text)?.[1] ?? ''
      const tuples = [...line.matchAll(/\((\d+), (\d+), (\d+), (\d+)\)/g)].map((m) => m.slice(1).map(Number))
      assert.deepEqual(
        tuples,
        blenderTiles(160, 120, 6).map(({ bounds: b }) => [b.xmin, b.xmax, b.ymin, b.ymax])
      )
    })
    it('the article vectors: budgets and names that are not Blender 3.4 articles', () => {
      assert.ok(
        text.includes(
          `\`net.bitwrk/blender/0/3.4/512M\` → budget ${parseBlenderArticle('net.bitwrk/blender/0/3.4/512M').maxCost}`
        )
      )
      assert.ok(text.includes(`→ ${parseBlenderArticle('net.bitwrk/blender/0/3.4/32G~trusted').maxCost}`))
      const not = text.slice(text.indexOf('not Blender 3.4 articles'))
      for (const name of codeSpans(not)) assert.equal(isBlenderArticle(name), false, name)
    })
  })
})
