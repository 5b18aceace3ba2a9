import { secp256k1 } from '@noble/curves/secp256k1.js'
import { base58Decode, base58Encode } from './base58.js'
import { IdentityCode, identityError, type PeerIdFailure } from './errors.js'

/**
 * Prefix of a secp256k1 libp2p peer id before the 33-byte compressed key:
 * identity multihash (code 0x00, length 0x25 = 37) of the protobuf `PublicKey` message
 * `{ 1: Type = 2 (Secp256k1), 2: Data = 33 bytes }` = `08 02 12 21 <key>`
 * (libp2p peer-ids spec: keys of 42 bytes or less are inlined with the identity hash).
 */
export const PEER_ID_PREFIX: Uint8Array = Uint8Array.of(0x00, 0x25, 0x08, 0x02, 0x12, 0x21)

/** Length of the decoded peer id: 6-byte prefix + 33-byte compressed key. */
export const PEER_ID_BYTES = 39

// 39 bytes are 53 Base58 characters; longer text is refused before decoding.
const PEER_ID_MAX_CHARS = 60

/** libp2p peer id (base58btc, "16Uiu2…") of a 33-byte compressed secp256k1 public key. */
export function peerIdFromPublicKey(compressedPublicKey: Uint8Array): string {
  const k = compressedPublicKey
  if (k.length !== 33 || (k[0] !== 0x02 && k[0] !== 0x03))
    throw identityError(IdentityCode.BAD_PUBLIC_KEY, 'peer id needs a 33-byte compressed key')
  const bytes = new Uint8Array(PEER_ID_BYTES)
  bytes.set(PEER_ID_PREFIX)
  bytes.set(k, PEER_ID_PREFIX.length)
  return base58Encode(bytes)
}

/** Result of {@link tryPeerIdKeyBytes}. */
export type PeerIdKeyResult = { ok: true; publicKey: Uint8Array } | { ok: false; reason: PeerIdFailure }

/**
 * The 33 key bytes inside a secp256k1 peer id, checking structure only (prefix, length,
 * 0x02/0x03 tag) but NOT that the point is on the curve: validators that compare the bytes
 * with a key recovered from a signature get that check for free.
 */
export function tryPeerIdKeyBytes(peerId: string): PeerIdKeyResult {
  if (typeof peerId !== 'string') return { ok: false, reason: 'base58' }
  if (peerId.length > PEER_ID_MAX_CHARS) return { ok: false, reason: 'length' }
  const bytes = base58Decode(peerId, PEER_ID_MAX_CHARS)
  if (bytes === undefined) return { ok: false, reason: 'base58' }
  if (bytes.length !== PEER_ID_BYTES) return { ok: false, reason: 'length' }
  for (let i = 0; i < PEER_ID_PREFIX.length; i++)
    if (bytes[i] !== PEER_ID_PREFIX[i]) return { ok: false, reason: 'prefix' }
  const tag = bytes[PEER_ID_PREFIX.length]
  if (tag !== 0x02 && tag !== 0x03) return { ok: false, reason: 'point' }
  return { ok: true, publicKey: bytes.subarray(PEER_ID_PREFIX.length) }
}

/**
 * The 33-byte compressed secp256k1 public key named by a libp2p peer id. Throws
 * `ID_BAD_PEER_ID` (`details.reason`: `base58`, `length`, `prefix` — not an inlined
 * secp256k1 key, e.g. an Ed25519 or hashed RSA peer id — or `point`, not on the curve).
 */
export function publicKeyFromPeerId(peerId: string): Uint8Array {
  const r = tryPeerIdKeyBytes(peerId)
  if (!r.ok) throw identityError(IdentityCode.BAD_PEER_ID, `bad peer id (${r.reason})`, r.reason)
  try {
    secp256k1.Point.fromBytes(r.publicKey)
  } catch {
    throw identityError(IdentityCode.BAD_PEER_ID, 'peer id key is not on secp256k1', 'point')
  }
  return r.publicKey.slice()
}
