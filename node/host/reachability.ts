/**
 * Reachability (protocol/spec/network.md NET-9 … NET-11): is this node dialable from the public
 * scope? Derived from libp2p's address book, whose public addresses AutoNAT (`@libp2p/autonat`
 * v1) confirms or refutes by asking peers to dial them back. {@link reachabilityOf} is pure;
 * {@link libp2pAddressBook} reads the running node's address manager.
 */
import type { Libp2p } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { isCircuit, scopeOf } from './addresses.js'

/** The three answers of NET-9. */
export type Reachability = 'public' | 'private' | 'unknown'

/** All values of {@link Reachability}, for metric labels. */
export const REACHABILITIES: readonly Reachability[] = ['public', 'private', 'unknown']

/** One entry of libp2p's address book (the fields of interface-internal's `NodeAddress` we read). */
export interface AddressRecord {
  readonly multiaddr: Multiaddr
  /** Safe to share: confirmed (AutoNAT, an operator's announce) or not in need of confirmation. */
  readonly verified: boolean
  /** `transport` (a listener), `announce`, `observed` (identify), `ip-mapping`, `dns-mapping`. */
  readonly type: string
  /** After this (ms since the epoch) the address is due for (re)verification. */
  readonly expires: number
}

/**
 * The IPv4 ranges libp2p's own `isPrivate` counts as private although NET-3 counts them as public
 * (@libp2p/utils 7 `private-ip.js`): AutoNAT v1 neither asks for nor performs a dial-back to them,
 * so such an address is never verified by AutoNAT. The emulated internet's 198.18.0.0/15 is one.
 */
const AUTONAT_BLIND_V4 = [
  /^198\.1[89]\./,
  /^192\.0\.0\./,
  /^192\.0\.2\./,
  /^198\.51\.100\./,
  /^203\.0\.113\./
]

/** True when AutoNAT v1 cannot check `ma` (see {@link AUTONAT_BLIND_V4}). */
export function autonatBlind(ma: Multiaddr): boolean {
  const first = ma.getComponents()[0]
  return first?.name === 'ip4' && AUTONAT_BLIND_V4.some((re) => re.test(first.value ?? ''))
}

/**
 * NET-9 from the address book at time `nowMs`:
 * - `public` when a public-scope, non-relay address is verified: confirmed by AutoNAT, announced
 *   by the operator (`--announce`: the operator's statement), or a listener bound to a public
 *   address that AutoNAT cannot check (libp2p counts it private and shares it unverified; the
 *   node has that address on an interface, so no NAT sits in front of it);
 * - `private` when the node has no public-scope address at all, or every one it has was refuted
 *   (AutoNAT failed: unverified with a retry time still ahead) or cannot be checked by AutoNAT
 *   and is not bound on an interface (an observed address of the NAT in front of us);
 * - `unknown` while a public candidate awaits AutoNAT.
 */
export function reachabilityOf(addrs: readonly AddressRecord[], nowMs: number): Reachability {
  const candidates = addrs.filter((a) => !isCircuit(a.multiaddr) && scopeOf(a.multiaddr) === 'public')
  if (candidates.some((a) => a.verified)) return 'public'
  if (candidates.every((a) => a.expires > nowMs || autonatBlind(a.multiaddr))) return 'private'
  return 'unknown'
}

/** The members of libp2p 3's components this module reads (internals: checked by the host tests). */
interface Libp2pInternals {
  components?: {
    addressManager?: { getAddressesWithMetadata?: () => AddressRecord[] }
    transportManager?: { getAddrs?: () => Multiaddr[] }
  }
}

/**
 * The running node's address book (`addressManager.getAddressesWithMetadata()`). libp2p 3 has no
 * public API for it; when a later version renames it, this returns an empty book and the node
 * reports `private` until an operator's announce says otherwise.
 */
export function libp2pAddressBook(libp2p: Libp2p): () => AddressRecord[] {
  const am = (libp2p as unknown as Libp2pInternals).components?.addressManager
  const get = am?.getAddressesWithMetadata
  if (am === undefined || typeof get !== 'function') return () => []
  return () => get.call(am)
}

/**
 * The node's own transport addresses before the announce filter (listeners, relay reservations);
 * libp2p 3 has no public API for them (`getMultiaddrs()` is filtered for peers).
 */
export function libp2pTransportAddrs(libp2p: Libp2p): () => Multiaddr[] {
  const tm = (libp2p as unknown as Libp2pInternals).components?.transportManager
  const get = tm?.getAddrs
  if (tm === undefined || typeof get !== 'function') return () => libp2p.getMultiaddrs()
  return () => get.call(tm)
}
