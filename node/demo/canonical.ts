/**
 * Canonical JSON (RAYS-2): object keys sorted by UTF-16 code units, no whitespace, strings and
 * numbers as ECMAScript `JSON.stringify` writes them (numbers: the shortest decimal that
 * round-trips, `1e+21` style exponents). Only plain objects, arrays, strings, finite numbers,
 * booleans and null are allowed: anything else is a bug of the caller and throws `TypeError`.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number')
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`
  }
  throw new TypeError(`canonicalJson: unsupported ${typeof value}`)
}
