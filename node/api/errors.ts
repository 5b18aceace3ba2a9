import { BitwrkError } from '../../protocol/errors.js'

/**
 * Error codes of the local HTTP API (protocol/spec/local-api.md API-4). Every 4xx/5xx answer is
 * `{"code": <one of these>, "message": <text>, "detail"?: <the module's code>}`.
 */
export const ApiCode = {
  /** 404: no such route, file, mandate or worker. */
  NOT_FOUND: 'API_NOT_FOUND',
  /** 405: the route exists but not for this method. */
  METHOD_NOT_ALLOWED: 'API_METHOD_NOT_ALLOWED',
  /** 400: a malformed parameter, field or body; `detail` names the module code if any. */
  BAD_REQUEST: 'API_BAD_REQUEST',
  /** 403: no mandate permits this buy (`detail`: MANDATE_NOT_FOUND / _EXPIRED / _PRICE_LIMIT). */
  NO_MANDATE: 'API_NO_MANDATE',
  /** 403: loopback-only route from another address, foreign Origin/Host, or a push URL not allowed. */
  FORBIDDEN: 'API_FORBIDDEN',
  /** 401: the token is required and missing or wrong. */
  UNAUTHORIZED: 'API_UNAUTHORIZED',
  /** 413: the body exceeds the configured limit. */
  TOO_LARGE: 'API_TOO_LARGE',
  /** 415: a JSON route got another content type. */
  UNSUPPORTED_MEDIA_TYPE: 'API_UNSUPPORTED_MEDIA_TYPE',
  /** 409: the state forbids it (too many mandates or workers). */
  CONFLICT: 'API_CONFLICT',
  /** 500: the node could not complete the buy (`detail`: the failure's code). */
  BUY_FAILED: 'API_BUY_FAILED',
  /** 504: no seller was found for the buy (its bids expired unmatched, or its `?timeout=` passed; API-21). */
  NO_SELLER: 'API_NO_SELLER',
  /** 503: the server is stopping. */
  UNAVAILABLE: 'API_UNAVAILABLE',
  /** 502: a gateway fetch found providers but failed (`detail`: the failure's code; API-24). */
  FETCH_FAILED: 'API_FETCH_FAILED',
  /** 503: every gateway slot is taken (`detail` `CONTENT_GATEWAY_BUSY`; API-24): try again later. */
  BUSY: 'API_BUSY',
  /** 500: a bug; the message is generic. */
  INTERNAL: 'API_INTERNAL'
} as const

/** Detail codes of the API's own refusals of a parameter (API-4, `detail`). */
export const ApiDetailCode = {
  /** `?timeout=` of `/buy` is not an integer number of seconds from 1 to 86,400 (API-21). */
  BAD_TIMEOUT: 'API_BAD_TIMEOUT',
  /** `?ref=` of `/buy` is not 1–64 characters of `A-Z a-z 0-9 . _ -` (API-21). */
  BAD_REF: 'API_BAD_REF',
  /**
   * A `GET /file/<key>` of a file not held here would fetch it from the network, and the request
   * does not meet what a state-changing request must (API-24): a guard of API-2 (a cross-site
   * navigation) or the token of API-3 refused it.
   */
  GATEWAY_REFUSED: 'API_GATEWAY_REFUSED',
  /** `?local=` of `GET /file` is not `1` (API-24). */
  BAD_LOCAL: 'API_BAD_LOCAL'
} as const

/** One of the {@link ApiCode} values. */
export type ApiErrorCode = (typeof ApiCode)[keyof typeof ApiCode]

/** HTTP status of each code. */
export const API_STATUS: Readonly<Record<ApiErrorCode, number>> = {
  API_NOT_FOUND: 404,
  API_METHOD_NOT_ALLOWED: 405,
  API_BAD_REQUEST: 400,
  API_NO_MANDATE: 403,
  API_FORBIDDEN: 403,
  API_UNAUTHORIZED: 401,
  API_TOO_LARGE: 413,
  API_UNSUPPORTED_MEDIA_TYPE: 415,
  API_CONFLICT: 409,
  API_BUY_FAILED: 500,
  API_NO_SELLER: 504,
  API_UNAVAILABLE: 503,
  API_FETCH_FAILED: 502,
  API_BUSY: 503,
  API_INTERNAL: 500
}

/** The details of every {@link ApiError} (API-4, API-7; issue 13). */
export type ApiErrorDetails = {
  /** The code of the module that refused. */
  detail?: string
  /** A failed buy's attempts. */
  attempts?: readonly unknown[]
}

/**
 * An API failure: code, message, optional detail code of the module that refused and, for a
 * failed buy, every attempt's reason (API-4, API-7).
 */
export class ApiError extends BitwrkError<ApiErrorCode, ApiErrorDetails> {
  /** The HTTP status. */
  readonly status: number
  constructor(code: ApiErrorCode, message: string, detail?: string, attempts?: readonly unknown[]) {
    super(code, message, {
      ...(detail === undefined ? {} : { detail }),
      ...(attempts === undefined ? {} : { attempts })
    })
    this.status = API_STATUS[code]
  }
}
