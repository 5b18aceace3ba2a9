import { isBitwrkError } from '../../protocol/errors.js'
import { CafsCode } from '../errors.js'
import { sha256 } from '../keys.js'
import { decodeManifest, encodeManifest, MANIFEST_HEADER_BYTES } from '../manifest.js'
import type { Key, Manifest } from '../types.js'
import type { ByteReader, ByteWriter } from './codec.js'
import { XferCode, xferError } from './errors.js'
import type { TransferLimits } from './limits.js'

/**
 * The manifest as it travels in an OFFER (XFER-5): exactly its canonical CAFS encoding
 * (protocol/spec/cafs.md CAFS-8: `"bwmf" | 0x01 | fileKey | size u64 | count u32 | entries`),
 * so the SHA-256 of the OFFER payload is the manifest key a bid or DHT record can name.
 */

/** Offset of the big-endian u32 chunk count in the canonical encoding (magic, version, key, size). */
const COUNT_OFFSET = 4 + 1 + 32 + 8

/** Appends the canonical manifest encoding (throws `CAFS_MANIFEST_*` for an invalid manifest). */
export function encodeManifestBody(w: ByteWriter, m: Manifest): void {
  w.bytes(encodeManifest(m))
}

/**
 * Reads the rest of the message as a manifest and checks it against the session's limits:
 * more than `maxChunks` chunks (checked on the count field before anything is decoded) or a
 * file above `maxFileSize` is `CAFS_XFER_MANIFEST_TOO_LARGE`; an encoding CAFS refuses, or a chunk above `maxChunkSize`, is
 * `CAFS_XFER_BAD_MANIFEST` with the CAFS code in `details.manifestCode`.
 */
export function decodeManifestBody(
  r: ByteReader,
  limits: TransferLimits
): { manifest: Manifest; manifestKey: Key } {
  const bytes = r.bytes(r.remaining)
  if (bytes.length >= MANIFEST_HEADER_BYTES) {
    const count = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(COUNT_OFFSET)
    if (count > limits.maxChunks)
      throw xferError(XferCode.MANIFEST_TOO_LARGE, 'manifest lists too many chunks', {
        chunks: count,
        maxChunks: limits.maxChunks
      })
  }
  let manifest: Manifest
  try {
    manifest = decodeManifest(bytes)
  } catch (err) {
    if (!isBitwrkError(err)) throw err
    if (err.code === CafsCode.MANIFEST_OVERSIZED || err.code === CafsCode.MANIFEST_TOO_MANY_CHUNKS)
      throw xferError(XferCode.MANIFEST_TOO_LARGE, 'manifest exceeds the CAFS limits', {
        manifestCode: err.code
      })
    throw xferError(XferCode.BAD_MANIFEST, 'manifest does not decode', { manifestCode: err.code })
  }
  if (manifest.size > limits.maxFileSize)
    throw xferError(XferCode.MANIFEST_TOO_LARGE, 'file larger than maxFileSize', {
      size: manifest.size,
      maxFileSize: limits.maxFileSize
    })
  for (let i = 0; i < manifest.chunks.length; i++)
    if (manifest.chunks[i]!.size > limits.maxChunkSize)
      throw xferError(XferCode.BAD_MANIFEST, 'manifest lists a chunk above maxChunkSize', {
        index: i,
        maxChunkSize: limits.maxChunkSize
      })
  return { manifest, manifestKey: sha256(bytes) }
}
