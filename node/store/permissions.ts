/**
 * Owner-only permissions of the data directory (node/store/README.md "Permissions"). The
 * database holds buyer secrets and mandates, so everything the node writes there is for its
 * owner only: directories 0700, files 0600, also the files LevelDB creates later (new tables
 * and logs), which is why the node holds a 0077 umask while its stores are open. What it finds
 * is repaired when only reading was possible and refused when others could have changed it.
 */
import type { Stats } from 'node:fs'
import { chmod, lstat, opendir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { StoreCode, storeError } from './errors.js'

/** Whether POSIX permission bits and owners mean anything here (Windows reports fixed modes). */
export const POSIX_MODES = process.platform !== 'win32'

/** The umask held while stores are open: no permission for group or others. */
export const PRIVATE_UMASK = 0o077

/** Bits that make an entry writable by group or others: they could have swapped its content. */
export const SHARED_WRITE_BITS = 0o022

/** Bits of group and others, cleared by a repair. */
const SHARED_BITS = 0o077

/** How deep the repair descends below a store directory (LevelDB's are flat: a margin of 7). */
const MAX_REPAIR_DEPTH = 8

/** A mode as four octal digits (`0755`). */
export const modeText = (mode: number): string => (mode & 0o777).toString(8).padStart(4, '0')

/** Options of the owner checks: whose entries are accepted. */
export interface OwnerOptions {
  /** The user id entries must belong to; default this process's effective user. */
  readonly uid?: number
}

function ownerOf(options: OwnerOptions): number | undefined {
  return options.uid ?? process.geteuid?.()
}

/**
 * Refuses `path` (`STORE_DIR_OWNER`) when it belongs to another user: its owner could read or
 * replace the key and the database, and the node could not repair its modes.
 */
export function checkOwner(path: string, st: Stats, options: OwnerOptions = {}): void {
  const uid = ownerOf(options)
  if (!POSIX_MODES || uid === undefined || st.uid === uid) return
  throw storeError(
    StoreCode.DIR_OWNER,
    `${path} belongs to user ${st.uid}, not to this user (${uid}); run 'chown -R ${uid} <data-dir>' or use another --data-dir`,
    { path, owner: st.uid, uid }
  )
}

/** Refuses `path` (`STORE_KEY_PERMISSIONS`) when group or others may write it. */
export function checkNotSharedWritable(path: string, st: Stats): void {
  if (!POSIX_MODES || (st.mode & SHARED_WRITE_BITS) === 0) return
  throw storeError(
    StoreCode.KEY_PERMISSIONS,
    `${path} is writable by group or others (mode ${modeText(st.mode)}); run 'chmod -R go-w ${path}' if nobody else changed it`,
    { path, mode: modeText(st.mode) }
  )
}

/** What {@link repairDataDir} changed. */
export interface PermissionReport {
  /** The data directory's mode before the repair (`0755`), or null when it was owner-only. */
  readonly dirWas: string | null
  /** Entries below the store directories whose group/other bits were cleared. */
  readonly entriesRepaired: number
}

/** Calls `fn` on `root` and every entry below it (not following symbolic links), depth-first. */
async function walk(root: string, fn: (path: string, st: Stats) => Promise<void>, depth = 0): Promise<void> {
  // The root may be a link (a store moved to another disk); entries below are not followed.
  const st = depth === 0 ? await stat(root) : await lstat(root)
  if (st.isSymbolicLink()) return
  await fn(root, st)
  if (!st.isDirectory() || depth >= MAX_REPAIR_DEPTH) return
  // opendir streams the entries: memory stays flat however many tables a store holds.
  for await (const entry of await opendir(root)) await walk(join(root, entry.name), fn, depth + 1)
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}

async function storeRoots(dir: string, stores: readonly string[]): Promise<string[]> {
  const roots: string[] = []
  for (const name of stores) if (await exists(join(dir, name))) roots.push(join(dir, name))
  return roots
}

/**
 * Checks, changing nothing, that the data directory `dir` and every entry below its store
 * directories `stores` are this user's (`STORE_DIR_OWNER`) and not writable by group or
 * others (`STORE_KEY_PERMISSIONS`): such an entry could have been swapped, so it is refused.
 */
export async function checkDataDir(
  dir: string,
  stores: readonly string[],
  options: OwnerOptions = {}
): Promise<void> {
  if (!POSIX_MODES) return
  const top = await stat(dir)
  checkOwner(dir, top, options)
  checkNotSharedWritable(dir, top)
  for (const root of await storeRoots(dir, stores))
    await walk(root, async (path, st) => {
      checkOwner(path, st, options)
      checkNotSharedWritable(path, st)
    })
}

/**
 * Makes the data directory `dir` (created by `ensureDataDir`) and its store directories
 * `stores` owner-only: after {@link checkDataDir} (which refuses and changes nothing), the
 * group/other bits of `dir` and of every entry below the stores are cleared. Such entries
 * could only have been read; the caller logs the report as a warning.
 */
export async function repairDataDir(
  dir: string,
  stores: readonly string[],
  options: OwnerOptions = {}
): Promise<PermissionReport> {
  if (!POSIX_MODES) return { dirWas: null, entriesRepaired: 0 }
  await checkDataDir(dir, stores, options)
  let entriesRepaired = 0
  for (const root of await storeRoots(dir, stores))
    await walk(root, async (path, st) => {
      if ((st.mode & SHARED_BITS) === 0) return
      await chmod(path, st.mode & 0o700)
      entriesRepaired++
    })
  const top = await stat(dir)
  const shared = (top.mode & SHARED_BITS) !== 0
  if (shared) await chmod(dir, top.mode & 0o700)
  return { dirWas: shared ? modeText(top.mode) : null, entriesRepaired }
}

let holds = 0
let savedUmask = 0

/**
 * Holds the process umask at {@link PRIVATE_UMASK} (added to the one in force) until the
 * returned release is called: LevelDB creates its files with mode 0644 and directories with
 * 0755 minus the umask, also later from its compaction thread, and has no option for a mode.
 * Holds nest (several nodes in one process); the last release restores the saved umask. The
 * umask is process-wide: files other code creates meanwhile are owner-only too.
 */
export function holdPrivateUmask(): () => void {
  if (!POSIX_MODES) return () => {}
  if (holds++ === 0) {
    savedUmask = process.umask(PRIVATE_UMASK)
    process.umask(savedUmask | PRIVATE_UMASK)
  }
  let released = false
  return () => {
    if (released) return
    released = true
    if (--holds === 0) process.umask(savedUmask)
  }
}
