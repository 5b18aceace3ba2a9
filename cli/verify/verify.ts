import { Buffer } from 'node:buffer'
import { BitwrkError } from '../../protocol/errors.js'
import { decodeAddress, verifyMessage } from '../../protocol/identity/index.js'
import { parseArgs } from '../args.js'
import { CliCode, type CommandIo, EXIT, reportError } from '../io.js'

/** Usage text of `bitwrk-node verify`. */
export const VERIFY_USAGE = `usage: bitwrk-node verify [--] ADDRESS SIGNATURE MESSAGE

Checks a Bitcoin signed-message SIGNATURE (Base64, 65 bytes) of MESSAGE (UTF-8) by ADDRESS.
Prints 'valid' and exits 0, or prints 'invalid' and exits 1; a malformed ADDRESS or
SIGNATURE encoding is a usage error (exit 2).
`

/** Bytes of a compact recoverable signature (original §1.6). */
const SIGNATURE_BYTES = 65

const FLAGS = { help: 'boolean' } as const

/** `bitwrk-node verify ADDRESS SIGNATURE MESSAGE`. */
export async function verifyCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  try {
    const args = parseArgs(argv, FLAGS, { min: 0, max: 3, names: ['ADDRESS', 'SIGNATURE', 'MESSAGE'] })
    if (args.flags['help'] === true) {
      io.stdout.write(VERIFY_USAGE)
      return EXIT.ok
    }
    if (args.positionals.length < 3) {
      const missing = ['ADDRESS', 'SIGNATURE', 'MESSAGE'][args.positionals.length]
      throw new BitwrkError(CliCode.missingArgument, `missing ${missing}`)
    }
    const [address, signature, message] = args.positionals as [string, string, string]
    checkAddress(address)
    checkSignatureEncoding(signature)
    // From here on the inputs are well-formed: any failure means the signature is invalid.
    const valid = verifyMessage(address, signature, message)
    io.stdout.write(valid ? 'valid\n' : 'invalid\n')
    return valid ? EXIT.ok : EXIT.failure
  } catch (err) {
    return reportError(err, 'verify', io)
  }
}

/** A usage error unless `address` is a Base58Check P2PKH address (either network). */
function checkAddress(address: string): void {
  try {
    decodeAddress(address)
  } catch (err) {
    const code = err instanceof BitwrkError ? err.code : 'unknown'
    throw new BitwrkError(CliCode.badArgument, `ADDRESS is not a valid address (${code})`)
  }
}

/**
 * A usage error unless `signature` is canonical padded Base64 of exactly 65 bytes. What the
 * bytes say (header, r, s) is for the verification to judge: a bad header is `invalid`.
 */
function checkSignatureEncoding(signature: string): void {
  const ok =
    /^[A-Za-z0-9+/]*={0,2}$/.test(signature) &&
    signature.length % 4 === 0 &&
    Buffer.from(signature, 'base64').length === SIGNATURE_BYTES &&
    Buffer.from(signature, 'base64').toString('base64') === signature
  if (!ok) throw new BitwrkError(CliCode.badArgument, 'SIGNATURE is not the Base64 encoding of 65 bytes')
}
