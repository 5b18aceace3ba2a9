import assert from 'node:assert/strict'
import type { MessageStream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  cheapShortReads,
  coalesceWrites,
  frameLength,
  MAX_COALESCED_BYTES
} from '../../../node/host/noise.js'

/** A transport connection that records the chunks of every `sendData` call. */
function recordingConn(): { conn: MessageStream; calls: number[][] } {
  const calls: number[][] = []
  const conn = {
    sendData(data: Uint8ArrayList) {
      calls.push([...data].map((c) => c.byteLength))
      return { sentBytes: data.byteLength, canSendMore: true }
    }
  }
  return { conn: conn as unknown as MessageStream, calls }
}

describe('node/host noise writes', () => {
  it('hands a Noise frame (length, then ciphertext) to the transport as one buffer, bytes unchanged (issue 14)', () => {
    const { conn, calls } = recordingConn()
    coalesceWrites(conn)
    const send = (conn as unknown as { sendData: (d: Uint8ArrayList) => { sentBytes: number } }).sendData
    const frame = new Uint8ArrayList(Uint8Array.of(0, 3), Uint8Array.of(7, 8, 9))
    const res = send(frame)
    assert.deepEqual(calls, [[5]])
    assert.equal(res.sentBytes, 5)
    // one chunk passes as it is; a batch above the cap is not copied
    send(new Uint8ArrayList(Uint8Array.of(1, 2)))
    send(new Uint8ArrayList(new Uint8Array(MAX_COALESCED_BYTES), Uint8Array.of(1)))
    assert.deepEqual(calls, [[5], [2], [MAX_COALESCED_BYTES, 1]])
  })

  it('sends the same bytes in the same order', () => {
    const seen: Uint8Array[] = []
    const conn = {
      sendData(data: Uint8ArrayList) {
        for (const c of data) seen.push(c)
        return { sentBytes: data.byteLength, canSendMore: true }
      }
    }
    coalesceWrites(conn as unknown as MessageStream)
    conn.sendData(
      new Uint8ArrayList(Uint8Array.of(0, 2), Uint8Array.of(5, 6), Uint8Array.of(0, 1), Uint8Array.of(9))
    )
    assert.deepEqual(Buffer.concat(seen), Buffer.from([0, 2, 5, 6, 0, 1, 9]))
  })

  it('reads a frame length as uint16BEDecode does, a short read throwing one shared RangeError (issue 14)', () => {
    assert.equal(frameLength(Uint8Array.of(1, 2, 3)), 0x0102)
    assert.equal(frameLength(new Uint8ArrayList(Uint8Array.of(0xff), Uint8Array.of(0xfe, 9))), 0xfffe)
    const short = (data: Uint8Array | Uint8ArrayList): unknown => {
      try {
        frameLength(data)
      } catch (err) {
        return err
      }
      return undefined
    }
    const e1 = short(new Uint8ArrayList())
    const e2 = short(Uint8Array.of(7))
    assert.ok(e1 instanceof RangeError)
    assert.equal(e1, e2)
  })

  it("swaps the Noise stream's frame-length decoder and leaves other streams alone", () => {
    const noiseStream = { decoder: { lengthDecoder: (_: Uint8ArrayList) => 0 } }
    cheapShortReads(noiseStream)
    assert.equal(noiseStream.decoder.lengthDecoder, frameLength)
    const other = { decoder: {} }
    cheapShortReads(other)
    assert.deepEqual(other, { decoder: {} })
    cheapShortReads({})
  })
})
