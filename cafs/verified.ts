import type { HashPool } from './hash-pool.js'
import { keysEqual, sha256 } from './keys.js'
import type { Key } from './types.js'

/**
 * A chunk whose key this process computed from exactly these bytes (DESIGN.md invariant 8).
 * Only {@link VerifiedChunk.check} and {@link VerifiedChunk.hash} create one, both by hashing,
 * so holding one proves the bytes were verified; a store takes it through `putVerified`
 * without hashing the same bytes a second time (CAFS-12). The holder must not modify `bytes`
 * afterwards (the fetcher's are views of a received frame nobody writes to).
 */
export class VerifiedChunk {
  // A #private field makes the type nominal: a look-alike object literal does not type-check,
  // and `VerifiedChunk.is` tells a real token from a forged one at run time.
  readonly #verified = true

  private constructor(
    /** SHA-256 of `bytes`. */
    readonly key: Key,
    /** The chunk's bytes. */
    readonly bytes: Uint8Array,
    /**
     * True when the holder hands `bytes` over: an array of its own (a decoder's copy, see
     * `ChunkRecord.owned`) that no other code refers to, so a store may keep it without a copy.
     */
    readonly owned = false
  ) {}

  /**
   * The token for `bytes` when their SHA-256 is `key`, else `undefined` (one hash pass).
   * `owned`: the caller hands the array over (see {@link owned}).
   */
  static check(key: Key, bytes: Uint8Array, owned = false): VerifiedChunk | undefined {
    return keysEqual(sha256(bytes), key) ? new VerifiedChunk(key, bytes, owned) : undefined
  }

  /**
   * Like {@link check}, hashing on a {@link HashPool} worker when `pool` is given (the main
   * thread only copies the bytes), else here. `bytes` must not change until this settles.
   */
  static async checkOn(
    pool: HashPool | undefined,
    key: Key,
    bytes: Uint8Array,
    owned = false
  ): Promise<VerifiedChunk | undefined> {
    if (pool === undefined) return VerifiedChunk.check(key, bytes, owned)
    return keysEqual(await pool.digest(bytes), key) ? new VerifiedChunk(key, bytes, owned) : undefined
  }

  /** The token for `bytes` under the key computed from them (one hash pass). */
  static hash(bytes: Uint8Array): VerifiedChunk {
    return new VerifiedChunk(sha256(bytes), bytes)
  }

  /** True only for tokens made by {@link check} or {@link hash}. */
  static is(x: unknown): x is VerifiedChunk {
    return typeof x === 'object' && x !== null && #verified in x
  }
}
