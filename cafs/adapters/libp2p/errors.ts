import { BitwrkError, errorBuilder } from '../../../protocol/errors.js'
import type { XferErrorCode } from '../../transfer/index.js'

/**
 * Error codes of the chunk-exchange adapter (protocol/spec/chunk-exchange.md, CHUNK-12). Wire
 * and content failures keep their CAFS transfer codes (`CAFS_XFER_*`, `CAFS_HASH_MISMATCH`).
 */
export const ChunkCode = {
  /** The peer used up its invalid-request budget; its streams are refused (CHUNK-9). */
  PEER_REFUSED: 'CHUNK_PEER_REFUSED',
  /** Every serving slot is taken (`maxActiveStreams`, CHUNK-8); the stream was refused. */
  BUSY: 'CHUNK_BUSY',
  /** The peer holds `maxPeerStreams` streams over all its connections (CHUNK-15); refused. */
  STREAM_LIMIT: 'CHUNK_STREAM_LIMIT',
  /** The DHT found no provider for the file (other than ourselves) before its deadline. */
  NO_PROVIDERS: 'CHUNK_NO_PROVIDERS',
  /** No provider returned a manifest for the file key. */
  MANIFEST_NOT_FOUND: 'CHUNK_MANIFEST_NOT_FOUND',
  /** A DHT operation failed or passed its deadline. */
  DHT_FAILED: 'CHUNK_DHT_FAILED',
  /** Opening a stream to a provider failed (dial, negotiation, stream cap). */
  DIAL_FAILED: 'CHUNK_DIAL_FAILED',
  /**
   * The access policy refused a key to the requesting peer (CHUNK-14). Local only: the peer is
   * answered as if the key were not held, and no invalid-request budget is charged.
   */
  FORBIDDEN: 'CHUNK_FORBIDDEN',
  /** The exchange is not started, or was stopped. */
  STOPPED: 'CHUNK_STOPPED'
} as const

/** Union of the chunk-exchange error codes. */
export type ChunkErrorCode = (typeof ChunkCode)[keyof typeof ChunkCode]

/** Creates the {@link BitwrkError} for a chunk-exchange failure. */
export const chunkError = errorBuilder<ChunkErrorCode>()

/** A {@link BitwrkError} carrying a CAFS transfer code (wire and content failures, CHUNK-12). */
export const xferError = errorBuilder<XferErrorCode>()
