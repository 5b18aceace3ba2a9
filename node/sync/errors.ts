import { BitwrkError, type DetailsArg, type DetailsOf, errorBuilder } from '../../protocol/errors.js'

/**
 * Error codes of bid sync (protocol/spec/sync.md, SYNC-12). Every failed session carries exactly
 * one; metrics label with it and {@link SyncPeerReport} passes it to the node.
 */
export const SyncCode = {
  /** A message body does not decode (unknown type, short or trailing bytes, bad field). */
  MALFORMED: 'SYNC_MALFORMED',
  /** A length prefix announced more bytes than the read allows, or a bad varint. */
  OVERSIZED: 'SYNC_OVERSIZED',
  /** A known message arrived where the protocol does not allow it. */
  UNEXPECTED: 'SYNC_UNEXPECTED',
  /** A response carries more bids or ids than asked for or than a limit allows. */
  TOO_MANY: 'SYNC_TOO_MANY',
  /** A bid that the bid validator rejects (bad signature, bad field, wrong article). */
  INVALID_BID: 'SYNC_INVALID_BID',
  /** A valid bid of another article than the session's (a reject of the synced bid). */
  WRONG_ARTICLE: 'SYNC_WRONG_ARTICLE',
  /** The book is full of live bids of this article (an ignore: a bound, nobody's fault). */
  BOOK_FULL: 'SYNC_BOOK_FULL',
  /** A bid (or id) outside the buckets or ids that were asked for. */
  UNSOLICITED: 'SYNC_UNSOLICITED',
  /**
   * An agreed snapshot could not be restored: a resting bid could not be fetched and validated
   * (it may have expired meanwhile) or the book refused it (`MATCH_BAD_SNAPSHOT`). Not blame.
   */
  BAD_SNAPSHOT: 'SYNC_BAD_SNAPSHOT',
  /** A request is malformed or out of range (responder side). */
  BAD_REQUEST: 'SYNC_BAD_REQUEST',
  /** The peer is over its request rate or its invalid-request budget (responder side). */
  RATE_LIMITED: 'SYNC_RATE_LIMITED',
  /**
   * The peer sent more bytes than the session's step allows unread (SYNC-14): a requester
   * pipelining requests, or anything but requests; the stream is cut.
   */
  OVERRUN: 'SYNC_OVERRUN',
  /**
   * The peer already holds its `perPeer` sync streams over all its connections, or all
   * `total` responder slots are taken (`details.scope`, SYNC-14): the stream was reset.
   */
  STREAM_LIMIT: 'SYNC_STREAM_LIMIT',
  /** The peer answered with an ERROR message; `details.remoteCode` holds its code. */
  PEER_ERROR: 'SYNC_PEER_ERROR',
  /** No message arrived, or a write did not drain, within the per-message timeout. */
  TIMEOUT: 'SYNC_TIMEOUT',
  /** The stream ended or failed (also: the stream ended inside a frame). */
  CLOSED: 'SYNC_CLOSED',
  /** The caller's AbortSignal fired or the sync deadline passed. */
  ABORTED: 'SYNC_ABORTED',
  /** The protocol could not be opened with the peer (not supported, dial failed). */
  UNREACHABLE: 'SYNC_UNREACHABLE',
  /** No connected peer to sync with. */
  NO_PEERS: 'SYNC_NO_PEERS',
  /** No two peers offered the same snapshot (SYNC-11); the node keeps its own matching view. */
  NO_AGREEMENT: 'SYNC_NO_AGREEMENT',
  /** The service is not running, or was stopped during the sync. */
  STOPPED: 'SYNC_STOPPED'
} as const

/** Union of the sync error codes. */
export type SyncErrorCode = (typeof SyncCode)[keyof typeof SyncCode]

/**
 * Codes that prove misbehaviour of the remote peer (it sent bytes no honest implementation
 * sends). Timeouts, closed streams, an ERROR answer or a stale digest prove nothing: networks
 * fail and books change while a session runs.
 */
export const SYNC_MISBEHAVIOUR_CODES: ReadonlySet<SyncErrorCode> = new Set<SyncErrorCode>([
  SyncCode.MALFORMED,
  SyncCode.OVERSIZED,
  SyncCode.UNEXPECTED,
  SyncCode.TOO_MANY,
  SyncCode.INVALID_BID,
  SyncCode.WRONG_ARTICLE,
  SyncCode.UNSOLICITED,
  SyncCode.BAD_REQUEST,
  SyncCode.OVERRUN
])

/** The details of the sync codes whose details are read (issue 13); others carry any. */
export type SyncDetails = {
  /** The code of the peer's ERROR answer. */
  [SyncCode.PEER_ERROR]: { remoteCode: string }
}

const buildSyncError = errorBuilder<SyncErrorCode, SyncDetails>()

/** Throws a {@link BitwrkError} with a sync code (details of the shape {@link SyncDetails} declares). */
export function syncError<K extends SyncErrorCode>(
  code: K,
  message: string,
  ...details: DetailsArg<SyncDetails, K>
): never {
  throw buildSyncError(code, message, ...details)
}

/**
 * True when `err` is a {@link BitwrkError} carrying one of the sync codes, or `code` when given
 * (its details then narrowed to the shape {@link SyncDetails} declares).
 */
export function isSyncError<K extends SyncErrorCode>(
  err: unknown,
  code: K
): err is BitwrkError<K, DetailsOf<SyncDetails, K>>
/** True when `err` is a {@link BitwrkError} carrying one of the sync codes. */
export function isSyncError(err: unknown): err is BitwrkError<SyncErrorCode>
export function isSyncError(err: unknown, code?: SyncErrorCode): boolean {
  if (!(err instanceof BitwrkError)) return false
  return code === undefined ? (Object.values(SyncCode) as string[]).includes(err.code) : err.code === code
}
