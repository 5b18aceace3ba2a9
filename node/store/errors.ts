import { BitwrkError, errorBuilder } from '../../protocol/errors.js'

/**
 * Error codes of `node/store` (layout: node/store/README.md). The disk is untrusted input: a
 * record that does not decode or validate is `STORE_CORRUPT`, never silently dropped.
 */
export const StoreCode = {
  /** The database holds another schema version, or data without a version key. */
  SCHEMA_MISMATCH: 'STORE_SCHEMA_MISMATCH',
  /** A stored record failed its checksum, did not decode, or holds invalid values. */
  CORRUPT: 'STORE_CORRUPT',
  /** The store was used after `close()`. */
  CLOSED: 'STORE_CLOSED',
  /** Another process (or another open in this one) holds the database lock. */
  LOCKED: 'STORE_LOCKED',
  /** A write was asked with invalid values (a caller bug: nothing was written). */
  INVALID: 'STORE_INVALID',
  /** The bid was already marked used for a different transaction (DESIGN.md invariant 5). */
  BID_ALREADY_USED: 'STORE_BID_ALREADY_USED',
  /** `markUsed` for a bid the store does not hold: the node only signs for its own bids. */
  BID_UNKNOWN: 'STORE_BID_UNKNOWN',
  /** No transaction with this id is stored. */
  TX_UNKNOWN: 'STORE_TX_UNKNOWN',
  /** A transaction with this id is stored already (create). */
  TX_EXISTS: 'STORE_TX_EXISTS',
  /** A save would rewrite or drop stored messages: the message list is append-only. */
  TX_CONFLICT: 'STORE_TX_CONFLICT',
  /**
   * The key file is accessible by group or others, or the data directory or an entry of its
   * stores is writable by them (they could have swapped it): refused, never repaired.
   */
  KEY_PERMISSIONS: 'STORE_KEY_PERMISSIONS',
  /** A key file exists already; it is never overwritten. */
  KEY_EXISTS: 'STORE_KEY_EXISTS',
  /** There is no key file in the data directory. */
  KEY_MISSING: 'STORE_KEY_MISSING',
  /** The key file holds no valid WIF key (its content is never echoed). */
  KEY_CORRUPT: 'STORE_KEY_CORRUPT',
  /** The data directory or an entry of its stores belongs to another user: refused. */
  DIR_OWNER: 'STORE_DIR_OWNER'
} as const

/** Union of the store error codes. */
export type StoreErrorCode = (typeof StoreCode)[keyof typeof StoreCode]

/** Builds a store BitwrkError. */
export const storeError = errorBuilder<StoreErrorCode>()

/** A record that could not be read, reported by listings instead of being dropped silently. */
export interface StoreFault {
  /** Bucket name (README.md). */
  readonly bucket: string
  /** The record's key, hex. */
  readonly key: string
  /** The error code (STORE_CORRUPT, or a protocol code when a replay refused a message). */
  readonly code: string
  /** Human-readable reason; never record content. */
  readonly reason: string
}

/** A listing: the records that decoded, and a fault for each one that did not. */
export interface Listing<T> {
  /** Records read, in key order. */
  readonly items: T[]
  /** Records that failed to decode or validate. */
  readonly corrupt: StoreFault[]
}

/**
 * The fault of an error thrown while reading `key` in `bucket`. Only BitwrkErrors describe
 * bad records; anything else is a bug and is thrown on.
 */
export function faultOf(bucket: string, key: Uint8Array, err: unknown): StoreFault {
  if (!(err instanceof BitwrkError)) throw err
  return { bucket, key: Buffer.from(key).toString('hex'), code: err.code, reason: err.message }
}
