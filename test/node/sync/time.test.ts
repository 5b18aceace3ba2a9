import assert from 'node:assert/strict'
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  MsgType
} from '../../../node/sync/codec.js'
import { SyncCode } from '../../../node/sync/errors.js'
import { resolveSyncLimits } from '../../../node/sync/limits.js'
import { throwsCode } from '../../support/errors.js'

const limits = resolveSyncLimits()

describe('sync TIME_REQ / TIME (SYNC-16)', () => {
  it('encodes the vectors of the spec and decodes them back', () => {
    assert.deepEqual(encodeRequest({ type: 'timeReq' }), Uint8Array.of(0x06))
    assert.deepEqual(decodeRequest(Uint8Array.of(0x06), limits), { type: 'timeReq' })
    const time = encodeResponse({ type: 'time', nowMs: 1_764_000_000_123 })
    assert.equal(Buffer.from(time).toString('hex'), '860000019ab697e87b')
    assert.deepEqual(decodeResponse(time, limits), { type: 'time', nowMs: 1_764_000_000_123 })
    assert.equal(MsgType.TIME, 0x86)
  })

  it('refuses a TIME_REQ with a payload and a TIME without its clock', () => {
    throwsCode(() => decodeRequest(Uint8Array.of(0x06, 0), limits), SyncCode.MALFORMED)
    throwsCode(() => decodeResponse(Uint8Array.of(0x86, 0, 0, 0), limits), SyncCode.MALFORMED)
    throwsCode(() => decodeResponse(Uint8Array.of(0x86, ...new Uint8Array(9)), limits), SyncCode.MALFORMED)
  })
})
