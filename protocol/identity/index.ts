/**
 * protocol/identity: secp256k1 keys, WIF, Base58Check P2PKH addresses, Bitcoin signed
 * messages and libp2p secp256k1 peer ids (spec: protocol/spec/identity.md).
 */
export {
  ADDRESS_VERSION,
  type AddressResult,
  addressFromHash160,
  addressFromPublicKey,
  decodeAddress,
  tryDecodeAddress
} from './address.js'
export { base58CheckDecode, base58CheckEncode, base58Decode, base58Encode } from './base58.js'
export { base64Decode, base64Encode } from './base64.js'
export {
  type AddressFailure,
  IdentityCode,
  type IdentityErrorCode,
  type PeerIdFailure,
  type WifFailure
} from './errors.js'
export { bytesEqual, hash160, sha256d } from './hash.js'
export { Identity } from './identity.js'
export {
  CURVE_ORDER,
  decodeWif,
  encodeWif,
  isValidPrivateKey,
  type KeyPair,
  type Network,
  publicKeyFromPrivate,
  WIF_COMPRESSED_FLAG,
  WIF_VERSION
} from './keys.js'
export {
  bitcoinVarint,
  COMPACT_SIGNATURE_LENGTH,
  type CompactSignature,
  decodeCompactSignature,
  MESSAGE_MAGIC,
  messageDigest,
  recoverAddress,
  recoverMessagePublicKey,
  SIGNATURE_HEADER_MAX,
  SIGNATURE_HEADER_MIN,
  signMessage,
  verifyMessage
} from './message.js'
export {
  PEER_ID_BYTES,
  PEER_ID_PREFIX,
  type PeerIdKeyResult,
  peerIdFromPublicKey,
  publicKeyFromPeerId,
  tryPeerIdKeyBytes
} from './peer-id.js'
export { nativeSecp256k1Available, recoverPublicKey } from './recover.js'
