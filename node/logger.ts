import { pino } from 'pino'

/** Structured log context: flat key/values, never secrets, no peer-supplied strings at info level. */
export type LogContext = Record<string, unknown>

/**
 * The structural logger every node component takes (STYLE.md: pino behind a small type).
 * Methods take a context object first and a constant message second, like pino.
 */
export interface Logger {
  /** Very chatty per-message detail (each validation result). */
  trace(ctx: LogContext, msg: string): void
  /** Per-event detail useful when debugging one node. */
  debug(ctx: LogContext, msg: string): void
  /** Lifecycle and rare notable events. */
  info(ctx: LogContext, msg: string): void
  /** Something degraded but the node carries on. */
  warn(ctx: LogContext, msg: string): void
  /** A bug or an unexpected failure. */
  error(ctx: LogContext, msg: string): void
  /** A logger whose lines all carry `bindings` (e.g. `{ module: 'gossip' }`). */
  child(bindings: LogContext): Logger
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** pino level name; default `info`, or `LOG_LEVEL` from the environment. */
  level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'
  /** Where lines go; default stdout. A `{ write }` object lets tests capture lines. */
  destination?: { write(line: string): void }
  /** Bindings on every line (e.g. `{ node: 'n3' }` in a testnet). */
  base?: LogContext
}

/**
 * A pino-backed {@link Logger}. It is independent of libp2p's own `debug`-style logger, so
 * `DEBUG=libp2p:*` keeps working unchanged (we never replace libp2p's `logger` component).
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const envLevel = process.env['LOG_LEVEL']
  const level = opts.level ?? (isLevel(envLevel) ? envLevel : 'info')
  const p = pino({ level, base: opts.base ?? null }, opts.destination ?? process.stdout)
  return p
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return createLogger({ level: 'silent' })
}

function isLevel(v: string | undefined): v is NonNullable<LoggerOptions['level']> {
  return v === 'trace' || v === 'debug' || v === 'info' || v === 'warn' || v === 'error' || v === 'silent'
}
