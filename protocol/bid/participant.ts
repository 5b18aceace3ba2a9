import { bytesEqual, hash160, type Network, tryDecodeAddress, tryPeerIdKeyBytes } from '../identity/index.js'
import { BidCode, type BidErrorCode } from './errors.js'

/** Result of {@link checkParticipant}: the peer's 33-byte key, or the failing rule's code. */
export type ParticipantCheck = { ok: true; peerKey: Uint8Array } | { ok: false; code: BidErrorCode }

/**
 * Bound of the memo of verified participants. Active participants repeat across their bids;
 * 4096 entries of about 150 bytes each stay under 1 MB (invariant 10), and the memo is simply
 * emptied when full, so a flood of fresh identities costs no more than no memo at all.
 */
const MEMO_MAX = 4096

interface MemoEntry {
  readonly address: string
  readonly network: Network
  readonly peerKey: Uint8Array
}

// Memo of a pure function's successful results (peer id → address, network, key): it changes
// no outcome, only skips two Base58 decodes and four hashes per bid of a known participant.
const memo = new Map<string, MemoEntry>()

/**
 * BID-8 … BID-10: `address` is a P2PKH address of `network`, `peerId` a secp256k1 peer id,
 * and the peer's key hashes to the address (DESIGN.md invariant 2).
 */
export function checkParticipant(address: string, peerId: string, network: Network): ParticipantCheck {
  const hit = memo.get(peerId)
  if (hit !== undefined && hit.address === address && hit.network === network)
    return { ok: true, peerKey: hit.peerKey }
  // [REJECT] BID-8: the address must decode and belong to the market's network.
  const addr = tryDecodeAddress(address)
  if (!addr.ok || addr.network !== network) return { ok: false, code: BidCode.badAddress }
  // [REJECT] BID-9: the peer id must be an inlined secp256k1 key.
  const peer = tryPeerIdKeyBytes(peerId)
  if (!peer.ok) return { ok: false, code: BidCode.badPeerId }
  // [REJECT] BID-10: the peer's key must hash to the participant address (compare hash160s).
  if (!bytesEqual(hash160(peer.publicKey), addr.hash160)) return { ok: false, code: BidCode.peerMismatch }
  if (memo.size >= MEMO_MAX) memo.clear()
  memo.set(peerId, { address, network, peerKey: peer.publicKey })
  return { ok: true, peerKey: peer.publicKey }
}
