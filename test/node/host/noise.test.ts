import assert from 'node:assert/strict'
import type { MessageStream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { coalesceWrites, MAX_COALESCED_BYTES } from '../../../node/host/noise.js'

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
})
