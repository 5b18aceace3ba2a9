/**
 * The one table of bucket bytes of the node's database (node/store/README.md "Buckets"): every
 * store that writes into `<dataDir>/db` takes its key prefix from here, so no two stores can
 * share a byte again (issue 12.1: mandates and the file index both used 0x50/0x51).
 * `test/architecture.test.ts` fails on a duplicate byte and on a bucket byte declared anywhere
 * else. The chunk store has its own database (`<dataDir>/chunks`, cafs/store/level.ts).
 */

/** One bucket: its key prefix byte, the module that owns it, and what it holds. */
export interface BucketEntry {
  /** The first byte of every key of the bucket. */
  readonly byte: number
  /** The module that reads and writes it. */
  readonly owner: string
  /** What the bucket holds. */
  readonly holds: string
}

/** Every bucket of the node's database by name (README.md "Buckets"; schema 2). */
export const BUCKET_TABLE = {
  meta: { byte: 0x00, owner: 'node/store/db.ts', holds: 'store metadata: the schema version' },
  bid: { byte: 0x01, owner: 'node/store/bids.ts', holds: 'own bids by id' },
  bidExpiry: { byte: 0x02, owner: 'node/store/bids.ts', holds: 'index: bid expiry (u64 BE) ‖ bid id' },
  bidUsed: { byte: 0x03, owner: 'node/store/bids.ts', holds: 'used marks: bid id → transaction id' },
  tx: { byte: 0x10, owner: 'node/store/transactions.ts', holds: 'transaction headers by raw 32-byte id' },
  txMessage: { byte: 0x11, owner: 'node/store/transactions.ts', holds: 'transaction messages: id ‖ u32 seq' },
  txOpen: { byte: 0x12, owner: 'node/store/transactions.ts', holds: 'index: ids of active transactions' },
  txRetired: {
    byte: 0x13,
    owner: 'node/store/transactions.ts',
    holds: 'index: retirement time (u64 BE) ‖ id of retired transactions'
  },
  peer: { byte: 0x20, owner: 'node/store/peers.ts', holds: 'known peers by peer id' },
  peerSeen: { byte: 0x21, owner: 'node/store/peers.ts', holds: 'index: last seen (u64 BE) ‖ peer id' },
  reputation: {
    byte: 0x30,
    owner: 'node/store/reputation.ts',
    holds: 'reputation counters: subject kind byte ‖ subject'
  },
  subscription: { byte: 0x40, owner: 'node/store/settings.ts', holds: 'followed articles' },
  setting: { byte: 0x41, owner: 'node/store/settings.ts', holds: 'named settings' },
  file: { byte: 0x50, owner: 'node/store/files.ts', holds: 'known files: file key → manifest' },
  fileAdded: { byte: 0x51, owner: 'node/store/files.ts', holds: 'index: added time (u64 BE) ‖ file key' },
  mandate: { byte: 0x60, owner: 'node/mandates', holds: 'mandates by u64 id (MAN-2)' },
  mandateSeq: { byte: 0x61, owner: 'node/mandates', holds: 'the next mandate id (MAN-2)' }
} as const satisfies Record<string, BucketEntry>

/** A bucket name. */
export type BucketName = keyof typeof BUCKET_TABLE

/** One-byte key prefix of each bucket, from {@link BUCKET_TABLE}. */
export const Bucket = Object.freeze(
  Object.fromEntries(Object.entries(BUCKET_TABLE).map(([name, e]) => [name, e.byte]))
) as { readonly [K in BucketName]: (typeof BUCKET_TABLE)[K]['byte'] }

/** Bytes used by more than one bucket of `table`, each with the names that share it (empty: none). */
export function duplicateBuckets(table: Readonly<Record<string, BucketEntry>>): string[] {
  const byByte = new Map<number, string[]>()
  for (const [name, e] of Object.entries(table)) byByte.set(e.byte, [...(byByte.get(e.byte) ?? []), name])
  return [...byByte]
    .filter(([, names]) => names.length > 1)
    .map(([byte, names]) => `0x${byte.toString(16).padStart(2, '0')}: ${names.join(', ')}`)
}
