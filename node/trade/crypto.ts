/**
 * Result encryption (TRADE-11; notes §4.8, vectors D): AES-256 in OFB mode with an all-zero
 * IV under a fresh single-use 32-byte key. Ciphertext length = plaintext length, no padding,
 * no MAC: the key is used once, and the buyer checks the decrypted result itself.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { TradeCode, tradeError } from './errors.js'

/** Length of a result key in bytes (AES-256). */
export const RESULT_KEY_BYTES = 32

/** The all-zero IV of the original (acceptable because every key encrypts one result). */
const ZERO_IV = new Uint8Array(16)

function checkKey(key: Uint8Array): void {
  if (key.length !== RESULT_KEY_BYTES) throw tradeError(TradeCode.BAD_ARGUMENT, 'result key must be 32 bytes')
}

/** Encrypts `plaintext` with AES-256-OFB, zero IV (the original's result encryption). */
export function encryptResult(key: Uint8Array, plaintext: Uint8Array): Uint8Array {
  checkKey(key)
  const c = createCipheriv('aes-256-ofb', key, ZERO_IV)
  return new Uint8Array(Buffer.concat([c.update(plaintext), c.final()]))
}

/** Decrypts a result (OFB is symmetric: the same key stream). */
export function decryptResult(key: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  checkKey(key)
  const d = createDecipheriv('aes-256-ofb', key, ZERO_IV)
  return new Uint8Array(Buffer.concat([d.update(ciphertext), d.final()]))
}

/** A fresh random result key from the system's CSPRNG. */
export function randomResultKey(): Uint8Array {
  return new Uint8Array(randomBytes(RESULT_KEY_BYTES))
}
