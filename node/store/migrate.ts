/**
 * Schema migrations (README.md "Schema version"): a database of an older version that a step
 * here knows is brought to {@link SCHEMA_VERSION} on open, in one synced batch together with the
 * new version record, so that after a crash it is either wholly old or wholly new. A step
 * describes the old layout literally: it must not change when today's code does.
 */

import { Bucket } from './buckets.js'
import { concat, decodeSealed, seal, unseal, utf8 } from './codec.js'
import { type KvController, type KvOp, prefixRange, SCHEMA_KEY, SCHEMA_VERSION, schemaValue } from './db.js'

/** What a migration on open did. */
export interface SchemaMigration {
  /** The version found. */
  readonly from: number
  /** The version written ({@link SCHEMA_VERSION}). */
  readonly to: number
  /** Mandate records moved out of the file bucket. */
  readonly mandates: number
  /** Mandate id counters moved out of the file index bucket (0 or 1). */
  readonly mandateSeq: number
  /** Keys in the two shared buckets that fit neither layout: left where they are. */
  readonly unknown: number
}

/** Length of a schema-2 mandate key: 0x50 ‖ u64 id (MAN-2 of schema 2). */
const V2_MANDATE_KEY_LENGTH = 9
/** The schema-2 mandate counter's key after its bucket byte 0x51 (MAN-2 of schema 2). */
const V2_SEQ_NAME = utf8('next')
/** Key lengths of the file index, unchanged: 0x50 ‖ file key (32), 0x51 ‖ u64 ‖ file key. */
const FILE_KEY_LENGTH = 33
const FILE_ADDED_KEY_LENGTH = 41

/**
 * Moves `value` from `from` to `to`: re-sealed under the new key when its checksum holds
 * (the checksum binds a value to its key), copied as it is when not (it stays unreadable and is
 * reported as corrupt by its reader, as it was before).
 */
function move(from: Uint8Array, to: Uint8Array, value: Uint8Array): KvOp[] {
  let moved: Uint8Array
  try {
    moved = seal(to, unseal(from, value))
  } catch {
    moved = value
  }
  return [
    { type: 'put', key: to, value: moved },
    { type: 'del', key: from }
  ]
}

/**
 * 2 → 3 (issue 12.1): schema 2 kept mandates (key `0x50 ‖ u64 id`) and their id counter (key
 * `0x51 ‖ "next"`) in the bytes of the file index (`0x50 ‖ file key`, `0x51 ‖ u64 addedMs ‖
 * file key`). The key lengths tell them apart: mandates move to {@link Bucket.mandate} and
 * {@link Bucket.mandateSeq} with their payloads unchanged, files stay.
 */
async function fromTwo(
  kv: KvController
): Promise<{ ops: KvOp[]; counts: Omit<SchemaMigration, 'from' | 'to'> }> {
  const ops: KvOp[] = []
  let mandates = 0
  let mandateSeq = 0
  let unknown = 0
  for await (const [k, v] of kv.entries(prefixRange(Uint8Array.of(Bucket.file)))) {
    if (k.length === V2_MANDATE_KEY_LENGTH) {
      ops.push(...move(k, concat(Uint8Array.of(Bucket.mandate), k.subarray(1)), v))
      mandates++
    } else if (k.length !== FILE_KEY_LENGTH) unknown++
  }
  const oldSeq = concat(Uint8Array.of(Bucket.fileAdded), V2_SEQ_NAME)
  for await (const [k, v] of kv.entries(prefixRange(Uint8Array.of(Bucket.fileAdded)))) {
    if (k.length === oldSeq.length && Buffer.from(k).equals(oldSeq)) {
      ops.push(...move(k, concat(Uint8Array.of(Bucket.mandateSeq), V2_SEQ_NAME), v))
      mandateSeq++
    } else if (k.length !== FILE_ADDED_KEY_LENGTH) unknown++
  }
  return { ops, counts: { mandates, mandateSeq, unknown } }
}

/** The steps by the version they start from; each ends at {@link SCHEMA_VERSION}. */
// Schema 1 is not migrated: its stored transmit-finished messages cannot be sealed afterwards
// (README.md "Schema version", TX-23), so it stays refused as a whole.
const STEPS: ReadonlyMap<number, typeof fromTwo> = new Map([[2, fromTwo]])

/**
 * Brings a database of a known older schema version to {@link SCHEMA_VERSION} (one synced
 * batch with the new version record) and says what it did; undefined when there was nothing to
 * do (no version record, the current one, an unknown one or an unreadable one: `checkSchema`
 * then decides).
 */
export async function migrateSchema(kv: KvController): Promise<SchemaMigration | undefined> {
  const value = await kv.get(SCHEMA_KEY)
  if (value === undefined) return undefined
  let from: number
  try {
    from = decodeSealed(SCHEMA_KEY, value, (r) => r.u32())
  } catch {
    return undefined
  }
  const step = STEPS.get(from)
  if (step === undefined) return undefined
  const { ops, counts } = await step(kv)
  ops.push({ type: 'put', key: SCHEMA_KEY, value: schemaValue(SCHEMA_VERSION) })
  await kv.batch(ops, { sync: true })
  return { from, to: SCHEMA_VERSION, ...counts }
}
