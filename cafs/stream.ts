import { Chunker } from './chunker.js'
import { CafsCode, cafsError } from './errors.js'
import { FileHasher, keysEqual, keyToHex, sha256 } from './keys.js'
import { MANIFEST_MAX_CHUNKS, makeManifest } from './manifest.js'
import type { AbortOptions, ChunkRef, ChunkStore, Key, Manifest } from './types.js'

/** Progress of an import, reported after every stored chunk. */
export interface ImportProgress {
  /** Content bytes processed so far. */
  bytes: number
  /** Chunks processed so far. */
  chunks: number
}

/** Options of {@link importStream}. */
export interface ImportOptions extends AbortOptions {
  /** Called after each chunk is stored. */
  onProgress?: (p: ImportProgress) => void
  /**
   * Pin every chunk (once per occurrence) before storing it, so a bounded store cannot evict
   * part of the file while the rest is imported. Release with {@link unpinManifest}. On failure
   * every pin taken is released. Default false.
   */
  pin?: boolean
}

/** Chunks stored concurrently by {@link importStream}: at most 8 × 128 KiB in flight. */
export const IMPORT_WINDOW = 8

/**
 * Chunks a byte stream into `store` and returns its manifest (CAFS-15). Memory stays bounded:
 * at most {@link IMPORT_WINDOW} chunks are being stored while the next are hashed (so hashing
 * overlaps the store's disk writes), and the source is not read while that window is full
 * (back-pressure). The file key is computed incrementally. Chunks are views of the source's
 * buffers until stored, so the source must not modify a buffer after yielding it (Node streams
 * do not); a store that sees changed bytes refuses them (`CAFS_HASH_MISMATCH`).
 */
export async function importStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  store: ChunkStore,
  options: ImportOptions = {}
): Promise<Manifest> {
  const { signal, onProgress, pin = false } = options
  const hasher = new FileHasher()
  const chunker = new Chunker()
  const refs: ChunkRef[] = []
  const pinned: Key[] = []
  const inFlight = new Set<Promise<void>>()
  // The first store failure; an object so TypeScript does not narrow it across awaits.
  const failed: { err?: unknown; set: boolean } = { set: false }
  let bytes = 0
  let stored = 0
  const storeOne = async (key: Key, chunk: Uint8Array): Promise<void> => {
    if (pin) {
      await store.pin(key)
      pinned.push(key)
    }
    await store.put(key, chunk, { signal })
    bytes += chunk.length
    stored++
    onProgress?.({ bytes, chunks: stored })
  }
  const add = async (chunk: Uint8Array): Promise<void> => {
    if (failed.set) throw failed.err
    signal?.throwIfAborted()
    if (refs.length >= MANIFEST_MAX_CHUNKS)
      throw cafsError(CafsCode.MANIFEST_TOO_MANY_CHUNKS, 'file has too many chunks for one manifest')
    const key = sha256(chunk)
    refs.push({ key, size: chunk.length })
    const task: Promise<void> = storeOne(key, chunk).then(
      () => {
        inFlight.delete(task)
      },
      (err: unknown) => {
        inFlight.delete(task)
        if (!failed.set) Object.assign(failed, { err, set: true })
      }
    )
    inFlight.add(task)
    while (inFlight.size >= IMPORT_WINDOW) await Promise.race(inFlight)
    if (failed.set) throw failed.err
  }
  try {
    for await (const data of source) {
      signal?.throwIfAborted()
      hasher.update(data)
      for (const chunk of chunker.push(data)) await add(chunk)
    }
    for (const chunk of chunker.finish()) await add(chunk)
    await Promise.all(inFlight)
    if (failed.set) throw failed.err
    return makeManifest(hasher.digest(), refs)
  } catch (err) {
    await Promise.all(inFlight)
    for (const key of pinned) await store.unpin(key).catch(() => {})
    throw err
  }
}

/**
 * Reads a file back from `store` chunk by chunk (CAFS-16). Throws `CAFS_CHUNK_MISSING` when a
 * chunk is absent and `CAFS_FILE_KEY_MISMATCH` when a chunk has the wrong length or the whole
 * content does not hash to the manifest's file key; the last check runs after the last chunk
 * was yielded, so a consumer must treat the data as unverified until the iteration ends.
 */
export async function* exportStream(
  manifest: Manifest,
  store: ChunkStore,
  options: AbortOptions = {}
): AsyncGenerator<Uint8Array, void, undefined> {
  const { signal } = options
  const hasher = new FileHasher()
  for (const [index, ref] of manifest.chunks.entries()) {
    signal?.throwIfAborted()
    const bytes = await store.get(ref.key, { signal })
    if (!bytes)
      throw cafsError(CafsCode.CHUNK_MISSING, 'chunk missing from store', {
        key: keyToHex(ref.key),
        index
      })
    if (bytes.length !== ref.size)
      throw cafsError(CafsCode.FILE_KEY_MISMATCH, 'chunk length differs from manifest', { index })
    hasher.update(bytes)
    yield bytes
  }
  if (hasher.size !== manifest.size || !keysEqual(hasher.digest(), manifest.fileKey))
    throw cafsError(CafsCode.FILE_KEY_MISMATCH, 'content does not hash to the file key')
}

/** Pins every chunk of a manifest (once per occurrence). */
export async function pinManifest(manifest: Manifest, store: ChunkStore): Promise<void> {
  for (const ref of manifest.chunks) await store.pin(ref.key)
}

/** Releases the pins of {@link pinManifest} or of `importStream({ pin: true })`. */
export async function unpinManifest(manifest: Manifest, store: ChunkStore): Promise<void> {
  for (const ref of manifest.chunks) await store.unpin(ref.key)
}

/** True when every chunk of the manifest is present in the store. */
export async function hasAllChunks(
  manifest: Manifest,
  store: ChunkStore,
  options?: AbortOptions
): Promise<boolean> {
  for (const ref of manifest.chunks) if (!(await store.has(ref.key, options))) return false
  return true
}
