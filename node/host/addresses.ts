/**
 * Address scopes and hygiene (protocol/spec/network.md NET-3 … NET-8): which multiaddrs a node
 * announces, which it dials, which peer addresses its DHT keeps. Pure functions of their
 * arguments (the interface list is injected), so every rule is a table test.
 *
 * Scopes, narrowest first: `loopback` (127.0.0.0/8, ::1), `private` (RFC 1918 10/8, 172.16/12,
 * 192.168/16; RFC 6598 shared 100.64/10; link-local 169.254/16 and fe80::/10; unique-local
 * fc00::/7), `public` (everything else that can be a unicast host). Unlike libp2p's own
 * `isPrivate`, the benchmarking range 198.18.0.0/15 (RFC 2544) counts as **public**: the
 * emulated internet of the tests (`notes/emulated-internet.md`) uses it as its public internet,
 * and it is never routed on the real one, so treating it as public cannot leak anything there.
 * `invalid` addresses (unspecified 0.0.0.0/8 and ::, multicast, broadcast, 240/4, ff00::/8)
 * are never dialled or announced. Addresses with no IP or DNS part (`/p2p/Q/p2p-circuit`) have
 * scope `unknown`: there is nothing to judge.
 */
import type { Multiaddr } from '@multiformats/multiaddr'

/** The scope of an address (NET-3). */
export type AddressScope = 'loopback' | 'private' | 'public' | 'invalid' | 'unknown'

/** How wide each dialable scope reaches; wider scopes win in {@link announceable}. */
const RANK: Readonly<Record<'loopback' | 'private' | 'public', number>> = {
  loopback: 0,
  private: 1,
  public: 2
}

/** `[network, prefix length]` of the private IPv4 ranges (NET-3). */
const PRIVATE_V4: readonly (readonly [number, number])[] = [
  [ip4('10.0.0.0'), 8],
  [ip4('172.16.0.0'), 12],
  [ip4('192.168.0.0'), 16],
  [ip4('100.64.0.0'), 10],
  [ip4('169.254.0.0'), 16]
]

/** Ranges that can never be a peer's unicast address. */
const INVALID_V4: readonly (readonly [number, number])[] = [
  [ip4('0.0.0.0'), 8],
  [ip4('224.0.0.0'), 4],
  [ip4('240.0.0.0'), 4]
]

/** Dotted quad → 32-bit unsigned integer; NaN when it is not one. */
function ip4(text: string): number {
  const parts = text.split('.')
  if (parts.length !== 4) return Number.NaN
  let n = 0
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return Number.NaN
    const v = Number(p)
    if (v > 255) return Number.NaN
    n = n * 256 + v
  }
  return n
}

function inRange(n: number, [net, len]: readonly [number, number]): boolean {
  const size = 2 ** (32 - len)
  return Math.floor(n / size) === Math.floor(net / size)
}

/** The scope of a dotted-quad IPv4 address (`invalid` when it does not parse). */
export function ipv4Scope(text: string): AddressScope {
  const n = ip4(text)
  if (Number.isNaN(n)) return 'invalid'
  if (inRange(n, [ip4('127.0.0.0'), 8])) return 'loopback'
  if (INVALID_V4.some((r) => inRange(n, r))) return 'invalid'
  if (PRIVATE_V4.some((r) => inRange(n, r))) return 'private'
  return 'public'
}

/** The scope of a textual IPv6 address (as multiaddr prints it). */
export function ipv6Scope(text: string): AddressScope {
  const t = text.toLowerCase()
  // IPv4-mapped (::ffff:a.b.c.d) takes the IPv4 address's scope
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(t)
  if (mapped?.[1] !== undefined) return ipv4Scope(mapped[1])
  if (!/^[0-9a-f:.]+$/.test(t) || !t.includes(':')) return 'invalid'
  if (t === '::1') return 'loopback'
  if (t === '::') return 'invalid'
  const head = t.startsWith('::') ? 0 : Number.parseInt(t.split(':')[0] ?? '', 16)
  if (Number.isNaN(head) || head > 0xffff) return 'invalid'
  if (head >= 0xff00) return 'invalid' // multicast ff00::/8
  if ((head & 0xfe00) === 0xfc00) return 'private' // unique local fc00::/7
  if ((head & 0xffc0) === 0xfe80) return 'private' // link-local fe80::/10
  return 'public'
}

/**
 * The scope of `ma`: that of its first IP or DNS component. For a relay address
 * (`…/p2p/R/p2p-circuit/…`) this is the scope of the relay's transport address, the one that is
 * actually dialled. `localhost` names are loopback; other DNS names are public.
 */
export function scopeOf(ma: Multiaddr): AddressScope {
  for (const c of ma.getComponents()) {
    switch (c.name) {
      case 'ip4':
        return ipv4Scope(c.value ?? '')
      case 'ip6':
        return ipv6Scope(c.value ?? '')
      case 'dns':
      case 'dns4':
      case 'dns6':
      case 'dnsaddr': {
        const name = (c.value ?? '').toLowerCase()
        return name === 'localhost' || name.endsWith('.localhost') ? 'loopback' : 'public'
      }
      case 'ip6zone':
        continue
      default:
        return 'unknown'
    }
  }
  return 'unknown'
}

/** True for a circuit-relay address (it contains `/p2p-circuit`). */
export function isCircuit(ma: Multiaddr): boolean {
  return ma.getComponents().some((c) => c.name === 'p2p-circuit')
}

/** True when the address's IP is the unspecified address (0.0.0.0 or ::): listen on all interfaces. */
export function isUnspecified(ma: Multiaddr): boolean {
  const first = ma.getComponents()[0]
  return (
    (first?.name === 'ip4' && first.value === '0.0.0.0') || (first?.name === 'ip6' && first.value === '::')
  )
}

/** One interface address as `os.networkInterfaces()` lists it. */
export interface InterfaceAddress {
  readonly address: string
  readonly family: 'IPv4' | 'IPv6' | string | number
  readonly internal: boolean
}

/**
 * The scopes the node lives in (NET-5): those of its explicit listen addresses, and for an
 * unspecified one (`/ip4/0.0.0.0/…`, `/ip6/::/…`) those of the machine's interface addresses of
 * that family, except loopback: a node listening on all interfaces does not thereby dial other
 * peers' `127.x` addresses (they would be processes on its own machine). Circuit listen
 * addresses add nothing.
 */
export function localScopes(
  listen: readonly Multiaddr[],
  interfaces: Readonly<Record<string, readonly InterfaceAddress[] | undefined>>
): Set<AddressScope> {
  const scopes = new Set<AddressScope>()
  for (const ma of listen) {
    if (isCircuit(ma)) continue
    if (!isUnspecified(ma)) {
      const s = scopeOf(ma)
      if (s !== 'invalid' && s !== 'unknown') scopes.add(s)
      continue
    }
    const v6 = ma.getComponents()[0]?.name === 'ip6'
    for (const list of Object.values(interfaces))
      for (const a of list ?? []) {
        const family = a.family === 6 || a.family === 'IPv6' ? 'ip6' : 'ip4'
        if ((family === 'ip6') !== v6) continue
        const s = family === 'ip6' ? ipv6Scope(a.address.split('%')[0] ?? '') : ipv4Scope(a.address)
        if (s === 'private' || s === 'public') scopes.add(s)
      }
  }
  return scopes
}

/**
 * NET-6: may the node dial `ma`? Loopback and private addresses only when the node itself lives
 * in that scope ({@link localScopes}); invalid addresses never; public and unknown ones always.
 * (Loopback-only nodes keep their stricter rule in the host: loopback and nothing else.)
 */
export function dialable(ma: Multiaddr, local: ReadonlySet<AddressScope>): boolean {
  const s = scopeOf(ma)
  switch (s) {
    case 'invalid':
      return false
    case 'loopback':
    case 'private':
      return local.has(s)
    default:
      return true
  }
}

/** What {@link announceable} needs to know about the node. */
export interface AnnounceContext {
  /** Loopback-only mode: everything (loopback) is announced, as before issue 15. */
  readonly loopbackOnly: boolean
  /**
   * The node is in contact with the public scope: a public listen or announce address, or a
   * connection to or from a public address (the node is part of a network that has public peers).
   */
  readonly publicContact: boolean
}

/**
 * NET-4: the addresses a node announces (identify, its peer record, the DHT). libp2p has no
 * per-peer hook for identify, so the rule is per node: announce only the widest scope the node
 * has. A node with a public address, or in contact with the public scope, announces public
 * addresses and relay addresses through public relays and no private or loopback ones (so no
 * public peer is ever told a `10.x` or `127.x` address); a node that knows only private networks
 * announces its private addresses, not loopback; a loopback node announces loopback. Invalid
 * addresses are never announced; addresses without an IP part (scope unknown) always are.
 */
export function announceable(addrs: readonly Multiaddr[], ctx: AnnounceContext): Multiaddr[] {
  const valid = addrs.filter((ma) => scopeOf(ma) !== 'invalid')
  if (ctx.loopbackOnly) return valid
  let widest = ctx.publicContact ? RANK.public : -1
  for (const ma of valid) {
    const s = scopeOf(ma)
    if (s === 'loopback' || s === 'private' || s === 'public') widest = Math.max(widest, RANK[s])
  }
  return valid.filter((ma) => {
    const s = scopeOf(ma)
    return s === 'unknown' || ((s === 'loopback' || s === 'private' || s === 'public') && RANK[s] === widest)
  })
}

/**
 * NET-7: the peer addresses the DHT keeps (its `peerInfoMapper`): those this node may dial
 * ({@link dialable}), i.e. public ones (198.18.0.0/15 included), relay addresses through a relay
 * in such a scope, and private or loopback ones only where the node lives in that scope.
 */
export function usableForDht(addrs: readonly Multiaddr[], local: ReadonlySet<AddressScope>): Multiaddr[] {
  return addrs.filter((ma) => dialable(ma, local))
}

/** The relay's peer id of a circuit address (`…/p2p/R/p2p-circuit…`), or undefined. */
export function relayPeerOf(ma: Multiaddr): string | undefined {
  let last: string | undefined
  for (const c of ma.getComponents()) {
    if (c.name === 'p2p-circuit') return last
    if (c.name === 'p2p') last = c.value
  }
  return undefined
}
