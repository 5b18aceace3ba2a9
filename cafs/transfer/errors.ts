import { BitwrkError, errorBuilder, errorGuard } from '../../protocol/errors.js'

/**
 * Error codes of the CAFS transfer protocol (protocol/spec/cafs-transfer.md, "Error codes").
 * Each failure of a session carries exactly one of these; tests and metrics use the code.
 */
export const XferCode = {
  /** A chunk's SHA-256 is not its key (same code as the stores use). */
  HASH_MISMATCH: 'CAFS_HASH_MISMATCH',
  /** A length prefix announced more bytes than this read allows. */
  FRAME_TOO_LARGE: 'CAFS_XFER_FRAME_TOO_LARGE',
  /** A varint is longer than 7 bytes or not minimally encoded. */
  BAD_VARINT: 'CAFS_XFER_BAD_VARINT',
  /** The stream ended in the middle of a frame. */
  TRUNCATED: 'CAFS_XFER_TRUNCATED',
  /** The stream ended (or failed) between frames while a message was expected. */
  CLOSED: 'CAFS_XFER_CLOSED',
  /** No message arrived, or a write did not drain, within the per-message timeout. */
  TIMEOUT: 'CAFS_XFER_TIMEOUT',
  /** The caller's AbortSignal fired. */
  ABORTED: 'CAFS_XFER_ABORTED',
  /** A message body does not decode (short payload, trailing bytes, bad field). */
  BAD_MESSAGE: 'CAFS_XFER_BAD_MESSAGE',
  /** The message type byte is not one this protocol defines (or the body is empty). */
  UNKNOWN_MESSAGE: 'CAFS_XFER_UNKNOWN_MESSAGE',
  /** A known message type arrived where the protocol does not allow it. */
  UNEXPECTED_MESSAGE: 'CAFS_XFER_UNEXPECTED_MESSAGE',
  /** The offered manifest is inconsistent (sizes do not add up, a chunk is too large …). */
  BAD_MANIFEST: 'CAFS_XFER_BAD_MANIFEST',
  /** The offered manifest exceeds the byte or chunk-count limit. */
  MANIFEST_TOO_LARGE: 'CAFS_XFER_MANIFEST_TOO_LARGE',
  /** The offered manifest is not the one the receiver expected (file key differs). */
  MANIFEST_MISMATCH: 'CAFS_XFER_MANIFEST_MISMATCH',
  /** A wishlist is malformed (zero-length or non-canonical range). */
  BAD_WISHLIST: 'CAFS_XFER_BAD_WISHLIST',
  /** A wishlist names a chunk index outside the manifest. */
  WISHLIST_OUT_OF_RANGE: 'CAFS_XFER_WISHLIST_OUT_OF_RANGE',
  /** A chunk record is longer than the maximum chunk size. */
  CHUNK_TOO_LARGE: 'CAFS_XFER_CHUNK_TOO_LARGE',
  /** A chunk record's length differs from the size the manifest lists. */
  CHUNK_SIZE_MISMATCH: 'CAFS_XFER_CHUNK_SIZE_MISMATCH',
  /** A chunk record carries an index that is not the next one asked for. */
  UNSOLICITED_CHUNK: 'CAFS_XFER_UNSOLICITED_CHUNK',
  /** DONE arrived before every wanted chunk did. */
  INCOMPLETE: 'CAFS_XFER_INCOMPLETE',
  /** The assembled chunks do not hash to the manifest's file key. */
  FILE_KEY_MISMATCH: 'CAFS_XFER_FILE_KEY_MISMATCH',
  /** The sender's own store lacks (or holds a corrupt copy of) a chunk it offered. */
  MISSING_CHUNK: 'CAFS_XFER_MISSING_CHUNK',
  /** A request asks for more keys than the limit. */
  REQUEST_TOO_LARGE: 'CAFS_XFER_REQUEST_TOO_LARGE',
  /** The peer sent an ERROR message; `details.remoteCode` holds its (sanitised) code. */
  PEER_ERROR: 'CAFS_XFER_PEER_ERROR',
  /** A multi-source fetch ran out of providers for some chunk. */
  UNAVAILABLE: 'CAFS_XFER_UNAVAILABLE',
  /**
   * The peer sent more bytes than the current step of the protocol allows to be buffered
   * unread (XFER-23): the excess was dropped and the stream is cut.
   */
  OVERRUN: 'CAFS_XFER_OVERRUN'
} as const

/** Union of the transfer error codes. */
export type XferErrorCode = (typeof XferCode)[keyof typeof XferCode]

/** Any code a transfer error may carry (transfer codes, or a store's own code). */
export type ErrorCode = string

/** The details of the transfer codes whose details are read (issue 13); others carry any. */
export type XferDetails = {
  /** The peer's ERROR code; absent when its ERROR answer did not decode. */
  [XferCode.PEER_ERROR]: { remoteCode?: string }
}

/** Creates the {@link BitwrkError} for a transfer failure. */
export const xferError = errorBuilder<XferErrorCode, XferDetails>()

/** True when `err` is the transfer error `code`; narrows its details ({@link XferDetails}). */
export const isXferError = errorGuard<XferErrorCode, XferDetails>()

/**
 * Codes that prove the peer misbehaved (or sent content that does not add up). A receiver that
 * fails with one of these deletes the chunks it stored during the session; any other failure
 * (closed, timeout, abort …) may be innocent, so the chunks stay and a retry resumes (XFER-14).
 */
export const MISBEHAVIOUR_CODES: ReadonlySet<string> = new Set<string>([
  XferCode.HASH_MISMATCH,
  XferCode.FRAME_TOO_LARGE,
  XferCode.BAD_VARINT,
  XferCode.BAD_MESSAGE,
  XferCode.UNKNOWN_MESSAGE,
  XferCode.UNEXPECTED_MESSAGE,
  XferCode.BAD_MANIFEST,
  XferCode.MANIFEST_TOO_LARGE,
  XferCode.MANIFEST_MISMATCH,
  XferCode.BAD_WISHLIST,
  XferCode.WISHLIST_OUT_OF_RANGE,
  XferCode.CHUNK_TOO_LARGE,
  XferCode.CHUNK_SIZE_MISMATCH,
  XferCode.UNSOLICITED_CHUNK,
  XferCode.INCOMPLETE,
  XferCode.FILE_KEY_MISMATCH,
  XferCode.REQUEST_TOO_LARGE,
  XferCode.OVERRUN
])
