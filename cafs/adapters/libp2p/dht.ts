import type { Libp2p, PeerId } from '@libp2p/interface'
import { keyToCid } from '../../keys.js'
import type { AbortOptions, Key } from '../../types.js'
import { ChunkCode, chunkError } from './errors.js'

/** The part of libp2p the DHT helpers use. */
export type DhtLibp2p = Pick<Libp2p, 'contentRouting' | 'peerId'>

/**
 * Deadlines of DHT operations (CHUNK-11). Kad-DHT queries have no timeout of their own
 * (notes/libp2p-stack.md pitfall 5); on a small private network a provide takes 20–80 ms and
 * a lookup 2–36 ms, so these leave two orders of magnitude of headroom.
 */
export const DHT_DEFAULTS = {
  provideTimeoutMs: 30_000,
  findTimeoutMs: 10_000,
  maxProviders: 8
} as const

/** Options of the DHT helpers. */
export interface DhtOptions extends AbortOptions {
  /** Deadline of the whole operation, ms. */
  timeoutMs?: number
}

/** The caller's signal combined with a deadline. */
export function withTimeout(ms: number, signal?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(ms)
  return signal === undefined ? t : AbortSignal.any([signal, t])
}

/**
 * Announces this node as a provider of `fileKey` (CIDv1, raw codec, sha2-256 of the file key:
 * CAFS-7). Throws `CHUNK_DHT_FAILED` when the DHT fails or the deadline passes, or the abort
 * reason when the caller's signal fires.
 */
export async function provideFile(libp2p: DhtLibp2p, fileKey: Key, options: DhtOptions = {}): Promise<void> {
  const signal = withTimeout(options.timeoutMs ?? DHT_DEFAULTS.provideTimeoutMs, options.signal)
  try {
    await libp2p.contentRouting.provide(keyToCid(fileKey), { signal })
  } catch (err) {
    options.signal?.throwIfAborted()
    throw chunkError(ChunkCode.DHT_FAILED, 'provide failed', { cause: String(err) })
  }
}

/** Options of {@link findFileProviders}. */
export interface FindProvidersOptions extends DhtOptions {
  /** Stop after this many providers (default 8). */
  maxProviders?: number
}

/**
 * Providers of `fileKey` found through the DHT: each peer once, never ourselves, at most
 * `maxProviders`. The lookup ends quietly at its deadline with what it found; a DHT failure
 * is `CHUNK_DHT_FAILED`; the caller's abort is rethrown.
 */
export async function* findFileProviders(
  libp2p: DhtLibp2p,
  fileKey: Key,
  options: FindProvidersOptions = {}
): AsyncGenerator<PeerId> {
  const max = options.maxProviders ?? DHT_DEFAULTS.maxProviders
  if (max <= 0) return
  const signal = withTimeout(options.timeoutMs ?? DHT_DEFAULTS.findTimeoutMs, options.signal)
  const seen = new Set<string>([libp2p.peerId.toString()])
  try {
    for await (const p of libp2p.contentRouting.findProviders(keyToCid(fileKey), { signal })) {
      const id = p.id.toString()
      if (seen.has(id)) continue
      seen.add(id)
      yield p.id
      if (seen.size - 1 >= max) return
    }
  } catch (err) {
    options.signal?.throwIfAborted()
    if (signal.aborted) return
    throw chunkError(ChunkCode.DHT_FAILED, 'findProviders failed', { cause: String(err) })
  }
}
