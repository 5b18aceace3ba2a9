import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import type { CommandIo } from './io.js'

/** Directory name under the home directory (the original used `~/.bitwrk-client`, §1.7). */
export const DEFAULT_DATA_DIR_NAME = '.bitwrk-node'

/** Environment variable that names the data directory when `--data-dir` is not given. */
export const DATA_DIR_ENV = 'BITWRK_DATA_DIR'

/** The data directory: `--data-dir`, else `$BITWRK_DATA_DIR`, else `~/.bitwrk-node`. */
export function resolveDataDir(flag: string | undefined, io: CommandIo): string {
  const fromEnv = io.env[DATA_DIR_ENV]
  if (flag !== undefined) return resolve(flag)
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv)
  const home = io.env['HOME'] || homedir()
  return join(home, DEFAULT_DATA_DIR_NAME)
}
