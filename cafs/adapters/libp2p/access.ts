/**
 * Who may read what from the chunk server (CHUNK-14; DESIGN.md invariant 7): a policy of
 * (requesting peer, key), and the read-only view of a store that a peer's requests are served
 * from. A key the policy refuses looks exactly like a key the store does not hold — MISSING,
 * a zero HAVE bit, no manifest — so a stranger cannot even learn that it exists.
 */
import type { AbortOptions, ChunkStore, Key } from '../../types.js'
import { ChunkCode, chunkError } from './errors.js'

/**
 * The access policy of a chunk server: true when `peer` (base58 peer id) may read the chunk or
 * the manifest of the file named by `key`. Called once per requested key, on the serving path:
 * it must be cheap and must not throw.
 */
export type ChunkAccessPolicy = (peer: string, key: Key) => boolean

/** A key refused by the policy (`CHUNK_FORBIDDEN`, local only: the peer sees "not held"). */
export interface ForbiddenEvent {
  /** Base58 peer id of the requester. */
  readonly peer: string
  /** Always `CHUNK_FORBIDDEN`. */
  readonly code: typeof ChunkCode.FORBIDDEN
}

function readOnly(): never {
  throw chunkError(ChunkCode.FORBIDDEN, 'a serving view of the store is read-only')
}

/**
 * The store as one peer may see it: `has`, `get` and `getShared` answer "absent" for every key
 * `readable` refuses; writes throw `CHUNK_FORBIDDEN` (a serving view never writes).
 */
export function readableView(store: ChunkStore, readable: (key: Key) => boolean): ChunkStore {
  return {
    has: async (key: Key, options?: AbortOptions) => readable(key) && (await store.has(key, options)),
    get: async (key: Key, options?: AbortOptions) =>
      readable(key) ? await store.get(key, options) : undefined,
    getShared: async (key: Key, options?: AbortOptions) =>
      readable(key) ? await (store.getShared ?? store.get).call(store, key, options) : undefined,
    put: readOnly,
    delete: readOnly,
    pin: readOnly,
    unpin: readOnly,
    stats: () => store.stats(),
    // the view owns nothing: closing it leaves the store open
    close: async () => {}
  }
}
