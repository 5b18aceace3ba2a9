import { BitwrkError } from '../../protocol/errors.js'

export * from '../../protocol/identity/index.js'

/** `assert.throws` predicate: a BitwrkError with `code` (and `details.reason` if given). */
export function isBitwrkErrorWith(code: string, reason?: string): (err: unknown) => boolean {
  return (err: unknown) =>
    err instanceof BitwrkError &&
    err.code === code &&
    (reason === undefined || err.details['reason'] === reason)
}

export { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
