import { CHUNK_MAX_SIZE } from '../chunker.js'
import { MANIFEST_ENTRY_BYTES, MANIFEST_HEADER_BYTES, MANIFEST_MAX_CHUNKS } from '../manifest.js'
import { KEY_LENGTH } from '../types.js'
import { MAX_VARINT_BYTES, varintLength } from './codec.js'

/**
 * Every bound of a transfer session (DESIGN.md invariant 10). Both ends pass their own limits;
 * a peer that exceeds one gets a specific error code, never an unbounded allocation.
 */
export interface TransferLimits {
  /** Largest chunk accepted (default: the chunker's maximum, CAFS-1). */
  readonly maxChunkSize: number
  /** Most chunks in one manifest (default: the manifest codec's maximum, CAFS-9). */
  readonly maxChunks: number
  /** Largest file a receiver accepts (bounds what one offer can make it store). */
  readonly maxFileSize: number
  /** Largest OFFER body; by default exactly what `maxChunks` chunks need. */
  readonly maxManifestBytes: number
  /** Largest body of any other message; must hold one chunk record. */
  readonly maxMessageLength: number
  /** A sender packs chunk records into one CHUNKS message until it reaches this many bytes. */
  readonly targetMessageBytes: number
  /** Most keys in one GET. */
  readonly maxKeysPerRequest: number
  /** Per-message timeout: each frame must arrive, and each write drain, within this. */
  readonly messageTimeoutMs: number
}

/** Bytes a chunk record adds around the chunk (index and length varints). */
export const RECORD_OVERHEAD = 2 * MAX_VARINT_BYTES

/** Bytes of an OFFER body for a manifest of `chunks` chunks (type byte + CAFS-8 encoding). */
export function manifestBytesFor(chunks: number): number {
  return 1 + MANIFEST_HEADER_BYTES + chunks * MANIFEST_ENTRY_BYTES
}

/**
 * Largest request body a fetcher may send (GET, and the chunk exchange's HAVE, of
 * `maxKeysPerRequest` keys: type byte, varint count, the keys): what a provider reads per
 * request (XFER-23), 32,771 bytes with the defaults.
 */
export function maxRequestBytes(limits: Pick<TransferLimits, 'maxKeysPerRequest'>): number {
  return 1 + varintLength(limits.maxKeysPerRequest) + limits.maxKeysPerRequest * KEY_LENGTH
}

/** The default limits (XFER-3). */
export const DEFAULT_LIMITS: TransferLimits = {
  maxChunkSize: CHUNK_MAX_SIZE,
  maxChunks: MANIFEST_MAX_CHUNKS,
  // 4 GiB: five times the original's largest chunked work (98 304 chunks of ~8 KiB, notes §5.4).
  maxFileSize: 2 ** 32,
  maxManifestBytes: manifestBytesFor(MANIFEST_MAX_CHUNKS),
  // 1 MiB, js-libp2p's habitual cap on one length-prefixed read; holds several maximal chunks.
  maxMessageLength: 1 << 20,
  // 256 KiB per CHUNKS message: several average chunks per frame, a few hundred µs each.
  targetMessageBytes: 256 << 10,
  // 1024 keys = 32 KiB of GET (the fetcher asks for 64 at a time by default).
  maxKeysPerRequest: 1024,
  // The original client allowed 900 s per read (notes §5.8); a live peer answers far sooner.
  messageTimeoutMs: 30_000
}

/**
 * Merges `partial` over the defaults. `maxManifestBytes` follows `maxChunks` unless given.
 * Throws a RangeError (a caller bug) when a CHUNKS message could not hold one chunk.
 */
export function resolveLimits(partial: Partial<TransferLimits> = {}): TransferLimits {
  const maxChunks = partial.maxChunks ?? DEFAULT_LIMITS.maxChunks
  const limits: TransferLimits = {
    ...DEFAULT_LIMITS,
    ...partial,
    maxManifestBytes: partial.maxManifestBytes ?? manifestBytesFor(maxChunks)
  }
  if (limits.maxMessageLength < 1 + RECORD_OVERHEAD + limits.maxChunkSize)
    throw new RangeError('maxMessageLength cannot hold one chunk record')
  return limits
}
