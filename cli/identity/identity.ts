import { randomBytes } from 'node:crypto'
import { createKeyFile, loadKeyFile } from '../../node/store/identity.js'
import { BitwrkError } from '../../protocol/errors.js'
import { Identity } from '../../protocol/identity/index.js'
import { parseArgs, stringFlag } from '../args.js'
import { resolveDataDir } from '../data-dir.js'
import { CliCode, type CommandIo, EXIT, reportError } from '../io.js'

/** Usage text of `bitwrk-node identity`. */
export const IDENTITY_USAGE = `usage: bitwrk-node identity new  [--data-dir DIR]
       bitwrk-node identity show [--data-dir DIR]

  new   create a fresh key in DIR/privatekey.wif (mode 0600; never overwrites)
  show  print the address (account id) and libp2p peer id of the key in DIR

DIR defaults to $BITWRK_DATA_DIR, else ~/.bitwrk-node
`

const FLAGS = { 'data-dir': 'string', help: 'boolean' } as const

/** Prints what identifies a node: address, peer id, key file. */
function describe(identity: Identity, path: string, io: CommandIo): void {
  io.stdout.write(`address: ${identity.address}\npeer id: ${identity.peerId}\nkey file: ${path}\n`)
}

/** `bitwrk-node identity new|show [--data-dir DIR]`. */
export async function identityCommand(argv: readonly string[], io: CommandIo): Promise<number> {
  try {
    const args = parseArgs(argv, FLAGS, { min: 0, max: 1, names: ['sub-command (new or show)'] })
    const [sub] = args.positionals
    if (args.flags['help'] === true) {
      io.stdout.write(IDENTITY_USAGE)
      return EXIT.ok
    }
    if (sub === undefined) throw new BitwrkError(CliCode.missingArgument, 'missing sub-command (new or show)')
    const dir = resolveDataDir(stringFlag(args, 'data-dir'), io)
    if (sub === 'new') {
      // 32 bytes from the OS generator; Identity.generate retries the ~2^-128 invalid case.
      const identity = Identity.generate((n) => new Uint8Array(randomBytes(n)))
      const path = await createKeyFile(dir, identity.toWif())
      describe(identity, path, io)
      return EXIT.ok
    }
    if (sub === 'show') {
      const { identity, path } = await loadKeyFile(dir)
      describe(identity, path, io)
      return EXIT.ok
    }
    throw new BitwrkError(CliCode.badArgument, `unknown sub-command '${sub.slice(0, 20)}' (new or show)`)
  } catch (err) {
    return reportError(err, 'identity', io)
  }
}
