/**
 * One job to one worker over the original's push protocol (original §8.4, WRK-4): `POST
 * <pushurl>` (a normalised `http:` URL, WRK-8) with `Content-Type: application/octet-stream`
 * and the raw work as a chunked body (no `Content-Length`, as the original sent it); a 200
 * answer's body is the result, streamed into a chunk store. The request asks for `100
 * Continue` first (WRK-10), so a worker that answers without reading the work is caught before
 * its answer is taken for a result.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { importStream } from '../../cafs/stream.js'
import type { ChunkStore, Manifest } from '../../cafs/types.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { WorkerCode, type WorkerErrorCode, workerError } from './errors.js'

/** Options of {@link pushWork}. */
export interface PushOptions {
  /** Where the result goes. */
  readonly store: ChunkStore
  /** Whole-job deadline, ms. */
  readonly timeoutMs: number
  /** Largest result accepted, bytes. */
  readonly maxResultBytes: number
  /** Cancels the job (the connection is closed, as the original's watchdog did). */
  readonly signal?: AbortSignal
  /**
   * How long to wait for the worker's `100 Continue` before the work is sent anyway, ms
   * (WRK-10); default {@link EXPECT_CONTINUE_MS}.
   */
  readonly expectContinueMs?: number
}

/** Outcome of a push: the result manifest, or a failure code with the HTTP status if any. */
export type PushOutcome =
  | { readonly ok: true; readonly manifest: Manifest }
  | { readonly ok: false; readonly code: WorkerErrorCode; readonly status?: number; readonly message: string }

/** Most bytes of a failed worker's answer kept for the error message (the original kept 1024, §5.4). */
const ERROR_BODY_BYTES = 1024

/**
 * How long a push waits for `100 Continue` before it sends the work anyway (WRK-10): 1 s,
 * curl's default `--expect100-timeout`. Workers that do not implement it (HTTP/1.0 servers
 * such as Python's `http.server` by default) get the work after this delay.
 */
export const EXPECT_CONTINUE_MS = 1000

/** WRK-10: what a worker that answered before it had the whole work is told to do. */
const UNREAD_HINT =
  'the work is sent chunked (Transfer-Encoding: chunked, no Content-Length, WRK-4): read the body to its end before answering'

async function* limited(res: IncomingMessage, max: number): AsyncGenerator<Uint8Array> {
  let n = 0
  for await (const chunk of res as AsyncIterable<Buffer>) {
    n += chunk.length
    if (n > max) throw workerError(WorkerCode.RESULT_TOO_LARGE, `result larger than ${max} bytes`)
    yield chunk
  }
}

async function errorText(res: IncomingMessage): Promise<string> {
  let text = ''
  for await (const chunk of res as AsyncIterable<Buffer>) {
    if (text.length < ERROR_BODY_BYTES) text += chunk.toString('utf8')
  }
  return text.slice(0, ERROR_BODY_BYTES).replace(/[^\x20-\x7e]+/g, ' ')
}

/** POSTs `work` to `pushUrl` and imports a 200 answer into `options.store`. Never throws for worker faults. */
export async function pushWork(
  pushUrl: string,
  work: Uint8Array | AsyncIterable<Uint8Array>,
  options: PushOptions
): Promise<PushOutcome> {
  const deadline = AbortSignal.timeout(options.timeoutMs)
  const signal = options.signal === undefined ? deadline : AbortSignal.any([deadline, options.signal])
  const body = work instanceof Uint8Array ? Readable.from([work]) : Readable.from(work)
  let res: IncomingMessage
  // every byte of the work handed to the connection, the chunked body's end included (WRK-10)
  let sent = false
  try {
    res = await new Promise<IncomingMessage>((resolve, reject) => {
      // Only http: URLs are registered (WRK-8); node:http refuses any other scheme. It also
      // never follows a redirect: a 3xx is a failure (WRK-4), so a worker cannot bounce the
      // work to another host or port.
      const req = httpRequest(pushUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', expect: '100-continue' },
        signal
      })
      let started = false
      const send = (): void => {
        if (started) return
        started = true
        clearTimeout(fallback)
        body.once('end', () => {
          sent = true
        })
        body.pipe(req)
      }
      // WRK-10: the work goes on `100 Continue`, or after the wait for workers without it.
      const fallback = setTimeout(send, options.expectContinueMs ?? EXPECT_CONTINUE_MS)
      req.on('continue', send)
      req.on('response', (r) => {
        clearTimeout(fallback)
        resolve(r)
      })
      req.on('error', (err) => {
        clearTimeout(fallback)
        reject(err)
      })
      body.on('error', (err) => req.destroy(err))
    })
  } catch (err) {
    return failure(err, deadline, options.signal)
  }
  if (!sent) {
    // The worker answered before it could have read the work (WRK-10): its answer cannot be
    // the result of this work. The connection is closed, so nothing more is sent or read.
    body.destroy()
    res.destroy()
    return {
      ok: false,
      code: WorkerCode.BODY_UNREAD,
      status: res.statusCode ?? 0,
      message: `worker answered ${res.statusCode} before it read the work: ${UNREAD_HINT}`
    }
  }
  try {
    if (res.statusCode !== 200) {
      const text = await errorText(res)
      return {
        ok: false,
        code: WorkerCode.FAILED,
        status: res.statusCode ?? 0,
        message: `worker returned status ${res.statusCode}: ${text}`
      }
    }
    const manifest = await importStream(limited(res, options.maxResultBytes), options.store, { signal })
    return { ok: true, manifest }
  } catch (err) {
    res.destroy()
    return failure(err, deadline, options.signal)
  }
}

function failure(err: unknown, deadline: AbortSignal, cancel: AbortSignal | undefined): PushOutcome {
  if (cancel?.aborted === true) return { ok: false, code: WorkerCode.CANCELLED, message: 'job cancelled' }
  if (isBitwrkError(err, WorkerCode.RESULT_TOO_LARGE))
    return { ok: false, code: WorkerCode.RESULT_TOO_LARGE, message: err.message }
  if (deadline.aborted)
    return { ok: false, code: WorkerCode.TIMEOUT, message: 'worker did not answer in time' }
  if (isBitwrkError(err))
    return { ok: false, code: WorkerCode.FAILED, message: `${err.code}: ${err.message}` }
  const why = err instanceof Error ? err.message : String(err)
  return { ok: false, code: WorkerCode.UNREACHABLE, message: `worker unreachable: ${why}` }
}
