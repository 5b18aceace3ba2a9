#!/usr/bin/env node
import '../node/polyfill.js'

/** Exit codes of the `bitwrk-node` command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const

const USAGE = `usage: bitwrk-node <command> [options]

commands:
  help            show this text
`

/** Entry point: dispatches to one command; expected errors print one line and exit non-zero. */
export async function main(argv: string[]): Promise<number> {
  const [cmd] = argv
  if (cmd === undefined || cmd === 'help' || cmd === '--help') {
    process.stdout.write(USAGE)
    return EXIT.ok
  }
  process.stderr.write(`bitwrk-node: unknown command '${cmd}' (try 'bitwrk-node help')\n`)
  return EXIT.usage
}

process.exitCode = await main(process.argv.slice(2))
