import { isBitwrkError } from '../protocol/errors.js'

/** A place to write text: `process.stdout`, `process.stderr`, or a test collector. */
export interface Output {
  /** Writes `text` as is (callers add newlines). */
  write(text: string): unknown
  /** True for a terminal (`process.stderr.isTTY`): progress is then drawn as a redrawn line with bars. */
  readonly isTTY?: boolean
  /** A terminal's width in characters (`process.stderr.columns`). */
  readonly columns?: number
}

/** What a command may touch of the outside world besides the file system. */
export interface CommandIo {
  /** Normal output. */
  readonly stdout: Output
  /** One-line error messages. */
  readonly stderr: Output
  /** Environment variables (`BITWRK_DATA_DIR`, `HOME`). */
  readonly env: Readonly<Record<string, string | undefined>>
}

/** A `bitwrk-node` sub-command: arguments after its name in, exit code out. */
export type Command = (argv: readonly string[], io: CommandIo) => Promise<number>

/** Exit codes of the `bitwrk-node` command. */
export const EXIT = {
  /** Success (`verify`: the signature is valid). */
  ok: 0,
  /** The operation failed (`verify`: invalid signature; key file refused …). */
  failure: 1,
  /** Bad command line: unknown flag, missing or extra argument, malformed value. */
  usage: 2
} as const

/** Error codes of the command line (`details` never carry secrets). */
export const CliCode = {
  /** A flag the command does not know. */
  unknownFlag: 'CLI_UNKNOWN_FLAG',
  /** A flag that needs a value got none. */
  missingValue: 'CLI_MISSING_VALUE',
  /** A flag given twice. */
  duplicateFlag: 'CLI_DUPLICATE_FLAG',
  /** Too few positional arguments. */
  missingArgument: 'CLI_MISSING_ARGUMENT',
  /** Too many positional arguments. */
  extraArgument: 'CLI_EXTRA_ARGUMENT',
  /** A value that does not decode (address, signature, WIF, sub-command). */
  badArgument: 'CLI_BAD_ARGUMENT'
} as const

/** One of the {@link CliCode} values. */
export type CliErrorCode = (typeof CliCode)[keyof typeof CliCode]

/** Codes that mean "bad command line" and exit with {@link EXIT.usage}. */
const USAGE_CODES: ReadonlySet<string> = new Set([
  CliCode.unknownFlag,
  CliCode.missingValue,
  CliCode.duplicateFlag,
  CliCode.missingArgument,
  CliCode.extraArgument,
  CliCode.badArgument
])

/** True for an operating-system error (`EACCES`, `ENOTDIR` …) from `node:fs`. */
function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && 'syscall' in err
}

/**
 * Prints an expected error as one line `bitwrk-node <cmd>: <message> [<code>]` and returns its
 * exit code. Expected are BitwrkErrors and operating-system errors (a data directory that is
 * a file, no permission …); anything else is a bug and is rethrown, stack and all.
 */
export function reportError(err: unknown, command: string, io: CommandIo): number {
  if (!isBitwrkError(err) && !isSystemError(err)) throw err
  const line = err.message.replace(/[\r\n]+/g, ' ')
  io.stderr.write(`bitwrk-node ${command}: ${line} [${err.code}]\n`)
  return isBitwrkError(err) && USAGE_CODES.has(err.code) ? EXIT.usage : EXIT.failure
}
