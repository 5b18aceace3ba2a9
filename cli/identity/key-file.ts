import { chmod, mkdir, open, stat, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { BitwrkError } from '../../protocol/errors.js'
import { Identity } from '../../protocol/identity/index.js'
import { KEY_FILE_NAME } from '../data-dir.js'
import { CliErrorCode } from '../io.js'

/** Mode of the data directory: owner only (original §1.7). */
export const DATA_DIR_MODE = 0o700

/** Mode of the key file: owner read/write only (original §1.7). */
export const KEY_FILE_MODE = 0o600

/** Permission bits that must be clear on the key file: any access by group or others. */
const GROUP_OTHER_BITS = 0o077

/** Longest key file we read: a WIF is 51 or 52 characters; the rest allows for whitespace. */
const MAX_KEY_FILE_BYTES = 1024

/** Whether POSIX permission bits mean anything here (Windows reports fixed modes). */
const POSIX_MODES = process.platform !== 'win32'

/**
 * Creates `dir` (mode 0700 if it does not exist yet) and writes `wif` to `privatekey.wif`
 * exclusively with mode 0600, without a newline, as the original did. Never overwrites:
 * throws `CLI_KEY_EXISTS` if the file is there. Returns the file path.
 */
export async function createKeyFile(dir: string, wif: string): Promise<string> {
  // The umask may have cleared owner bits of a new directory; set the mode exactly.
  if ((await makeDirs(dir)) && POSIX_MODES) await chmod(dir, DATA_DIR_MODE)
  const path = join(dir, KEY_FILE_NAME)
  let fh: Awaited<ReturnType<typeof open>>
  try {
    fh = await open(path, 'wx', KEY_FILE_MODE)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new BitwrkError(
        CliErrorCode.keyExists,
        `key file ${path} already exists; refusing to overwrite it`,
        {
          path
        }
      )
    throw err
  }
  try {
    if (POSIX_MODES) await fh.chmod(KEY_FILE_MODE)
    await fh.writeFile(wif, 'utf8')
    await fh.sync()
  } catch (err) {
    await fh.close()
    await unlink(path).catch(() => undefined)
    throw err
  }
  await fh.close()
  return path
}

/**
 * `mkdir -p dir` with mode 0700, returning whether `dir` itself was created. Not
 * `mkdir(..., { recursive: true })`: on Node 20 that spins forever where a parent exists but
 * refuses children with ENOENT (e.g. under /proc). Here each level is tried at most twice.
 */
async function makeDirs(dir: string): Promise<boolean> {
  try {
    await mkdir(dir, { mode: DATA_DIR_MODE })
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST' && (await stat(dir)).isDirectory()) return false
    const parent = dirname(dir)
    if (code !== 'ENOENT' || parent === dir) throw err
  }
  await makeDirs(dirname(dir))
  await mkdir(dir, { mode: DATA_DIR_MODE })
  return true
}

/**
 * Loads the identity stored in `dir`. Refuses (`CLI_KEY_INSECURE`) a key file that is not a
 * regular file or that group or others may access at all; `CLI_KEY_MISSING` when absent,
 * `CLI_KEY_CORRUPT` when it holds no valid WIF (the content is never echoed).
 */
export async function loadKeyFile(dir: string): Promise<{ identity: Identity; path: string }> {
  const path = join(dir, KEY_FILE_NAME)
  let fh: Awaited<ReturnType<typeof open>>
  try {
    fh = await open(path, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new BitwrkError(
        CliErrorCode.keyMissing,
        `no key file at ${path} (create one with 'bitwrk-node identity new')`,
        { path }
      )
    throw err
  }
  try {
    const st = await fh.stat()
    if (!st.isFile())
      throw new BitwrkError(CliErrorCode.keyInsecure, `key file ${path} is not a regular file`, { path })
    if (POSIX_MODES && (st.mode & GROUP_OTHER_BITS) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0')
      throw new BitwrkError(
        CliErrorCode.keyInsecure,
        `key file ${path} is accessible by group or others (mode ${mode}); run 'chmod 600 ${path}'`,
        { path, mode }
      )
    }
    if (st.size > MAX_KEY_FILE_BYTES)
      throw new BitwrkError(CliErrorCode.keyCorrupt, `key file ${path} is too large for a WIF key`, { path })
    const text = (await fh.readFile('utf8')).trim()
    try {
      return { identity: Identity.fromWif(text), path }
    } catch {
      throw new BitwrkError(CliErrorCode.keyCorrupt, `key file ${path} does not hold a valid WIF key`, {
        path
      })
    }
  } finally {
    await fh.close()
  }
}
