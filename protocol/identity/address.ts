import { base58CheckDecode, base58CheckEncode } from './base58.js'
import { IdentityCode, identityError } from './errors.js'
import { hash160 } from './hash.js'
import type { Network } from './keys.js'

/** P2PKH address version byte per network (original §1.3: mainnet 0x00, testnet 0x6f). */
export const ADDRESS_VERSION: Readonly<Record<Network, number>> = { mainnet: 0x00, testnet: 0x6f }

// A P2PKH address is 25 bytes, at most 34 Base58 characters; allow a little slack only.
const ADDRESS_MAX_CHARS = 40

/** Base58Check P2PKH address of a 20-byte key hash. */
export function addressFromHash160(keyHash: Uint8Array, network: Network = 'mainnet'): string {
  if (keyHash.length !== 20) throw new RangeError('hash160 must be 20 bytes')
  const payload = new Uint8Array(21)
  payload[0] = ADDRESS_VERSION[network]
  payload.set(keyHash, 1)
  return base58CheckEncode(payload)
}

/** P2PKH address of a SEC1 public key (compressed and uncompressed forms differ). */
export function addressFromPublicKey(publicKey: Uint8Array, network: Network = 'mainnet'): string {
  if (!(publicKey.length === 33 || publicKey.length === 65))
    throw identityError(IdentityCode.BAD_PUBLIC_KEY, 'public key must be 33 or 65 bytes')
  return addressFromHash160(hash160(publicKey), network)
}

/** Result of {@link tryDecodeAddress}. */
export type AddressResult =
  | { ok: true; network: Network; hash160: Uint8Array }
  | { ok: false; reason: 'base58' | 'length' | 'checksum' | 'version' }

/** Non-throwing {@link decodeAddress} for hot paths (validators). */
export function tryDecodeAddress(address: string): AddressResult {
  if (typeof address !== 'string') return { ok: false, reason: 'base58' }
  const r = base58CheckDecode(address, [25], ADDRESS_MAX_CHARS)
  if (!r.ok) return r
  const version = r.payload[0]
  const network: Network | undefined =
    version === ADDRESS_VERSION.mainnet
      ? 'mainnet'
      : version === ADDRESS_VERSION.testnet
        ? 'testnet'
        : undefined
  if (network === undefined) return { ok: false, reason: 'version' }
  return { ok: true, network, hash160: r.payload.subarray(1, 21) }
}

/**
 * Decodes a P2PKH address into network and key hash. Throws `ID_BAD_ADDRESS` with
 * `details.reason` one of `base58`, `length` (not 25 bytes), `checksum`, `version`
 * (neither 0x00 nor 0x6f).
 */
export function decodeAddress(address: string): { network: Network; hash160: Uint8Array } {
  const r = tryDecodeAddress(address)
  if (!r.ok) throw identityError(IdentityCode.BAD_ADDRESS, `bad address (${r.reason})`, r.reason)
  return { network: r.network, hash160: r.hash160 }
}
