#!/usr/bin/env node
import '../node/polyfill.js'
import { buyCommand } from './buy/index.js'
import { demoCommand } from './demo/index.js'
import { identityCommand } from './identity/index.js'
import { type Command, type CommandIo, EXIT } from './io.js'
import { mandateCommand } from './mandate/index.js'
import { peersCommand } from './peers/index.js'
import { signCommand } from './sign/index.js'
import { startCommand } from './start/index.js'
import { statusCommand } from './status/index.js'
import { verifyCommand } from './verify/index.js'
import { workerCommand } from './worker/index.js'

export { EXIT } from './io.js'

const USAGE = `usage: bitwrk-node <command> [options]

commands:
  start [--data-dir DIR] [--listen MA] [--bootstrap MA] [--api-port P] [--articles A,B]
                                        run the node daemon until SIGINT/SIGTERM
  status [--json]                       show the running daemon (peers, book, epochs, services)
  peers [--json]                        list the running daemon's connected peers
  mandate grant|list|revoke …           permissions to buy or sell
  worker --article A --exec CMD | --demo  sell: run CMD per job (work on stdin, result on stdout)
  buy ARTICLE FILE [--max-price P] [--timeout S] [--out FILE]
                                        buy work, with its progress on stderr
  demo work|render                      a work file of the demo article; a tile rendered locally
  identity new|show [--data-dir DIR]    create or show the node's key (address, peer id)
  sign [--wif WIF | --data-dir DIR] MESSAGE  sign a message (Bitcoin signed message, Base64)
  verify ADDRESS SIGNATURE MESSAGE      check a signature: prints valid (exit 0) / invalid (exit 1)
  help                                  show this text

status, peers, mandate, worker and buy talk to a running daemon, named the same way in each:
--data-dir DIR (its daemon.json; default $BITWRK_DATA_DIR, else ~/.bitwrk-node) or --api URL.
'bitwrk-node <command> --help' shows a command's options. Exit codes: 0 success,
1 failure, 2 bad command line.
`

/** The sub-commands by name; each folder of cli/ is one. */
const COMMANDS: Readonly<Record<string, Command>> = {
  buy: buyCommand,
  demo: demoCommand,
  identity: identityCommand,
  mandate: mandateCommand,
  peers: peersCommand,
  sign: signCommand,
  start: startCommand,
  status: statusCommand,
  verify: verifyCommand,
  worker: (argv, io) => workerCommand(argv, io)
}

/** Entry point: dispatches to one command; expected errors print one line and exit non-zero. */
export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [cmd, ...rest] = argv
  if (cmd === undefined) {
    io.stderr.write(`bitwrk-node: missing command (try 'bitwrk-node help')\n`)
    return EXIT.usage
  }
  if (cmd === 'help' || cmd === '--help' || cmd === '-h') {
    io.stdout.write(USAGE)
    return EXIT.ok
  }
  const command = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined
  if (command === undefined) {
    io.stderr.write(`bitwrk-node: unknown command '${cmd.slice(0, 40)}' (try 'bitwrk-node help')\n`)
    return EXIT.usage
  }
  return command(rest, io)
}

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env
})
