import { BitwrkError } from '../errors.js'

/** Error codes of `protocol/identity` (spec: protocol/spec/identity.md). */
export const IdentityCode = {
  /** A WIF private key string does not decode (see `details.reason`). */
  BAD_WIF: 'ID_BAD_WIF',
  /** A Base58Check P2PKH address does not decode (see `details.reason`). */
  BAD_ADDRESS: 'ID_BAD_ADDRESS',
  /** A libp2p peer id is not the base58btc identity multihash of a secp256k1 key. */
  BAD_PEER_ID: 'ID_BAD_PEER_ID',
  /** A private key is not 32 bytes or not a scalar in [1, n-1]. */
  BAD_PRIVATE_KEY: 'ID_BAD_PRIVATE_KEY',
  /** A public key is not a valid 33- or 65-byte SEC1 point on secp256k1. */
  BAD_PUBLIC_KEY: 'ID_BAD_PUBLIC_KEY',
  /** An explicit signing nonce `k` is outside [1, n-1] or yields r = 0 or s = 0. */
  BAD_NONCE: 'ID_BAD_NONCE'
} as const

/** Union of the identity error codes. */
export type IdentityErrorCode = (typeof IdentityCode)[keyof typeof IdentityCode]

/** Why a WIF string was refused (`details.reason` of `ID_BAD_WIF`). */
export type WifFailure = 'base58' | 'length' | 'version' | 'checksum' | 'flag' | 'key'

/** Why an address was refused (`details.reason` of `ID_BAD_ADDRESS`). */
export type AddressFailure = 'base58' | 'length' | 'version' | 'checksum'

/** Why a peer id was refused (`details.reason` of `ID_BAD_PEER_ID`). */
export type PeerIdFailure = 'base58' | 'length' | 'prefix' | 'point'

/** Builds the BitwrkError thrown by identity parse functions. */
export function identityError(
  code: IdentityErrorCode,
  message: string,
  reason?: string
): BitwrkError<IdentityErrorCode> {
  return new BitwrkError(code, message, reason === undefined ? {} : { reason })
}
