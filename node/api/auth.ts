/**
 * Local security of the API (protocol/spec/local-api.md API-3): loopback peers and the bearer
 * token kept in a cookie file in the data directory (as bitcoind does). The request guards that
 * use them are `guard.ts`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'

/** Name of the token file in the data directory. */
export const COOKIE_FILE_NAME = '.cookie'
/**
 * Prefix of the HTTP cookie that may carry the token; the full name ends with the API's port
 * (`bitwrk_token_8081`), since browsers share cookies between the ports of one host (API-3).
 */
export const TOKEN_COOKIE_PREFIX = 'bitwrk_token_'

/** The token cookie's name for an API on `port`. */
export function tokenCookieName(port: number): string {
  return `${TOKEN_COOKIE_PREFIX}${port}`
}
/** Token length: 32 random bytes, 64 hex digits. */
export const TOKEN_BYTES = 32

/** True for an IPv4 loopback, `::1`, or an IPv4-mapped loopback address. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false
  const a = address.startsWith('::ffff:') ? address.slice(7) : address
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a)
}

/**
 * Writes a fresh random token to `<dataDir>/.cookie` (mode 0600, replacing an old one) and
 * returns it with the file's path.
 */
export async function createCookieFile(dataDir: string): Promise<{ token: string; path: string }> {
  const path = join(dataDir, COOKIE_FILE_NAME)
  const token = randomBytes(TOKEN_BYTES).toString('hex')
  // Remove first so the new file is created with 0600 even if an old one had wider modes.
  await rm(path, { force: true })
  const fh = await open(path, 'wx', 0o600)
  try {
    await fh.writeFile(token)
    await fh.sync()
  } finally {
    await fh.close()
  }
  return { token, path }
}

/** Deletes the cookie file (on stop); missing is fine. */
export async function removeCookieFile(path: string): Promise<void> {
  await rm(path, { force: true })
}

/** The token a request carries: `Authorization: Bearer <t>` or the cookie `cookieName=<t>`. */
export function requestToken(
  authorization: string | undefined,
  cookie: string | undefined,
  cookieName: string
): string | undefined {
  if (authorization !== undefined) {
    const m = /^Bearer ([0-9a-f]{1,128})$/i.exec(authorization.trim())
    if (m) return m[1]
  }
  if (cookie !== undefined) {
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=')
      if (eq > 0 && part.slice(0, eq).trim() === cookieName) return part.slice(eq + 1).trim()
    }
  }
  return undefined
}

/** Constant-time comparison of a presented token with the expected one. */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false
  const a = Buffer.from(presented)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}
