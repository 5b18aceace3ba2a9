import { KEY_LENGTH } from '../types.js'
import { MAX_VARINT_BYTES } from './codec.js'

/**
 * Every bound of a transfer session (DESIGN.md invariant 10). Both ends pass their own limits;
 * a peer that exceeds one gets a specific error code, never an unbounded allocation.
 */
export interface TransferLimits {
  /** Largest chunk accepted (original BitWrk CAFS MAX chunk size 128 KiB, notes §6.1). */
  readonly maxChunkSize: number
  /** Most chunks in one manifest (original BitWrk limit 3·32768, notes §5.4). */
  readonly maxChunks: number
  /** Largest OFFER body; by default exactly what `maxChunks` chunks of `maxChunkSize` need. */
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

/** Bytes an OFFER needs for `chunks` chunks, at most (type, file key, size, count, entries). */
export function manifestBytesFor(chunks: number): number {
  return 1 + KEY_LENGTH + 2 * MAX_VARINT_BYTES + chunks * (KEY_LENGTH + MAX_VARINT_BYTES)
}

const MAX_CHUNK_SIZE = 131_072
const MAX_CHUNKS = 98_304

/** The default limits (XFER-3). */
export const DEFAULT_LIMITS: TransferLimits = {
  maxChunkSize: MAX_CHUNK_SIZE,
  maxChunks: MAX_CHUNKS,
  maxManifestBytes: manifestBytesFor(MAX_CHUNKS),
  // 1 MiB, js-libp2p's habitual cap on one length-prefixed read; holds 7 maximal chunks.
  maxMessageLength: 1 << 20,
  // 256 KiB per CHUNKS message: ~32 average chunks, few frames, small latency per frame.
  targetMessageBytes: 256 << 10,
  // 1024 keys = 32 KiB of GET: ~8 MiB of average chunks per request.
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
