import { CHUNK_MAX_SIZE, chunkBytes } from './chunker.js'
import { CafsCode, type CafsErrorCode, cafsError } from './errors.js'
import { EMPTY_KEY_HEX, keysEqual, keyToHex, sha256 } from './keys.js'
import { type ChunkRef, KEY_LENGTH, type Key, type Manifest } from './types.js'

/**
 * The canonical binary manifest encoding (CAFS-8…CAFS-10) and its strict decoder. All integers
 * big-endian:
 *
 * ```
 * magic "bwmf" (4) | version 0x01 (1) | fileKey (32) | size u64 (8) | count u32 (4)
 * then count × ( chunkKey (32) | chunkSize u32 (4) )
 * ```
 */

/** ASCII `bwmf`: a domain tag so no other hashed document can be read as a manifest. */
export const MANIFEST_MAGIC = Uint8Array.of(0x62, 0x77, 0x6d, 0x66)
/** The only version this code writes and reads. */
export const MANIFEST_VERSION = 1
/** Bytes before the first chunk entry. */
export const MANIFEST_HEADER_BYTES = 4 + 1 + KEY_LENGTH + 8 + 4
/** Bytes per chunk entry. */
export const MANIFEST_ENTRY_BYTES = KEY_LENGTH + 4
/**
 * Most chunks in one manifest: 2^19, i.e. files of at least 8 GiB (at the minimum chunk size)
 * and about 19 GiB at the measured mean chunk size (CAFS-9).
 */
export const MANIFEST_MAX_CHUNKS = 2 ** 19
/** Largest valid encoding (18 874 417 bytes). */
export const MANIFEST_MAX_BYTES = MANIFEST_HEADER_BYTES + MANIFEST_ENTRY_BYTES * MANIFEST_MAX_CHUNKS

const EMPTY_KEY = Uint8Array.from(Buffer.from(EMPTY_KEY_HEX, 'hex'))

/**
 * Checks the rules of CAFS-9 on a manifest object. Returns the first violated code, or
 * `undefined` when the manifest is valid.
 */
export function checkManifest(m: Manifest): CafsErrorCode | undefined {
  if (!(m.fileKey instanceof Uint8Array) || m.fileKey.length !== KEY_LENGTH)
    return CafsCode.MANIFEST_KEY_MISMATCH
  if (m.chunks.length > MANIFEST_MAX_CHUNKS) return CafsCode.MANIFEST_TOO_MANY_CHUNKS
  let sum = 0
  for (const c of m.chunks) {
    if (!(c.key instanceof Uint8Array) || c.key.length !== KEY_LENGTH) return CafsCode.MANIFEST_KEY_MISMATCH
    if (!Number.isSafeInteger(c.size) || c.size < 0) return CafsCode.MANIFEST_SIZE_MISMATCH
    if (c.size === 0) return CafsCode.MANIFEST_EMPTY_CHUNK
    if (c.size > CHUNK_MAX_SIZE) return CafsCode.MANIFEST_CHUNK_TOO_LARGE
    sum += c.size
  }
  if (!Number.isSafeInteger(m.size) || sum !== m.size) return CafsCode.MANIFEST_SIZE_MISMATCH
  // With no chunk the content is empty; with one chunk the content IS the chunk.
  if (m.chunks.length === 0 && !keysEqual(m.fileKey, EMPTY_KEY)) return CafsCode.MANIFEST_KEY_MISMATCH
  if (m.chunks.length === 1 && !keysEqual(m.fileKey, m.chunks[0]!.key)) return CafsCode.MANIFEST_KEY_MISMATCH
  return undefined
}

/** Builds a manifest from a file key and its chunk list (size = sum); throws if invalid. */
export function makeManifest(fileKey: Key, chunks: readonly ChunkRef[]): Manifest {
  let size = 0
  for (const c of chunks) size += c.size
  const m: Manifest = { fileKey, size, chunks }
  const code = checkManifest(m)
  if (code) throw cafsError(code, 'invalid manifest')
  return m
}

/** The canonical encoding of a valid manifest; throws a `CAFS_MANIFEST_*` error otherwise. */
export function encodeManifest(m: Manifest): Uint8Array {
  const code = checkManifest(m)
  if (code) throw cafsError(code, 'invalid manifest')
  const out = new Uint8Array(MANIFEST_HEADER_BYTES + MANIFEST_ENTRY_BYTES * m.chunks.length)
  const dv = new DataView(out.buffer)
  out.set(MANIFEST_MAGIC, 0)
  out[4] = MANIFEST_VERSION
  out.set(m.fileKey, 5)
  dv.setBigUint64(37, BigInt(m.size))
  dv.setUint32(45, m.chunks.length)
  let o = MANIFEST_HEADER_BYTES
  for (const c of m.chunks) {
    out.set(c.key, o)
    dv.setUint32(o + KEY_LENGTH, c.size)
    o += MANIFEST_ENTRY_BYTES
  }
  return out
}

/**
 * Strict decoder of CAFS-8: accepts exactly the canonical encodings of valid manifests, so
 * `encodeManifest(decodeManifest(b))` equals `b`. Throws a {@link BitwrkError} whose code says
 * what is wrong (`CAFS_MANIFEST_TRUNCATED`, `…_OVERSIZED`, `…_BAD_MAGIC`, `…_BAD_VERSION`,
 * `…_TOO_MANY_CHUNKS`, `…_TRAILING_BYTES`, `…_EMPTY_CHUNK`, `…_CHUNK_TOO_LARGE`,
 * `…_SIZE_MISMATCH`, `…_KEY_MISMATCH`). The result does not alias `bytes`.
 */
export function decodeManifest(bytes: Uint8Array): Manifest {
  const fail = (code: CafsErrorCode, details: Record<string, unknown> = {}): never => {
    throw cafsError(code, `bad manifest encoding: ${code}`, details)
  }
  if (!(bytes instanceof Uint8Array)) fail(CafsCode.MANIFEST_TRUNCATED)
  if (bytes.length > MANIFEST_MAX_BYTES) fail(CafsCode.MANIFEST_OVERSIZED, { length: bytes.length })
  if (bytes.length < MANIFEST_HEADER_BYTES) fail(CafsCode.MANIFEST_TRUNCATED, { length: bytes.length })
  for (let i = 0; i < 4; i++) if (bytes[i] !== MANIFEST_MAGIC[i]) fail(CafsCode.MANIFEST_BAD_MAGIC)
  if (bytes[4] !== MANIFEST_VERSION) fail(CafsCode.MANIFEST_BAD_VERSION, { version: bytes[4] })
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const fileKey = bytes.slice(5, 5 + KEY_LENGTH)
  const size = dv.getBigUint64(37)
  const count = dv.getUint32(45)
  if (count > MANIFEST_MAX_CHUNKS) fail(CafsCode.MANIFEST_TOO_MANY_CHUNKS, { count })
  const expected = MANIFEST_HEADER_BYTES + MANIFEST_ENTRY_BYTES * count
  if (bytes.length < expected) fail(CafsCode.MANIFEST_TRUNCATED, { length: bytes.length, expected })
  if (bytes.length > expected) fail(CafsCode.MANIFEST_TRAILING_BYTES, { length: bytes.length, expected })
  const chunks: ChunkRef[] = new Array(count)
  let sum = 0n
  let o = MANIFEST_HEADER_BYTES
  for (let i = 0; i < count; i++) {
    const s = dv.getUint32(o + KEY_LENGTH)
    if (s === 0) fail(CafsCode.MANIFEST_EMPTY_CHUNK, { index: i })
    if (s > CHUNK_MAX_SIZE) fail(CafsCode.MANIFEST_CHUNK_TOO_LARGE, { index: i, size: s })
    chunks[i] = { key: bytes.slice(o, o + KEY_LENGTH), size: s }
    sum += BigInt(s)
    o += MANIFEST_ENTRY_BYTES
  }
  if (sum !== size) fail(CafsCode.MANIFEST_SIZE_MISMATCH, { size: size.toString(), sum: sum.toString() })
  const m: Manifest = { fileKey, size: Number(size), chunks }
  const code = checkManifest(m)
  if (code) fail(code)
  return m
}

/** The manifest's own key: SHA-256 of its canonical encoding (CAFS-10). */
export function manifestKey(m: Manifest | Uint8Array): Key {
  return sha256(m instanceof Uint8Array ? m : encodeManifest(m))
}

/** Chunks an in-memory buffer and returns its manifest (for tests and small files). */
export function manifestOfBytes(data: Uint8Array): Manifest {
  const chunks = chunkBytes(data).map((c) => ({ key: sha256(c), size: c.length }))
  return makeManifest(sha256(data), chunks)
}

/** Human-readable one-line summary for logs (no peer-supplied strings beyond hex keys). */
export function describeManifest(m: Manifest): string {
  return `file ${keyToHex(m.fileKey)} size ${m.size} chunks ${m.chunks.length}`
}
