import { parseArgs as nodeParseArgs } from 'node:util'
import { BitwrkError, isBitwrkError } from '../protocol/errors.js'
import { parseMoney } from '../protocol/money/index.js'
import { CliCode } from './io.js'

/** Flags a command accepts: name (without `--`) → whether it takes a value. */
export type FlagSpec = Readonly<Record<string, 'string' | 'boolean'>>

/** What a command line holds once parsed. */
export interface ParsedArgs {
  /** Values of the given flags: a string, or `true` for boolean flags. */
  readonly flags: Readonly<Record<string, string | true>>
  /** Everything else, in order. */
  readonly positionals: readonly string[]
}

/**
 * A strict little argument parser on top of Node's `util.parseArgs` tokenizer. Flags are
 * `--name value` or `--name=value` (the value may start with `-`); `--` ends the flags so a
 * message may start with `-`; a lone `-` is a positional. Unknown or repeated flags, a missing
 * value and a wrong number of positionals throw a `BitwrkError` with a `CLI_*` usage code; so
 * does any single-dash option (`-x`), since none is defined. The first offending argument, in
 * command-line order, decides the error.
 */
export function parseArgs(
  argv: readonly string[],
  spec: FlagSpec,
  positionals: { min: number; max: number; names?: readonly string[] }
): ParsedArgs {
  // Node's strict mode is not used: it refuses option values that start with `-`, lets a
  // repeated flag overwrite the first, and names only the flag of an unknown `--x=value`. The
  // tokens keep all that, and the checks below make the parse strict in this parser's terms.
  const options: Record<string, { type: 'string' | 'boolean' }> = {}
  for (const [name, type] of Object.entries(spec)) options[name] = { type }
  const { tokens } = nodeParseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true
  })
  const flags: Record<string, string | true> = {}
  const rest: string[] = []
  for (const token of tokens) {
    if (token.kind === 'positional') rest.push(token.value)
    if (token.kind !== 'option') continue
    const { name } = token
    const kind = token.rawName.startsWith('--') && Object.hasOwn(spec, name) ? spec[name] : undefined
    if (kind === undefined) {
      const arg = shorten(argv[token.index] ?? token.rawName)
      throw new BitwrkError(CliCode.unknownFlag, `unknown option '${arg}'`, { flag: arg })
    }
    if (Object.hasOwn(flags, name))
      throw new BitwrkError(CliCode.duplicateFlag, `option '--${name}' given twice`, { flag: name })
    if (kind === 'boolean') {
      if (token.inlineValue)
        throw new BitwrkError(CliCode.badArgument, `option '--${name}' takes no value`, { flag: name })
      flags[name] = true
      continue
    }
    if (token.value === undefined || token.value === '')
      throw new BitwrkError(CliCode.missingValue, `option '--${name}' needs a value`, { flag: name })
    flags[name] = token.value
  }
  if (rest.length < positionals.min) {
    const missing = positionals.names?.[rest.length] ?? 'argument'
    throw new BitwrkError(CliCode.missingArgument, `missing ${missing}`, { expected: positionals.min })
  }
  if (rest.length > positionals.max)
    throw new BitwrkError(
      CliCode.extraArgument,
      `unexpected argument '${shorten(rest[positionals.max] ?? '')}'`,
      {
        expected: positionals.max
      }
    )
  return { flags, positionals: rest }
}

/** The value of a string flag, or undefined. */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name]
  return typeof v === 'string' ? v : undefined
}

/**
 * Checks a money argument (`PRICE`, `--max-price`) before anything is sent: a text that does
 * not parse (MON-3) is `CLI_BAD_ARGUMENT` with the money error's message, which names the
 * accepted forms with examples (MON-10). Returns the text as given.
 */
export function moneyArgument(text: string, name: string): string {
  try {
    parseMoney(text)
    return text
  } catch (err) {
    if (!isBitwrkError(err)) throw err
    throw new BitwrkError(CliCode.badArgument, `bad ${name} '${shorten(text)}': ${err.message}`, {
      detail: err.code
    })
  }
}

/** Keeps echoed user input to one short line. */
function shorten(text: string): string {
  // Control characters (code points below 0x20 and 0x7f) would break the one-line message.
  const oneLine = Array.from(text, (ch) => (ch < ' ' || ch === '\x7f' ? '?' : ch)).join('')
  return oneLine.length > 40 ? `${oneLine.slice(0, 40)}…` : oneLine
}
