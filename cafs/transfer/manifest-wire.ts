import { type ChunkRef, KEY_LENGTH, type Manifest } from '../types.js'
import type { ByteReader, ByteWriter } from './codec.js'
import { XferCode, xferError } from './errors.js'
import type { TransferLimits } from './limits.js'

/**
 * The manifest as it travels in an OFFER (XFER-5):
 * `fileKey[32] || varint(size) || varint(n) || n × (chunkKey[32] || varint(chunkSize))`.
 */

/** Appends the manifest fields to `w`. */
export function encodeManifestBody(w: ByteWriter, m: Manifest): void {
  w.bytes(m.fileKey).varint(m.size).varint(m.chunks.length)
  for (const c of m.chunks) w.bytes(c.key).varint(c.size)
}

/**
 * Reads and checks a manifest: at most `maxChunks` entries (`CAFS_XFER_MANIFEST_TOO_LARGE`),
 * each chunk at most `maxChunkSize` and the sizes summing to the file size
 * (`CAFS_XFER_BAD_MANIFEST`); a short body is `CAFS_XFER_BAD_MESSAGE`.
 */
export function decodeManifestBody(r: ByteReader, limits: TransferLimits): Manifest {
  const fileKey = r.bytes(KEY_LENGTH)
  const size = r.varint()
  const n = r.varint()
  if (n > limits.maxChunks)
    throw xferError(XferCode.MANIFEST_TOO_LARGE, 'manifest lists too many chunks', {
      chunks: n,
      maxChunks: limits.maxChunks
    })
  // Each entry takes at least 33 bytes: refuse a count the body cannot hold before allocating.
  if (n * (KEY_LENGTH + 1) > r.remaining) throw xferError(XferCode.BAD_MESSAGE, 'manifest ends early')
  const chunks: ChunkRef[] = []
  let sum = 0
  for (let i = 0; i < n; i++) {
    const key = r.bytes(KEY_LENGTH)
    const chunkSize = r.varint()
    if (chunkSize > limits.maxChunkSize)
      throw xferError(XferCode.BAD_MANIFEST, 'manifest lists a chunk above maxChunkSize', {
        index: i,
        size: chunkSize
      })
    sum += chunkSize
    chunks.push({ key, size: chunkSize })
  }
  if (sum !== size) throw xferError(XferCode.BAD_MANIFEST, 'chunk sizes do not add up to the file size')
  return { fileKey, size, chunks }
}
