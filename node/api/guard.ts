/**
 * The guards every request of the local HTTP API passes before its route runs
 * (protocol/spec/local-api.md API-2, API-3, API-19): the Host allow list (DNS rebinding), the
 * API's own origin (Origin, Sec-Fetch-Site), the media type of state-changing requests, and the
 * token. They are pure functions of the request's headers and the server's binding, so one
 * table-driven test covers them and no listener of the node can skip them.
 */
import { isIP } from 'node:net'
import { isLoopbackAddress, requestToken, tokenMatches } from './auth.js'
import { ApiCode, ApiError } from './errors.js'

/** What the guards need to know about the server. */
export interface GuardPolicy {
  /** The port the API is bound to: a browser origin must name it. */
  readonly port: number
  /** True when the API is bound to a loopback interface. */
  readonly loopbackBind: boolean
  /** Host names (lower case, no port) accepted besides loopback names and, off loopback, IP literals. */
  readonly allowedHosts: readonly string[]
  /** The token, when one is required (API-3). */
  readonly token: string | undefined
  /** The name of the cookie that may carry the token (API-3: one per port). */
  readonly cookieName: string
}

/** What the guards need to know about the route. */
export interface GuardRoute {
  /** The request changes state (API-3). */
  readonly changesState: boolean
  /** Answers any peer without a token (`/id`, `/version`, `/myip`). */
  readonly public: boolean
  /** Exempt from the token (worker endpoints opened by the operator). */
  readonly tokenExempt: boolean
  /** Takes a raw upload of any media type (the work of `POST /buy`, API-6). */
  readonly anyBodyType?: boolean
}

/** The parts of a request the guards read. */
export interface GuardRequest {
  readonly method: string
  readonly headers: {
    readonly host?: string | undefined
    readonly origin?: string | undefined
    readonly 'sec-fetch-site'?: string | undefined
    readonly 'sec-fetch-mode'?: string | undefined
    readonly 'sec-fetch-dest'?: string | undefined
    readonly 'content-type'?: string | undefined
    readonly authorization?: string | undefined
    readonly cookie?: string | undefined
  }
  /** The peer's IP address. */
  readonly peer: string | undefined
}

/** `localhost`, a dotted IPv4 loopback literal or `[::1]`. */
function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name === '[::1]' || (isIP(name) === 4 && isLoopbackAddress(name))
}

/**
 * Splits a `Host` header value (or an origin's host) into a lower-case name and a port; undefined
 * when it is not `name[:port]` with a DNS name, a dotted IPv4 literal or a bracketed IPv6 literal.
 */
export function parseHostHeader(value: string): { name: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(value)
  if (m === null) return undefined
  const name = (m[1] as string).toLowerCase()
  if (name.startsWith('[') && isIP(name.slice(1, -1)) !== 6) return undefined
  const port = m[2] === undefined ? undefined : Number(m[2])
  if (port !== undefined && (port < 1 || port > 65_535)) return undefined
  return { name, port }
}

/**
 * API-2: a `Host` name this server answers to. Loopback names always; bound beyond loopback,
 * also IP literals (a DNS-rebinding page can only send a name it owns, never an IP literal) and
 * the names the operator allowed (`--api-allow-host`).
 */
export function hostAllowed(name: string, policy: GuardPolicy): boolean {
  if (isLoopbackName(name)) return true
  if (policy.allowedHosts.includes(name)) return true
  if (policy.loopbackBind) return false
  return isIP(name) === 4 || (name.startsWith('[') && isIP(name.slice(1, -1)) === 6)
}

/** API-2: an `Origin` that is this API's own: `http:`, an allowed host name, the bound port. */
export function isOwnOrigin(origin: string, policy: GuardPolicy): boolean {
  const m = /^http:\/\/([^/?#@]+)$/i.exec(origin)
  if (m === null) return false
  const host = parseHostHeader(m[1] as string)
  if (host === undefined) return false
  return (host.port ?? 80) === policy.port && hostAllowed(host.name, policy)
}

/** Media types a browser may send cross-site without a preflight that carry a body we could mistake. */
const REFUSED_MEDIA_TYPES = new Set(['text/plain'])

/**
 * Runs the guards of API-2, API-3 and API-19 in order; throws the {@link ApiError} of the first
 * one that refuses, returns when the request may reach its route.
 */
export function guardRequest(req: GuardRequest, route: GuardRoute, policy: GuardPolicy): void {
  const h = req.headers
  // API-2 (a): Host, always: a DNS-rebinding page sends its own name.
  const host = h.host === undefined ? undefined : parseHostHeader(h.host)
  if (host === undefined || !hostAllowed(host.name, policy))
    throw new ApiError(ApiCode.FORBIDDEN, 'Host header is not a name of this API', 'API_BAD_HOST')
  // API-2 (b): a browser names the page's origin; only the API's own page may talk to it.
  if (h.origin !== undefined && !isOwnOrigin(h.origin, policy))
    throw new ApiError(ApiCode.FORBIDDEN, 'cross-origin request refused', 'API_FOREIGN_ORIGIN')
  // API-2 (c): Sec-Fetch-Site tells even requests without Origin (no-cors GETs) apart. A
  // cross-site top-level navigation to a read-only page is the user following a link.
  const site = h['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    const navigation =
      (req.method === 'GET' || req.method === 'HEAD') &&
      h['sec-fetch-mode'] === 'navigate' &&
      h['sec-fetch-dest'] === 'document' &&
      !route.changesState
    if (!navigation) throw new ApiError(ApiCode.FORBIDDEN, 'cross-site request refused', 'API_CROSS_SITE')
  }
  // API-3: the token for changes when one is required, and for every non-public route a
  // non-loopback peer asks for (files, worker endpoints).
  if (policy.token !== undefined && !route.tokenExempt) {
    const needed = route.changesState || (!route.public && !isLoopbackAddress(req.peer))
    if (needed && !tokenMatches(requestToken(h.authorization, h.cookie, policy.cookieName), policy.token))
      throw new ApiError(ApiCode.UNAUTHORIZED, 'token missing or wrong')
  }
  if (route.changesState && route.anyBodyType !== true) {
    // API-19: the body types a page can send cross-site without a preflight carry no command.
    const type = (h['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
    if (REFUSED_MEDIA_TYPES.has(type))
      throw new ApiError(ApiCode.UNSUPPORTED_MEDIA_TYPE, `${type} is not accepted here`)
  }
}
