/**
 * The one assertion for "fails with this error code" (issue 13): a rejection or a throw must be a
 * {@link BitwrkError} carrying exactly `code`; the helpers return the error for further checks.
 */
import assert from 'node:assert/strict'
import { type BitwrkError, isBitwrkError } from '../../protocol/errors.js'

/** Asserts that `err` is a BitwrkError with exactly `code`, `label` prefixing the messages. */
function checkCode(err: unknown, code: string, label: string): BitwrkError {
  const at = label === '' ? '' : `${label}: `
  assert.ok(isBitwrkError(err), `${at}expected ${code}, not a BitwrkError: ${String(err)}`)
  assert.equal(err.code, code, `${at}expected ${code}, got ${err.code}: ${err.message}`)
  return err
}

/**
 * Asserts that `p` (a promise, or a function returning one) rejects with a BitwrkError of
 * exactly `code`; returns the error.
 */
export async function rejectsWithCode(
  p: Promise<unknown> | (() => Promise<unknown>),
  code: string,
  label = ''
): Promise<BitwrkError> {
  let caught: BitwrkError | undefined
  await assert.rejects(
    p,
    (err: unknown) => {
      caught = checkCode(err, code, label)
      return true
    },
    `${label === '' ? '' : `${label}: `}expected ${code}, but it resolved`
  )
  return caught as BitwrkError
}

/** Asserts that `fn` throws a BitwrkError of exactly `code`; returns the error. */
export function throwsCode(fn: () => unknown, code: string, label = ''): BitwrkError {
  let caught: BitwrkError | undefined
  assert.throws(
    fn,
    (err: unknown) => {
      caught = checkCode(err, code, label)
      return true
    },
    `${label === '' ? '' : `${label}: `}expected ${code}, but it returned`
  )
  return caught as BitwrkError
}
