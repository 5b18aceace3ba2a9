import { addressFromPublicKey } from './address.js'
import { IdentityCode, identityError } from './errors.js'
import { checkPrivateKey, decodeWif, encodeWif, isValidPrivateKey, publicKeyFromPrivate } from './keys.js'
import { signMessage } from './message.js'
import { peerIdFromPublicKey } from './peer-id.js'

// Probability that 32 random bytes are not a valid scalar is about 2^-128; 16 tries only
// guard against a broken random source.
const GENERATE_ATTEMPTS = 16

/**
 * A participant's secp256k1 key: its market identity (mainnet P2PKH address) and its
 * libp2p peer identity (DESIGN.md invariant 2). The peer id always uses the compressed key,
 * so only compressed identities have an address that their peer id hashes to.
 */
export class Identity {
  /** 32-byte private scalar. Never log it. */
  readonly privateKey: Uint8Array
  /** Whether the address (and signatures) use the compressed public key. */
  readonly compressed: boolean
  /** SEC1 public key in the form the address uses (33 or 65 bytes). */
  readonly publicKey: Uint8Array
  /** Mainnet P2PKH address (account id). */
  readonly address: string
  /** libp2p peer id of the same key (compressed form). */
  readonly peerId: string

  private constructor(privateKey: Uint8Array, compressed: boolean) {
    this.privateKey = checkPrivateKey(privateKey).slice()
    this.compressed = compressed
    this.publicKey = publicKeyFromPrivate(this.privateKey, compressed)
    this.address = addressFromPublicKey(this.publicKey)
    this.peerId = peerIdFromPublicKey(
      compressed ? this.publicKey : publicKeyFromPrivate(this.privateKey, true)
    )
  }

  /** Identity of a WIF string (throws `ID_BAD_WIF`). */
  static fromWif(wif: string): Identity {
    const { privateKey, compressed } = decodeWif(wif)
    return new Identity(privateKey, compressed)
  }

  /** Identity of a raw 32-byte key (throws `ID_BAD_PRIVATE_KEY`); compressed by default. */
  static fromPrivateKey(privateKey: Uint8Array, compressed = true): Identity {
    return new Identity(privateKey, compressed)
  }

  /** A fresh compressed mainnet identity from an injected random source of `n` bytes. */
  static generate(random: (n: number) => Uint8Array): Identity {
    for (let i = 0; i < GENERATE_ATTEMPTS; i++) {
      const candidate = random(32)
      if (isValidPrivateKey(candidate)) return new Identity(candidate, true)
    }
    throw identityError(IdentityCode.BAD_PRIVATE_KEY, 'random source yields no valid private key')
  }

  /** WIF of this key (with the compression flag when compressed). */
  toWif(): string {
    return encodeWif(this.privateKey, this.compressed)
  }

  /** Bitcoin signed-message signature (Base64) of `message`, RFC 6979 nonce. */
  sign(message: string | Uint8Array): string {
    return signMessage(this.privateKey, message, { compressed: this.compressed })
  }
}
