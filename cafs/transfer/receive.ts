import { isBitwrkError } from '../../protocol/errors.js'
import { FileHasher, keysEqual, keyToHex } from '../keys.js'
import { putChunk } from '../store/verify.js'
import type { AbortOptions, ChunkStore, Key, Manifest } from '../types.js'
import { VerifiedChunk } from '../verified.js'
import { MISBEHAVIOUR_CODES, XferCode, xferError } from './errors.js'
import { resolveLimits, type TransferLimits } from './limits.js'
import { encodeAck, encodeWant } from './messages.js'
import { Session } from './session.js'
import type { ByteStream } from './stream.js'
import { rangesFromIndices } from './wishlist.js'

/** Progress of a receiving or fetching session. */
export interface XferProgress {
  /** Chunks (and their bytes) that had to travel. */
  readonly chunksWanted: number
  readonly bytesWanted: number
  /** Chunks (and bytes) verified and stored so far. */
  readonly chunksReceived: number
  readonly bytesReceived: number
}

/** Options of {@link receiveFile}. */
export interface ReceiveOptions extends AbortOptions {
  /** Overrides of the default limits and the per-message timeout. */
  limits?: Partial<TransferLimits>
  /** Refuse an offer for any other file (`CAFS_XFER_MANIFEST_MISMATCH`), e.g. the work hash. */
  expectedFileKey?: Key
  /** Refuse any other manifest (`CAFS_XFER_MANIFEST_MISMATCH`): SHA-256 of its CAFS encoding. */
  expectedManifestKey?: Key
  /** Leave every chunk of the manifest pinned after success (the caller unpins later). */
  keepPinned?: boolean
  /** Called after each stored chunk. */
  onProgress?: (progress: XferProgress) => void
}

/** Outcome of a successful {@link receiveFile}. */
export interface ReceiveResult extends XferProgress {
  /** The verified manifest (its file key matched the assembled chunks). */
  readonly manifest: Manifest
  /** Bytes read from the stream (frames included). */
  readonly wireBytesRead: number
}

/**
 * Receiver side of a push transfer (XFER-7 … XFER-14): reads the OFFER, asks for the chunks
 * its store lacks, verifies each arriving chunk against its key before storing it, checks the
 * file key over all chunks in order, and answers ACK. Chunks already in the store never travel,
 * so a retry after an interruption resumes where the last attempt stopped.
 *
 * On failure it sends ERROR (when the stream still works), tears the stream down, unpins, and
 * — when the code proves misbehaviour — deletes the chunks this session stored, leaving the
 * store as it was. The stream is left open on success (the caller closes it).
 */
export async function receiveFile(
  stream: ByteStream,
  store: ChunkStore,
  options: ReceiveOptions = {}
): Promise<ReceiveResult> {
  const limits = resolveLimits(options.limits)
  const { signal } = options
  const session = new Session(stream, limits, signal)
  const pinned: Key[] = []
  const added: Key[] = []
  let progress: XferProgress = { chunksWanted: 0, bytesWanted: 0, chunksReceived: 0, bytesReceived: 0 }
  try {
    const manifest = await readOffer(session, limits, options)
    session.chunkCount = manifest.chunks.length
    const wanted = await planWishlist(manifest, store, pinned, options)
    let bytesWanted = 0
    for (const i of wanted) bytesWanted += manifest.chunks[i]?.size ?? 0
    progress = { ...progress, chunksWanted: wanted.length, bytesWanted }
    await session.send(encodeWant(rangesFromIndices(wanted)))

    const hasher = new FileHasher()
    let hashed = 0
    // Feeds the file hash up to and including index `upTo`; stored chunks come from the store.
    const hashThrough = async (upTo: number, current?: Uint8Array): Promise<void> => {
      for (; hashed <= upTo; hashed++) {
        if (hashed === upTo && current !== undefined) hasher.update(current)
        else hasher.update(await storedChunk(store, manifest, hashed, options))
      }
    }

    let pos = 0
    for (;;) {
      const msg = await session.expect()
      if (msg.type === 'done') break
      if (msg.type !== 'chunks') throw xferError(XferCode.UNEXPECTED_MESSAGE, `unexpected ${msg.type}`)
      for (const rec of msg.records) {
        const want = wanted[pos]
        if (want === undefined || rec.index !== want)
          throw xferError(XferCode.UNSOLICITED_CHUNK, 'chunk not asked for (or out of order)', {
            index: rec.index,
            expected: want
          })
        const ref = manifest.chunks[want]!
        await putChunk(store, checkChunk(ref.key, ref.size, rec.bytes, want, rec.owned), { signal })
        added.push(ref.key)
        pos++
        await hashThrough(want, rec.bytes)
        progress = {
          ...progress,
          chunksReceived: progress.chunksReceived + 1,
          bytesReceived: progress.bytesReceived + rec.bytes.length
        }
        options.onProgress?.(progress)
      }
    }
    if (pos !== wanted.length)
      throw xferError(XferCode.INCOMPLETE, 'DONE before every wanted chunk arrived', {
        received: pos,
        wanted: wanted.length
      })
    await hashThrough(manifest.chunks.length - 1)
    const fileKey = hasher.digest()
    if (!keysEqual(fileKey, manifest.fileKey))
      throw xferError(XferCode.FILE_KEY_MISMATCH, 'chunks do not assemble to the file key', {
        fileKey: keyToHex(manifest.fileKey)
      })
    await session.send(encodeAck(fileKey))
    if (options.keepPinned !== true) await unpinAll(store, pinned)
    return { ...progress, manifest, wireBytesRead: session.reader.bytesRead }
  } catch (err) {
    const e = await session.fail(err)
    await unpinAll(store, pinned)
    if (isBitwrkError(e) && MISBEHAVIOUR_CODES.has(e.code)) await deleteAll(store, added)
    throw e
  }
}

/** Reads the OFFER; an oversized frame is reported as an oversized manifest. */
async function readOffer(
  session: Session,
  limits: TransferLimits,
  options: ReceiveOptions
): Promise<Manifest> {
  let msg: Awaited<ReturnType<Session['expect']>>
  try {
    msg = await session.expect({ maxLength: limits.maxManifestBytes })
  } catch (err) {
    if (isBitwrkError(err, XferCode.FRAME_TOO_LARGE))
      throw xferError(XferCode.MANIFEST_TOO_LARGE, 'OFFER exceeds maxManifestBytes', {
        maxManifestBytes: limits.maxManifestBytes
      })
    throw err
  }
  if (msg.type !== 'offer') throw xferError(XferCode.UNEXPECTED_MESSAGE, `expected OFFER, got ${msg.type}`)
  const { expectedFileKey, expectedManifestKey } = options
  if (expectedFileKey !== undefined && !keysEqual(msg.manifest.fileKey, expectedFileKey))
    throw xferError(XferCode.MANIFEST_MISMATCH, 'offer is for another file', {
      fileKey: keyToHex(msg.manifest.fileKey)
    })
  if (expectedManifestKey !== undefined && !keysEqual(msg.manifestKey, expectedManifestKey))
    throw xferError(XferCode.MANIFEST_MISMATCH, 'offer is another manifest', {
      manifestKey: keyToHex(msg.manifestKey)
    })
  return msg.manifest
}

/**
 * Pins each distinct key (so nothing needed is evicted mid-transfer) and returns the indices
 * to ask for: the first occurrence of every key the store lacks (XFER-8).
 */
export async function planWishlist(
  manifest: Manifest,
  store: ChunkStore,
  pinned: Key[],
  options: AbortOptions
): Promise<number[]> {
  const seen = new Set<string>()
  const wanted: number[] = []
  for (let i = 0; i < manifest.chunks.length; i++) {
    const ref = manifest.chunks[i]!
    const hex = keyToHex(ref.key)
    if (seen.has(hex)) continue
    seen.add(hex)
    await store.pin(ref.key)
    pinned.push(ref.key)
    if (!(await store.has(ref.key, options))) wanted.push(i)
  }
  return wanted
}

/**
 * Checks one chunk before it may be stored (XFER-10): its length is the manifest's
 * (`CAFS_XFER_CHUNK_SIZE_MISMATCH`) and its SHA-256 is its key (`CAFS_HASH_MISMATCH`). The
 * token it returns lets the store skip a second hash of the same bytes.
 */
export function checkChunk(
  key: Key,
  size: number,
  bytes: Uint8Array,
  index: number,
  owned = false
): VerifiedChunk {
  if (bytes.length !== size)
    throw xferError(XferCode.CHUNK_SIZE_MISMATCH, 'chunk length differs from the manifest', {
      index,
      length: bytes.length,
      size
    })
  const chunk = VerifiedChunk.check(key, bytes, owned)
  if (chunk === undefined)
    throw xferError(XferCode.HASH_MISMATCH, 'chunk does not hash to its key', { index, key: keyToHex(key) })
  return chunk
}

/** A chunk the store must hold (it was there at wishlist time and is pinned), for reading only. */
export async function storedChunk(
  store: ChunkStore,
  manifest: Manifest,
  index: number,
  options: AbortOptions
): Promise<Uint8Array> {
  const ref = manifest.chunks[index]!
  // Only hashed (or copied out by a hash pool): the store's own bytes will do.
  const bytes = await (store.getShared ? store.getShared(ref.key, options) : store.get(ref.key, options))
  if (bytes === undefined)
    throw xferError(XferCode.MISSING_CHUNK, 'a stored chunk vanished', { index, key: keyToHex(ref.key) })
  return bytes
}

/** Unpins every key (best effort; unpin of a closed store must not mask the real error). */
export async function unpinAll(store: ChunkStore, keys: readonly Key[]): Promise<void> {
  for (const k of keys) {
    try {
      await store.unpin(k)
    } catch {
      // The store is closing; its pins go with it.
    }
  }
}

/** Deletes the chunks a failed session stored, restoring the store. */
export async function deleteAll(store: ChunkStore, keys: readonly Key[]): Promise<void> {
  for (const k of keys) {
    try {
      await store.delete(k)
    } catch {
      // Best effort: a store that cannot delete now keeps a verified, unpinned (evictable) chunk.
    }
  }
}
