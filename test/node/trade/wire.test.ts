import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import {
  decodeTradeFrame,
  decryptResult,
  encodeTradeError,
  encodeTradeFrame,
  encryptResult,
  readTradeFrame,
  SharedSource,
  TradeCode,
  TradeMsg,
  type TradeStream
} from '../../../node/trade/index.js'
import { BitwrkError, isBitwrkError } from '../../../protocol/errors.js'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))

function codeOf(f: () => unknown): string {
  try {
    f()
  } catch (err) {
    if (isBitwrkError(err)) return err.code
    throw err
  }
  return 'ok'
}

describe('node/trade/wire', () => {
  it('reproduces the original result encryption of vector D (AES-256-OFB, zero IV) and decrypts it', () => {
    const key = unhex('fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0')
    const plain = new TextEncoder().encode('The quick brown fox jumps over the lazy dog')
    const cipher = encryptResult(key, plain)
    assert.equal(
      hex(cipher),
      '6b1930fa082f516bbe6d363962143f1705704155e874b1e266610e2793def43c0cbc3667c5187dac00566b'
    )
    assert.equal(
      createHash('sha256').update(cipher).digest('hex'),
      'ba2742dd6f589c363cbc4b4d97a02f3670ad81e18fb98687e08b75ec2ed0329f'
    )
    assert.deepEqual(decryptResult(key, cipher), plain)
    assert.equal(
      codeOf(() => encryptResult(new Uint8Array(16), plain)),
      TradeCode.BAD_ARGUMENT
    )
  })

  it('encodes frames as one length byte, the type and the payload', () => {
    assert.equal(hex(encodeTradeFrame(TradeMsg.READY)), '0122')
    const hello = encodeTradeFrame(TradeMsg.HELLO, new Uint8Array(32).fill(0xab))
    assert.equal(hello.length, 34)
    assert.equal(hex(hello.subarray(0, 3)), '2121ab')
    assert.equal(hex(encodeTradeError('TRADE_BUSY')), '0b7f54524144455f42555359')
    assert.deepEqual(decodeTradeFrame(hello.subarray(1)).payload, new Uint8Array(32).fill(0xab))
  })

  it('refuses hostile frame bodies with a code', () => {
    const table: [string, Uint8Array, string][] = [
      ['empty', new Uint8Array(0), TradeCode.PROTOCOL],
      ['unknown type', Uint8Array.of(0x01), TradeCode.PROTOCOL],
      ['short HELLO', Uint8Array.of(TradeMsg.HELLO, 1, 2), TradeCode.PROTOCOL],
      ['long READY', Uint8Array.of(TradeMsg.READY, 0), TradeCode.PROTOCOL],
      ['ERROR lower case', Uint8Array.of(0x7f, 0x61), TradeCode.PROTOCOL],
      ['ERROR empty', Uint8Array.of(0x7f), TradeCode.PROTOCOL],
      ['ERROR', encodeTradeError('TRADE_WORK_REJECTED').subarray(1), TradeCode.PEER_ERROR]
    ]
    for (const [what, body, code] of table)
      assert.equal(
        codeOf(() => decodeTradeFrame(body)),
        code,
        what
      )
  })

  it('reads frames split or merged in any way and hands the bytes after a frame to the next reader', async () => {
    const hello = encodeTradeFrame(TradeMsg.HELLO, new Uint8Array(32).fill(7))
    const ready = encodeTradeFrame(TradeMsg.READY)
    const tail = Uint8Array.of(1, 2, 3, 4, 5)
    const all = new Uint8Array([...hello, ...ready, ...tail])
    // Every way of cutting the bytes into two transport chunks.
    for (let cut = 0; cut <= all.length; cut++) {
      const source = new SharedSource(
        (async function* () {
          yield all.subarray(0, cut)
          yield all.subarray(cut)
        })()
      )
      const ts: TradeStream = {
        source,
        bytes: { source, write: async () => {}, close: async () => {}, abort: () => {} },
        setMaxUnread: () => {}
      }
      const gone = (why: string): Error => new Error(why)
      const a = await readTradeFrame(ts, { timeoutMs: 1000 }, gone)
      assert.equal(a.type, TradeMsg.HELLO)
      assert.equal((await readTradeFrame(ts, { timeoutMs: 1000 }, gone)).type, TradeMsg.READY)
      const rest: number[] = []
      for await (const b of source) rest.push(...b)
      assert.deepEqual(rest, [...tail], `cut at ${cut}`)
    }
  })

  it('refuses a frame length byte of 0 or above 127 and reports a stream that ends inside a frame', async () => {
    const run = async (bytes: number[]): Promise<string> => {
      const source = new SharedSource(
        (async function* () {
          yield Uint8Array.from(bytes)
        })()
      )
      const ts: TradeStream = {
        source,
        bytes: { source, write: async () => {}, close: async () => {}, abort: () => {} },
        setMaxUnread: () => {}
      }
      try {
        await readTradeFrame(ts, { timeoutMs: 1000 }, () => new BitwrkError(TradeCode.BUYER_GONE, 'gone'))
        return 'ok'
      } catch (err) {
        return isBitwrkError(err) ? err.code : String(err)
      }
    }
    assert.equal(await run([0x00]), TradeCode.PROTOCOL)
    assert.equal(await run([0x80, 0x01]), TradeCode.PROTOCOL)
    assert.equal(await run([0x05, 0x21]), TradeCode.BUYER_GONE)
    assert.equal(await run([]), TradeCode.BUYER_GONE)
  })
})
