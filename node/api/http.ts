/** Small HTTP helpers of the API: JSON answers, error bodies, bounded body reads, forms. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { validateArticle } from '../../protocol/article/index.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { isNodeTradeError, NodeTradeCode } from '../market/buy.js'
import { ApiCode, ApiError, type ApiErrorCode } from './errors.js'

/** Writes `value` as JSON with `status` (bigints as decimal strings). */
export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store'
  })
  res.end(body)
}

/** Writes plain text. */
export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text)
  })
  res.end(text)
}

/**
 * Error body `{code, message, detail?, attempts?}` (API-4); messages are one line, at most 300
 * characters; `attempts` lists a failed buy's attempts (API-7).
 */
export function errorBody(err: ApiError): {
  code: string
  message: string
  detail?: string
  attempts?: readonly unknown[]
} {
  const message = err.message.replace(/[\r\n]+/g, ' ').slice(0, 300)
  const { detail, attempts } = err.details
  return {
    code: err.code,
    message,
    ...(detail !== undefined ? { detail } : {}),
    ...(attempts !== undefined ? { attempts } : {})
  }
}

/** Maps any thrown value to an ApiError: BitwrkErrors keep their code as detail, others are internal. */
export function toApiError(err: unknown, fallback: ApiErrorCode = ApiCode.BAD_REQUEST): ApiError {
  if (err instanceof ApiError) return err
  if (isBitwrkError(err)) {
    // a failed buy's every attempt (NODETRADE_BUY_FAILED `failures`, issue 12.5)
    const failures = isNodeTradeError(err, NodeTradeCode.BUY_FAILED) ? err.details.failures : undefined
    return new ApiError(fallback, err.message, err.code, failures)
  }
  return new ApiError(ApiCode.INTERNAL, 'internal error')
}

/** Reads a whole small body; throws `API_TOO_LARGE` beyond `max` bytes. */
export async function readSmallBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0')
  if (Number.isFinite(declared) && declared > max)
    throw new ApiError(ApiCode.TOO_LARGE, `body larger than ${max} bytes`)
  const parts: Buffer[] = []
  let n = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length
    if (n > max) throw new ApiError(ApiCode.TOO_LARGE, `body larger than ${max} bytes`)
    parts.push(chunk)
  }
  return Buffer.concat(parts)
}

/** Yields `source` and throws `API_TOO_LARGE` once more than `max` bytes went through. */
export async function* bounded(source: AsyncIterable<Uint8Array>, max: number): AsyncGenerator<Uint8Array> {
  let n = 0
  for await (const chunk of source) {
    n += chunk.length
    if (n > max) throw new ApiError(ApiCode.TOO_LARGE, `body larger than ${max} bytes`)
    yield chunk
  }
}

/** The media type of a request, lower case without parameters. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? ''
}

/**
 * Form fields of a request (original `FormValue`): the query string, plus an
 * `application/x-www-form-urlencoded` body of at most `max` bytes. A field given twice, or a
 * body of another type, is `API_BAD_REQUEST` / `API_UNSUPPORTED_MEDIA_TYPE`.
 */
export async function readForm(
  req: IncomingMessage,
  query: URLSearchParams,
  max: number
): Promise<Map<string, string>> {
  const fields = new Map<string, string>()
  const add = (params: URLSearchParams): void => {
    for (const [k, v] of params) {
      if (fields.has(k)) throw new ApiError(ApiCode.BAD_REQUEST, `field '${k.slice(0, 40)}' given twice`)
      fields.set(k, v)
    }
  }
  add(query)
  const body = await readSmallBody(req, max)
  if (body.length > 0) {
    if (mediaType(req) !== 'application/x-www-form-urlencoded')
      throw new ApiError(
        ApiCode.UNSUPPORTED_MEDIA_TYPE,
        'form body must be application/x-www-form-urlencoded'
      )
    add(new URLSearchParams(body.toString('utf8')))
  }
  return fields
}

/** `name` when it is a valid article (ART rules), else `API_BAD_REQUEST` with the article code as detail. */
export function checkArticle(name: string): string {
  const check = validateArticle(name)
  if (check.result !== 'accept') throw new ApiError(ApiCode.BAD_REQUEST, 'invalid article', check.code)
  return name
}
