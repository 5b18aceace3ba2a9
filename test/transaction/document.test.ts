import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isBitwrkError } from '../../protocol/errors.js'
import { queryEscape, queryUnescape } from '../../protocol/transaction/form.js'
import {
  decodeTxMessage,
  encodeTxMessage,
  MAX_TX_DOCUMENT_BYTES,
  MAX_TX_MESSAGE_BYTES,
  type MessageContent,
  parseTxDocument,
  renderTxDocument,
  TxCode,
  type TxMessage
} from '../../protocol/transaction/index.js'
import { CONTENT, MESSAGES, RESULT_KEY, SELLER, TXID } from './helpers.js'

const PREFIX = `kind=bitwrk-tx-v1&msg=accept-result&txid=${TXID}`

describe('transaction documents', () => {
  describe('form escaping', () => {
    it("escapes like Go's url.QueryEscape", () => {
      const cases: [string, string][] = [
        ['http://1.2.3.4:8082/0a1b2c3d', 'http%3A%2F%2F1.2.3.4%3A8082%2F0a1b2c3d'],
        ['H3m+Zn/=', 'H3m%2BZn%2F%3D'],
        ['a b', 'a+b'],
        ['-_.~', '-_.~'],
        ["!*'()", '%21%2A%27%28%29'],
        ['é', '%C3%A9'],
        ['&=', '%26%3D']
      ]
      for (const [raw, escaped] of cases) {
        assert.equal(queryEscape(raw), escaped)
        assert.equal(queryUnescape(escaped), raw)
      }
    })

    it('unescapes only the canonical encoding', () => {
      for (const text of ['%2f', '%41', '%20', '%', '%4', '%GG', '/', '&', '=', 'é', '%C3', '%FF'])
        assert.equal(queryUnescape(text), undefined, text)
    })

    it('round-trips any string', () => {
      fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => queryUnescape(queryEscape(s)) === s))
    })
  })

  describe('parseTxDocument', () => {
    it('parses every rendered message kind back to its content', () => {
      for (const content of Object.values(CONTENT)) {
        const r = parseTxDocument(renderTxDocument(TXID, content))
        assert.deepEqual(r, { ok: true, doc: { txid: TXID, content } })
      }
    })

    it('round-trips random valid contents', () => {
      const hex = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'))
      const addr = fc.stringMatching(/^\/[a-z0-9.:/]{1,40}$/)
      const content: fc.Arbitrary<MessageContent> = fc.oneof(
        fc.record({ kind: fc.constant('establish-buyer' as const), workHash: hex, workSecretHash: hex }),
        fc.record({
          kind: fc.constant('establish-seller' as const),
          peerId: fc.constant(SELLER.peerId),
          addrs: fc.array(addr, { maxLength: 4 })
        }),
        fc.record({ kind: fc.constant('publish-secret' as const), buyerSecret: hex }),
        fc.constantFrom(
          { kind: 'reject-work' as const },
          { kind: 'reject-result' as const },
          { kind: 'accept-result' as const }
        )
      )
      fc.assert(
        fc.property(hex, content, (txid, c) => {
          const r = parseTxDocument(renderTxDocument(txid, c))
          assert.deepEqual(r, { ok: true, doc: { txid, content: { ...c } } })
        })
      )
    })

    it('refuses hostile documents with a specific code', () => {
      const wh = `workhash=${'0'.repeat(64)}`
      const eb = `kind=bitwrk-tx-v1&msg=establish-buyer&txid=${TXID}`
      const table: [string, string][] = [
        ['', TxCode.MALFORMED],
        ['&', TxCode.MALFORMED],
        [PREFIX + '&', TxCode.MALFORMED],
        [PREFIX + '&=x', TxCode.MALFORMED],
        [PREFIX.replace('kind=', 'kind'), TxCode.MALFORMED],
        ['kind=bitwrk-tx-v1', TxCode.MALFORMED],
        ['kind=bitwrk-tx-v1&msg=accept-result', TxCode.MALFORMED],
        [`kind=bitwrk-tx-v1&txid=${TXID}&msg=accept-result`, TxCode.MALFORMED],
        [`kind=bitwrk-tx-v1&msg=accept-result&tx=${TXID}`, TxCode.MALFORMED],
        [PREFIX.replace('bitwrk-tx-v1', 'bitwrk-tx-v2'), TxCode.BAD_KIND],
        [PREFIX.replace('kind=', 'kinds='), TxCode.BAD_KIND],
        [`msg=accept-result&kind=bitwrk-tx-v1&txid=${TXID}`, TxCode.BAD_KIND],
        [PREFIX.replace('accept-result', 'acceptresult'), TxCode.BAD_KIND],
        [PREFIX.replace('accept-result', 'receipt'), TxCode.BAD_KIND],
        [PREFIX.replace(TXID, TXID.toUpperCase()), TxCode.BAD_ARGUMENT],
        [PREFIX.replace(TXID, TXID.slice(2)), TxCode.BAD_ARGUMENT],
        [PREFIX + '&acceptresult=on', TxCode.BAD_ARGUMENT],
        [PREFIX + '&txid=' + TXID, TxCode.BAD_ARGUMENT],
        [eb + '&' + wh, TxCode.BAD_ARGUMENT],
        [eb + `&worksecrethash=${'0'.repeat(64)}&${wh}`, TxCode.BAD_ARGUMENT],
        [eb + `&${wh}&worksecrethash=${'0'.repeat(64)}&${wh}`, TxCode.BAD_ARGUMENT],
        [eb + `&${wh}&worksecrethash=%30${'0'.repeat(63)}`, TxCode.MALFORMED],
        [PREFIX.replace('accept-result', 'accept%2Dresult'), TxCode.MALFORMED],
        [PREFIX + 'x'.repeat(MAX_TX_DOCUMENT_BYTES), TxCode.TOO_LARGE]
      ]
      for (const [doc, code] of table) assert.deepEqual(parseTxDocument(doc), { ok: false, code }, doc)
    })

    it('refuses the plain-key transmit-finished of before TX-23 (`encresultkey`) with TX_BAD_ARGUMENT', () => {
      const sealedForm = MESSAGES['transmit-finished'].document
      assert.ok(parseTxDocument(sealedForm).ok)
      const plain = sealedForm.replace(/&sealedresultkey=[0-9a-f]+$/, `&encresultkey=${RESULT_KEY}`)
      assert.notEqual(plain, sealedForm)
      assert.deepEqual(parseTxDocument(plain), { ok: false, code: TxCode.BAD_ARGUMENT })
      // nor a plain key under the new name
      const renamed = sealedForm.replace(/&sealedresultkey=[0-9a-f]+$/, `&sealedresultkey=${RESULT_KEY}`)
      assert.deepEqual(parseTxDocument(renamed), { ok: false, code: TxCode.BAD_ARGUMENT })
    })
  })

  describe('wire codec', () => {
    it('round-trips every message exactly', () => {
      for (const m of Object.values(MESSAGES)) {
        const bytes = encodeTxMessage(m)
        assert.ok(bytes.length <= MAX_TX_MESSAGE_BYTES)
        assert.deepEqual(decodeTxMessage(bytes), m)
        assert.deepEqual(encodeTxMessage(decodeTxMessage(bytes)), bytes)
      }
    })

    it('frames document and signature as `document LF signature`, like signed bids', () => {
      const m = MESSAGES['accept-result']
      assert.equal(new TextDecoder().decode(encodeTxMessage(m)), m.document + '\n' + m.signature)
    })

    it('keeps the largest valid message within the limits', () => {
      // Worst case: every addrs byte escapes to three bytes, the longest peer id.
      const addrs = Array(4).fill('/' + '!'.repeat(62))
      const content: MessageContent = { kind: 'establish-seller', peerId: 'z'.repeat(128), addrs }
      const document = renderTxDocument(TXID, content)
      assert.ok(parseTxDocument(document).ok)
      assert.ok(document.length <= MAX_TX_DOCUMENT_BYTES, String(document.length))
      const m: TxMessage = { document, signature: SELLER.sign(document) }
      const bytes = encodeTxMessage(m)
      assert.ok(bytes.length <= MAX_TX_MESSAGE_BYTES, String(bytes.length))
      assert.deepEqual(decodeTxMessage(bytes), m)
    })

    it('refuses hostile encodings with TX_TOO_LARGE or TX_MALFORMED', () => {
      const ok = new TextDecoder().decode(encodeTxMessage(MESSAGES['accept-result']))
      const enc = (s: string) => new TextEncoder().encode(s)
      const table: [Uint8Array, string][] = [
        [new Uint8Array(MAX_TX_MESSAGE_BYTES + 1).fill(0x61), TxCode.TOO_LARGE],
        [new Uint8Array([0xff, 0x0a, 0x41]), TxCode.MALFORMED],
        [new Uint8Array(0), TxCode.MALFORMED],
        [enc(PREFIX), TxCode.MALFORMED],
        [enc('\n' + MESSAGES['accept-result'].signature), TxCode.MALFORMED],
        [enc(PREFIX + '\n'), TxCode.MALFORMED],
        [enc(ok + '\n'), TxCode.MALFORMED],
        [enc(ok.replace('\n', '\r\n')), TxCode.MALFORMED],
        [enc(ok.replace('\n', ' \n')), TxCode.MALFORMED],
        [enc(PREFIX + '\u00e9\n' + MESSAGES['accept-result'].signature), TxCode.MALFORMED]
      ]
      for (const [bytes, code] of table)
        assert.throws(
          () => decodeTxMessage(bytes),
          (e: unknown) => isBitwrkError(e, code)
        )
    })

    it('never throws anything but a BitwrkError on random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
          try {
            decodeTxMessage(bytes)
          } catch (e) {
            assert.ok(isBitwrkError(e))
          }
        })
      )
    })
  })
})
