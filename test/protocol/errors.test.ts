import assert from 'node:assert/strict'
import { BitwrkError, errorBuilder, errorGuard, isBitwrkError } from '../../protocol/errors.js'

/** A module's code table, as the modules declare theirs. */
const DemoCode = {
  PEER_ERROR: 'DEMO_PEER_ERROR',
  UNEXPECTED_PHASE: 'DEMO_UNEXPECTED_PHASE',
  TIMEOUT: 'DEMO_TIMEOUT'
} as const

type DemoErrorCode = (typeof DemoCode)[keyof typeof DemoCode]

/** Its details map: TIMEOUT is left out (any details). */
type DemoDetails = {
  [DemoCode.PEER_ERROR]: { remoteCode: string }
  [DemoCode.UNEXPECTED_PHASE]: { phase?: string }
}

const demoError = errorBuilder<DemoErrorCode, DemoDetails>()
const isDemoError = errorGuard<DemoErrorCode, DemoDetails>()

describe('typed error details (issue 13)', () => {
  it('builds BitwrkErrors with the code and the details given', () => {
    const err = demoError(DemoCode.PEER_ERROR, 'peer reported an error', { remoteCode: 'X_FAILED' })
    assert.ok(err instanceof BitwrkError)
    assert.equal(err.code, 'DEMO_PEER_ERROR')
    assert.equal(err.message, 'peer reported an error')
    assert.deepEqual(err.details, { remoteCode: 'X_FAILED' })
    assert.deepEqual(demoError(DemoCode.TIMEOUT, 'timed out').details, {})
  })

  it('narrows to the declared details for its code and rejects other codes and values', () => {
    const err: unknown = demoError(DemoCode.PEER_ERROR, 'peer reported an error', { remoteCode: 'X_FAILED' })
    assert.ok(isDemoError(err, DemoCode.PEER_ERROR))
    // typed: a string, no cast
    const remote: string = err.details.remoteCode
    assert.equal(remote, 'X_FAILED')
    assert.equal(isDemoError(err, DemoCode.UNEXPECTED_PHASE), false)
    assert.equal(isDemoError(err, DemoCode.TIMEOUT), false)
    assert.equal(isDemoError(new Error('DEMO_PEER_ERROR'), DemoCode.PEER_ERROR), false)
    assert.equal(isDemoError({ code: 'DEMO_PEER_ERROR', details: {} }, DemoCode.PEER_ERROR), false)
    assert.equal(isDemoError(undefined, DemoCode.PEER_ERROR), false)
  })

  it('keeps isBitwrkError working with and without a code', () => {
    const err = demoError(DemoCode.UNEXPECTED_PHASE, 'left the phase', { phase: 'WORK_DISPUTED' })
    assert.equal(isBitwrkError(err), true)
    assert.equal(isBitwrkError(err, DemoCode.UNEXPECTED_PHASE), true)
    assert.equal(isBitwrkError(err, DemoCode.PEER_ERROR), false)
    assert.equal(isBitwrkError(new Error('x')), false)
    // undeclared shapes: any details, `cause` a string
    const timeout = new BitwrkError(DemoCode.TIMEOUT, 'timed out', { cause: 'DEMO_CLOSED', ms: 5 })
    assert.ok(isDemoError(timeout, DemoCode.TIMEOUT))
    const cause: string | undefined = timeout.details.cause
    assert.equal(cause, 'DEMO_CLOSED')
    assert.equal(timeout.details['ms'], 5)
  })

  it('checks the details shape per code at compile time', () => {
    // @ts-expect-error remoteCode must be a string
    demoError(DemoCode.PEER_ERROR, 'peer reported an error', { remoteCode: 5 })
    // @ts-expect-error remoteCode is required
    demoError(DemoCode.PEER_ERROR, 'peer reported an error', {})
    // @ts-expect-error declared details are required
    demoError(DemoCode.PEER_ERROR, 'peer reported an error')
    // @ts-expect-error no other fields than the declared ones
    demoError(DemoCode.UNEXPECTED_PHASE, 'left the phase', { phase: 'WORKING', txid: 'abc' })
    // @ts-expect-error a code of another module
    demoError('TRADE_TIMEOUT', 'timed out')
    // undeclared codes take any details
    demoError(DemoCode.TIMEOUT, 'timed out', { ms: 5 })
    const err: unknown = demoError(DemoCode.UNEXPECTED_PHASE, 'left the phase', {})
    if (isDemoError(err, DemoCode.UNEXPECTED_PHASE)) {
      // @ts-expect-error the declared shape has no remoteCode
      assert.equal(err.details.remoteCode, undefined)
      // @ts-expect-error phase is a string (or absent), not a number
      const phase: number | undefined = err.details.phase
      assert.equal(phase, undefined)
    }
    // @ts-expect-error the guard takes only the module's codes
    assert.equal(isDemoError(err, 'TRADE_TIMEOUT'), false)
  })
})
