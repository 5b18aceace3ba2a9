import { loadKeyFile } from '../../node/store/identity.js'
import { BitwrkError } from '../../protocol/errors.js'
import { Identity } from '../../protocol/identity/index.js'
import { parseArgs, stringFlag } from '../args.js'
import { resolveDataDir } from '../data-dir.js'
import { CliCode, type CommandIo, EXIT, reportError } from '../io.js'

/** Usage text of `bitwrk-node sign`. */
export const SIGN_USAGE = `usage: bitwrk-node sign [--wif WIF | --data-dir DIR] [--] MESSAGE

Signs MESSAGE as a Bitcoin signed message (UTF-8) and prints the signer's address, then
the Base64 signature on the last line. Without --wif the key of the data directory is used
(DIR defaults to $BITWRK_DATA_DIR, else ~/.bitwrk-node). Use -- before a MESSAGE that
starts with '-'.
`

const FLAGS = { wif: 'string', 'data-dir': 'string', help: 'boolean' } as const

/** `bitwrk-node sign [--wif WIF | --data-dir DIR] MESSAGE`. */
export async function signCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  try {
    const args = parseArgs(argv, FLAGS, { min: 0, max: 1, names: ['MESSAGE'] })
    if (args.flags['help'] === true) {
      io.stdout.write(SIGN_USAGE)
      return EXIT.ok
    }
    if (args.positionals.length === 0) throw new BitwrkError(CliCode.missingArgument, 'missing MESSAGE')
    const wif = stringFlag(args, 'wif')
    const dataDir = stringFlag(args, 'data-dir')
    if (wif !== undefined && dataDir !== undefined)
      throw new BitwrkError(CliCode.badArgument, 'give either --wif or --data-dir, not both')
    const identity =
      wif !== undefined ? identityOfWif(wif) : (await loadKeyFile(resolveDataDir(dataDir, io))).identity
    const message = args.positionals[0] as string
    io.stdout.write(`address: ${identity.address}\n${identity.sign(message)}\n`)
    return EXIT.ok
  } catch (err) {
    return reportError(err, 'sign', io)
  }
}

/** The identity of a WIF given on the command line; a bad WIF is a usage error (never echoed). */
function identityOfWif(wif: string): Identity {
  try {
    return Identity.fromWif(wif)
  } catch (err) {
    const code = err instanceof BitwrkError ? err.code : 'unknown'
    throw new BitwrkError(CliCode.badArgument, `--wif is not a valid WIF private key (${code})`)
  }
}
