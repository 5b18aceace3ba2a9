/**
 * Push URLs and the operator's allow list (protocol/spec/local-api.md WRK-2, WRK-8, WRK-9).
 * A push URL is parsed with the WHATWG URL parser and normalised once; the normalised URL is
 * what is checked, stored, listed and POSTed to, so the check and the request can never
 * disagree about the host (`0x7f.1`, `2130706433`, `127.1` and `[::ffff:127.0.0.1]` are all
 * `127.0.0.1`). Whether it is allowed is decided on (host, port) against allow rules.
 */
import { WorkerCode, workerError } from './errors.js'

/** Longest push URL (WRK-1). */
export const WORKER_URL_MAX_LENGTH = 2048

/** A push URL after {@link normalisePushUrl}. */
export interface PushTarget {
  /** The normalised URL: `http://<host>[:<port>]/<path>[?<query>]`, no credentials, no fragment. */
  readonly url: string
  /** Lower-case DNS name, dotted IPv4, or `[v6]` in compressed form. */
  readonly host: string
  /** The TCP port the request goes to (80 when the URL names none). */
  readonly port: number
  /** The host is a loopback name or address: `localhost`, `127.0.0.0/8` or `[::1]`. */
  readonly loopback: boolean
}

/** One `--worker-allow` entry: a host (or every loopback host) and a port range. */
export interface WorkerAllowRule {
  /** A normalised host as in {@link PushTarget.host}; `localhost` stands for every loopback host. */
  readonly host: string
  /** Lowest allowed port. */
  readonly minPort: number
  /** Highest allowed port. */
  readonly maxPort: number
}

/**
 * The policy without `--worker-allow`: any port of any loopback host, the original client's
 * behaviour (it pushed to any URL). Any program that may register a worker can therefore make
 * the node POST work to any local TCP port (WRK-9 explains the risk).
 */
export const DEFAULT_WORKER_ALLOW: readonly WorkerAllowRule[] = Object.freeze([
  Object.freeze({ host: 'localhost', minPort: 1, maxPort: 65535 })
])

/** Port HTTP uses when a URL names none (RFC 9110 §4.2.1). */
const HTTP_DEFAULT_PORT = 80

/** Highest TCP port. */
const MAX_PORT = 65535

/** Printable ASCII without space: anything else (controls, unicode) is refused before parsing. */
const PRINTABLE_RE = /^[\x21-\x7e]+$/

/**
 * A DNS name after WHATWG's lower-casing and punycode: labels of 1-63 letters, digits, `_`
 * and inner hyphens (RFC 1123 §2.1; `_` as in service names).
 */
const DNS_LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?'
const DNS_NAME_RE = new RegExp(`^${DNS_LABEL}(?:\\.${DNS_LABEL})*$`)

/** Longest DNS name (RFC 1035 §2.3.4). */
const DNS_NAME_MAX_LENGTH = 253

/** IPv4-mapped IPv6 as WHATWG serialises it (`[::ffff:7f00:1]`). */
const MAPPED_V4_RE = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/

const IPV4_RE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/

function invalid(reason: string): never {
  throw workerError(WorkerCode.INVALID, `pushurl ${reason}`, { field: 'pushurl' })
}

/** `[::ffff:a:b]` → the dotted IPv4 address it maps, else undefined. */
function mappedV4(host: string): string | undefined {
  const m = MAPPED_V4_RE.exec(host)
  if (m === null) return undefined
  const hi = Number.parseInt(m[1] as string, 16)
  const lo = Number.parseInt(m[2] as string, 16)
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`
}

/** Whether a normalised host is a loopback name or address (WRK-2). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || (IPV4_RE.test(host) && host.startsWith('127.'))
}

/**
 * Normalises a host the way a push URL's host is normalised (WRK-8): WHATWG host parsing
 * (IPv4 in any notation → dotted quad, IPv6 → compressed, names lower-cased), IPv4-mapped
 * IPv6 → IPv4, one trailing dot of a name dropped. Undefined when it is no valid host.
 */
function normaliseHost(url: URL): string | undefined {
  let host = url.hostname
  const v4 = mappedV4(host)
  if (v4 !== undefined) host = v4
  else if (!host.startsWith('[') && !IPV4_RE.test(host)) {
    // A fully qualified name (`localhost.`) is the same host; drop the root label once.
    if (host.endsWith('.')) host = host.slice(0, -1)
    // WHATWG already turned every name whose last label is numeric into IPv4 (or refused it).
    if (host.length > DNS_NAME_MAX_LENGTH || !DNS_NAME_RE.test(host)) return undefined
  }
  url.hostname = host
  return host
}

/**
 * Parses and normalises a push URL (WRK-8). Throws `WORKER_INVALID` (`details.field`
 * `pushurl`) when it is not printable ASCII of 1-2048 characters, not a URL, not `http:`, has
 * credentials, names port 0, or its host is no IPv4, IPv6 or DNS name.
 */
export function normalisePushUrl(text: unknown): PushTarget {
  if (typeof text !== 'string' || text.length === 0 || text.length > WORKER_URL_MAX_LENGTH)
    invalid(`must have 1-${WORKER_URL_MAX_LENGTH} characters`)
  // No whitespace, controls or unicode: WHATWG would strip or IDNA-map them silently
  // (`①②⑦.0.0.1` is 127.0.0.1), and a URL the operator reads must be the one used.
  if (!PRINTABLE_RE.test(text)) invalid('must be printable ASCII without spaces')
  let url: URL
  try {
    url = new URL(text)
  } catch {
    invalid('is not a URL')
  }
  // The original's only method is "http-push" (original §8.4); https would need a CA-signed
  // certificate for a loopback worker and nothing else supports it.
  if (url.protocol !== 'http:') invalid('must be an http: URL')
  if (url.username !== '' || url.password !== '') invalid('must not carry credentials')
  const host = normaliseHost(url)
  if (host === undefined) invalid('has an invalid host name')
  const port = url.port === '' ? HTTP_DEFAULT_PORT : Number(url.port)
  if (port === 0) invalid('must not name port 0')
  // The fragment is never sent; dropping it keeps one spelling per target.
  url.hash = ''
  return Object.freeze({ url: url.toString(), host, port, loopback: isLoopbackHost(host) })
}

function badRule(entry: string, reason: string): never {
  throw workerError(WorkerCode.ALLOW_INVALID, `worker allow entry '${entry.slice(0, 80)}': ${reason}`, {
    entry: entry.slice(0, 80)
  })
}

function parsePort(text: string, entry: string): number {
  if (!/^[1-9]\d{0,4}$/.test(text) || Number(text) > MAX_PORT) badRule(entry, `bad port '${text}'`)
  return Number(text)
}

/**
 * Parses one `--worker-allow` entry (WRK-9): `HOST:PORT`, `HOST:LOW-HIGH` or `HOST:*`, where
 * HOST is `localhost` (every loopback host), an IPv4 address, `[IPv6]` or a DNS name, normalised
 * like a push URL's host. Throws `WORKER_ALLOW_INVALID`.
 */
export function parseWorkerAllow(entry: string): WorkerAllowRule {
  const colon = entry.lastIndexOf(':')
  if (colon <= 0) badRule(entry, 'expected HOST:PORT, HOST:LOW-HIGH or HOST:*')
  const hostText = entry.slice(0, colon)
  const portText = entry.slice(colon + 1)
  let target: PushTarget
  try {
    target = normalisePushUrl(`http://${hostText}/`)
  } catch {
    badRule(entry, `bad host '${hostText.slice(0, 80)}'`)
  }
  // Anything but a bare host (`a/b`, `a?b`, `u@a`) would have changed the URL's path or query.
  if (target.url !== `http://${target.host}/`) badRule(entry, `bad host '${hostText.slice(0, 80)}'`)
  if (portText === '*') return Object.freeze({ host: target.host, minPort: 1, maxPort: MAX_PORT })
  const dash = portText.indexOf('-')
  const minPort = parsePort(dash < 0 ? portText : portText.slice(0, dash), entry)
  const maxPort = dash < 0 ? minPort : parsePort(portText.slice(dash + 1), entry)
  if (maxPort < minPort) badRule(entry, 'port range runs backwards')
  return Object.freeze({ host: target.host, minPort, maxPort })
}

/** Parses a comma-separated `--worker-allow` list; empty items are skipped. */
export function parseWorkerAllowList(text: string): WorkerAllowRule[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(parseWorkerAllow)
}

/** Whether `target` matches one of `rules` (a `localhost` rule matches every loopback host). */
export function isAllowedTarget(target: PushTarget, rules: readonly WorkerAllowRule[]): boolean {
  return rules.some(
    (r) =>
      (r.host === target.host || (r.host === 'localhost' && target.loopback)) &&
      target.port >= r.minPort &&
      target.port <= r.maxPort
  )
}
