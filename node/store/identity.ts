/**
 * The node's key file `<dataDir>/privatekey.wif` (README.md "Identity"): one WIF private key,
 * the market identity and the libp2p identity (DESIGN.md invariant 2). Created exclusively
 * with mode 0600 in a 0700 directory; refused when others could read or replace it.
 */
import { chmod, mkdir, open, stat, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { Identity } from '../../protocol/identity/index.js'
import { StoreCode, storeError } from './errors.js'
import { checkNotSharedWritable, checkOwner, modeText, POSIX_MODES } from './permissions.js'

/** File name of the key inside the data directory (the original client's name). */
export const KEY_FILE_NAME = 'privatekey.wif'

/** Mode of a data directory the store creates: owner only. */
export const DATA_DIR_MODE = 0o700

/** Mode of the key file: owner read/write only. */
export const KEY_FILE_MODE = 0o600

/** Bits that must be clear on the key file: any access by group or others. */
const KEY_FORBIDDEN_BITS = 0o077

/** Longest key file read: a WIF has 51 or 52 characters; the rest allows for whitespace. */
const MAX_KEY_FILE_BYTES = 1024

/**
 * Creates `dir` (mode 0700 when it does not exist yet; parents as needed) and checks that it
 * is this user's (STORE_DIR_OWNER) and that group and others cannot write it, since they
 * could swap the key (STORE_KEY_PERMISSIONS). A directory they can only read is repaired
 * when the node opens it (`repairDataDir`); the key file in it is 0600 either way.
 */
export async function ensureDataDir(dir: string): Promise<void> {
  // The umask may have cleared owner bits of the new directory; set the mode exactly.
  if ((await makeDirs(dir)) && POSIX_MODES) await chmod(dir, DATA_DIR_MODE)
  const st = await stat(dir)
  checkOwner(dir, st)
  checkNotSharedWritable(dir, st)
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
 * Writes `wif` to `<dir>/privatekey.wif` exclusively with mode 0600, without a newline (as the
 * original did), and fsyncs it. Never overwrites: STORE_KEY_EXISTS when the file is there.
 * Returns the file path.
 */
export async function createKeyFile(dir: string, wif: string): Promise<string> {
  await ensureDataDir(dir)
  const path = join(dir, KEY_FILE_NAME)
  let fh: Awaited<ReturnType<typeof open>>
  try {
    fh = await open(path, 'wx', KEY_FILE_MODE)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw storeError(StoreCode.KEY_EXISTS, `key file ${path} already exists; refusing to overwrite it`, {
        path
      })
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
 * Loads the identity in `<dir>/privatekey.wif`: STORE_KEY_MISSING when absent,
 * STORE_KEY_PERMISSIONS when it is not a regular file or group/others may access it,
 * STORE_KEY_CORRUPT when it holds no valid WIF (the content is never echoed).
 */
export async function loadKeyFile(dir: string): Promise<{ identity: Identity; path: string }> {
  const path = join(dir, KEY_FILE_NAME)
  let fh: Awaited<ReturnType<typeof open>>
  try {
    fh = await open(path, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw storeError(StoreCode.KEY_MISSING, `no key file at ${path}`, { path })
    throw err
  }
  try {
    const st = await fh.stat()
    if (!st.isFile())
      throw storeError(StoreCode.KEY_PERMISSIONS, `key file ${path} is not a regular file`, { path })
    if (POSIX_MODES && (st.mode & KEY_FORBIDDEN_BITS) !== 0)
      throw storeError(
        StoreCode.KEY_PERMISSIONS,
        `key file ${path} is accessible by group or others (mode ${modeText(st.mode)}); run 'chmod 600 ${path}'`,
        { path, mode: modeText(st.mode) }
      )
    if (st.size > MAX_KEY_FILE_BYTES)
      throw storeError(StoreCode.KEY_CORRUPT, `key file ${path} is too large for a WIF key`, { path })
    const text = (await fh.readFile('utf8')).trim()
    try {
      return { identity: Identity.fromWif(text), path }
    } catch {
      throw storeError(StoreCode.KEY_CORRUPT, `key file ${path} does not hold a valid WIF key`, { path })
    }
  } finally {
    await fh.close()
  }
}

/**
 * Loads the key of `dir`, or, when there is none and `random` is given, creates one
 * (compressed, from `random`) first. Without `random` a missing key is STORE_KEY_MISSING.
 */
export async function loadOrCreateIdentity(
  dir: string,
  random?: (n: number) => Uint8Array
): Promise<{ identity: Identity; path: string; created: boolean }> {
  await ensureDataDir(dir)
  try {
    return { ...(await loadKeyFile(dir)), created: false }
  } catch (err) {
    if (random === undefined || (err as { code?: unknown }).code !== StoreCode.KEY_MISSING) throw err
  }
  const identity = Identity.generate(random)
  const path = await createKeyFile(dir, identity.toWif())
  return { identity, path, created: true }
}
