#!/usr/bin/env node
import '../node/polyfill.js'
import { type Command, type CommandIo, EXIT } from './io.js'

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
  put FILE                              store a file in the node, provided on the network; prints its key
  get KEY [--out FILE]                  a file by key, fetched from the network when the node lacks it
  demo work|render                      a work file of the demo article; a tile rendered locally
  identity new|show [--data-dir DIR]    create or show the node's key (address, peer id)
  sign [--wif WIF | --data-dir DIR] MESSAGE  sign a message (Bitcoin signed message, Base64)
  verify ADDRESS SIGNATURE MESSAGE      check a signature: prints valid (exit 0) / invalid (exit 1)
  help                                  show this text

status, peers, mandate, worker, buy, put and get talk to a running daemon, named the same way in each:
--data-dir DIR (its daemon.json; default $BITWRK_DATA_DIR, else ~/.bitwrk-node) or --api URL.
'bitwrk-node <command> --help' shows a command's options. Exit codes: 0 success,
1 failure, 2 bad command line.
`

/**
 * The sub-commands by name; each folder of cli/ is one. Loaded on use: `verify` or a bad
 * command line never loads libp2p, so they answer at once.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  buy: async () => (await import('./buy/index.js')).buyCommand,
  demo: async () => (await import('./demo/index.js')).demoCommand,
  get: async () => (await import('./files/index.js')).getCommand,
  identity: async () => (await import('./identity/index.js')).identityCommand,
  mandate: async () => (await import('./mandate/index.js')).mandateCommand,
  peers: async () => (await import('./peers/index.js')).peersCommand,
  put: async () => (await import('./files/index.js')).putCommand,
  sign: async () => (await import('./sign/index.js')).signCommand,
  start: async () => {
    // before the daemon's modules load: start-up is where the heap grows (issue 14)
    ;(await import('./start/heap.js')).leanHeap()
    return (await import('./start/index.js')).startCommand
  },
  status: async () => (await import('./status/index.js')).statusCommand,
  verify: async () => (await import('./verify/index.js')).verifyCommand,
  worker: async () => (await import('./worker/index.js')).workerCommand
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
  const load = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined
  if (load === undefined) {
    io.stderr.write(`bitwrk-node: unknown command '${cmd.slice(0, 40)}' (try 'bitwrk-node help')\n`)
    return EXIT.usage
  }
  const command = await load()
  return command(rest, io)
}

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env
})
