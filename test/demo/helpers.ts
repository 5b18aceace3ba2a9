import assert from 'node:assert/strict'
import { isBitwrkError } from '../../protocol/errors.js'

/** Asserts that `fn` throws a BitwrkError with `code`. */
export function throwsCode(fn: () => unknown, code: string, label = ''): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBitwrkError(err), `${label}: not a BitwrkError: ${String(err)}`)
    assert.equal(err.code, code, `${label}: ${err.message}`)
    return true
  })
}

/** A deep copy of a JSON value, to mutate in hostile tables. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T
}
