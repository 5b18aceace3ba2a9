/**
 * One data directory (DESIGN.md invariant 9): the key file and the LevelDB database at
 * `<dataDir>/db` with every repository, opened, schema-checked and recovered in one call,
 * owner-only (node/store/README.md "Permissions").
 */
import { join } from 'node:path'
import type { Identity } from '../../protocol/identity/index.js'
import { type BidPruneResult, BidRepository } from './bids.js'
import { checkSchema, type KvController, openLevelController } from './db.js'
import { FileRepository } from './files.js'
import { ensureDataDir, loadOrCreateIdentity } from './identity.js'
import { migrateSchema, type SchemaMigration } from './migrate.js'
import { PeerRepository } from './peers.js'
import { checkDataDir, holdPrivateUmask, type PermissionReport, repairDataDir } from './permissions.js'
import { ReputationRepository } from './reputation.js'
import { SettingsRepository } from './settings.js'
import { type RecoveryReport, TransactionRepository } from './transactions.js'

/** Directory name of the database inside the data directory. */
export const DB_DIR_NAME = 'db'

/** Directory name of the chunk store inside the data directory (opened by the node). */
export const CHUNKS_DIR_NAME = 'chunks'

/** The LevelDB directories inside the data directory, kept owner-only (README.md "Permissions"). */
const STORE_DIRS: readonly string[] = [DB_DIR_NAME, CHUNKS_DIR_NAME]

/** Every repository over one controller. */
export interface Repositories {
  /** Own bids and used marks. */
  readonly bids: BidRepository
  /** Transactions and their signed messages. */
  readonly transactions: TransactionRepository
  /** Known peers for redialing. */
  readonly peers: PeerRepository
  /** Reputation counters. */
  readonly reputation: ReputationRepository
  /** Followed articles and settings. */
  readonly settings: SettingsRepository
  /** Manifests of known files (results, uploaded work). */
  readonly files: FileRepository
}

/** Options of {@link openStore}. */
export interface StoreOptions {
  /** Bound on stored peers (default 1000). */
  readonly maxPeers?: number
  /** Bound on remembered files (default 10,000). */
  readonly maxFiles?: number
}

/**
 * Migrates `kv` from a known older schema (`migrate.ts`), checks its schema (writing it into an
 * empty store) and builds the repositories over it. STORE_SCHEMA_MISMATCH / STORE_CORRUPT leave
 * `kv` open: the caller closes it.
 */
export async function openStore(kv: KvController, options: StoreOptions = {}): Promise<Repositories> {
  return (await openMigrated(kv, options)).repos
}

async function openMigrated(
  kv: KvController,
  options: StoreOptions
): Promise<{ repos: Repositories; migration: SchemaMigration | undefined }> {
  const migration = await migrateSchema(kv)
  await checkSchema(kv)
  const repos: Repositories = {
    bids: new BidRepository(kv),
    transactions: new TransactionRepository(kv),
    peers: new PeerRepository(kv, options.maxPeers),
    reputation: new ReputationRepository(kv),
    settings: new SettingsRepository(kv),
    files: new FileRepository(kv, options.maxFiles)
  }
  return { repos, migration }
}

/** Options of {@link openDataDir}. */
export interface DataDirOptions extends StoreOptions {
  /** The clock at opening: recovery retires what is due at this time. */
  readonly nowMs: number
  /** When given and there is no key file yet, a new key is created from this source. */
  readonly random?: (n: number) => Uint8Array
}

/** What opening did: transaction recovery and bid pruning. */
export interface OpenReport {
  /** Open transactions resumed, retired or found unreadable. */
  readonly recovery: RecoveryReport
  /** Expired bids and old used marks removed. */
  readonly pruned: BidPruneResult
  /** True when the key file was created by this open. */
  readonly keyCreated: boolean
  /** Modes repaired because group or others could read them (to be logged as a warning). */
  readonly permissions: PermissionReport
  /** The schema migration this open ran (README.md "Schema version"), if any. */
  readonly migration?: SchemaMigration
}

/** An open data directory. */
export interface DataDir extends Repositories {
  /** The directory. */
  readonly dir: string
  /** The node's identity from the key file. */
  readonly identity: Identity
  /** The controller (for tools and tests). */
  readonly kv: KvController
  /** What happened on open. */
  readonly report: OpenReport
  /** Closes the database and releases the private umask; idempotent. */
  close(): Promise<void>
}

/**
 * Opens the data directory `dir`: creates it (0700) if needed, loads (or, with `random`,
 * creates) the key file, makes the directory, `db/` and `chunks/` owner-only (repairing what
 * others could only read), opens `<dir>/db` under a 0077 umask held until `close()`, checks
 * its schema (migrating a known older one), prunes expired bids and runs transaction recovery at `nowMs`. Errors:
 * STORE_KEY_*, STORE_DIR_OWNER, STORE_LOCKED, STORE_SCHEMA_MISMATCH, STORE_CORRUPT (schema
 * record); the database is closed again when opening fails.
 */
export async function openDataDir(dir: string, options: DataDirOptions): Promise<DataDir> {
  // Every refusal before any change: no key is created in, and no mode repaired of, a
  // directory that is refused.
  await ensureDataDir(dir)
  await checkDataDir(dir, STORE_DIRS)
  const key = await loadOrCreateIdentity(dir, options.random)
  const permissions = await repairDataDir(dir, STORE_DIRS)
  const release = holdPrivateUmask()
  let kv: KvController
  try {
    kv = await openLevelController(join(dir, DB_DIR_NAME))
  } catch (err) {
    release()
    throw err
  }
  const close = async (): Promise<void> => {
    await kv.close()
    release()
  }
  try {
    const { repos, migration } = await openMigrated(kv, options)
    const pruned = await repos.bids.pruneExpired(options.nowMs)
    const recovery = await repos.transactions.recover(options.nowMs)
    return {
      ...repos,
      dir,
      identity: key.identity,
      kv,
      report: {
        recovery,
        pruned,
        keyCreated: key.created,
        permissions,
        ...(migration === undefined ? {} : { migration })
      },
      close
    }
  } catch (err) {
    await close()
    throw err
  }
}
