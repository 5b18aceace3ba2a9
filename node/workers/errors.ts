import { errorBuilder } from '../../protocol/errors.js'

/** Error codes of `node/workers` (protocol/spec/local-api.md, WRK-*). */
export const WorkerCode = {
  /** A registration with a bad id, article or push URL. Nothing is registered. */
  INVALID: 'WORKER_INVALID',
  /** The push URL's (host, port) is not one the operator allows (WRK-2, WRK-9). */
  URL_FORBIDDEN: 'WORKER_URL_FORBIDDEN',
  /** No registered worker has this id. */
  UNKNOWN: 'WORKER_UNKNOWN',
  /** The worker has a job already, awaits its re-registration, or is blocked after an error (WRK-5). */
  BUSY: 'WORKER_BUSY',
  /** The worker answered with a status other than 200 (WRK-4). */
  FAILED: 'WORKER_FAILED',
  /**
   * The worker answered before the whole work was sent to it (WRK-10), e.g. it read a
   * `Content-Length` the chunked push does not send: its answer is not taken as a result.
   */
  BODY_UNREAD: 'WORKER_BODY_UNREAD',
  /** The push URL could not be reached or the connection broke. */
  UNREACHABLE: 'WORKER_UNREACHABLE',
  /** The worker did not answer within the dispatch deadline. */
  TIMEOUT: 'WORKER_TIMEOUT',
  /** The caller cancelled the job (the trade ended); the connection was closed. */
  CANCELLED: 'WORKER_CANCELLED',
  /** The result is larger than the configured limit. */
  RESULT_TOO_LARGE: 'WORKER_RESULT_TOO_LARGE',
  /** More than the configured number of workers would be registered. */
  TOO_MANY: 'WORKER_TOO_MANY',
  /** A `--worker-allow` entry does not parse (WRK-9): the node does not start. */
  ALLOW_INVALID: 'WORKER_ALLOW_INVALID'
} as const

/** One of the {@link WorkerCode} values. */
export type WorkerErrorCode = (typeof WorkerCode)[keyof typeof WorkerCode]

/** Builds a worker BitwrkError. */
export const workerError = errorBuilder<WorkerErrorCode>()
