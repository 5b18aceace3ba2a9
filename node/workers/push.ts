/**
 * One job to one worker over the original's push protocol (original §8.4, WRK-4): `POST
 * <pushurl>` (a normalised `http:` URL, WRK-8) with `Content-Type: application/octet-stream`
 * and the raw work as body; a 200 answer's body is the result, streamed into a chunk store.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { importStream } from '../../cafs/stream.js'
import type { ChunkStore, Manifest } from '../../cafs/types.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { WorkerErrorCode, workerError } from './errors.js'

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
}

/** Outcome of a push: the result manifest, or a failure code with the HTTP status if any. */
export type PushOutcome =
  | { readonly ok: true; readonly manifest: Manifest }
  | { readonly ok: false; readonly code: WorkerErrorCode; readonly status?: number; readonly message: string }

/** Most bytes of a failed worker's answer kept for the error message (the original kept 1024, §5.4). */
const ERROR_BODY_BYTES = 1024

async function* limited(res: IncomingMessage, max: number): AsyncGenerator<Uint8Array> {
  let n = 0
  for await (const chunk of res as AsyncIterable<Buffer>) {
    n += chunk.length
    if (n > max) throw workerError(WorkerErrorCode.RESULT_TOO_LARGE, `result larger than ${max} bytes`)
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
  try {
    res = await new Promise<IncomingMessage>((resolve, reject) => {
      // Only http: URLs are registered (WRK-8); node:http refuses any other scheme. It also
      // never follows a redirect: a 3xx is a failure (WRK-4), so a worker cannot bounce the
      // work to another host or port.
      const req = httpRequest(pushUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        signal
      })
      req.on('response', resolve)
      req.on('error', reject)
      body.on('error', (err) => req.destroy(err))
      body.pipe(req)
    })
  } catch (err) {
    return failure(err, deadline, options.signal)
  }
  try {
    if (res.statusCode !== 200) {
      const text = await errorText(res)
      return {
        ok: false,
        code: WorkerErrorCode.FAILED,
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
  if (cancel?.aborted === true)
    return { ok: false, code: WorkerErrorCode.CANCELLED, message: 'job cancelled' }
  if (isBitwrkError(err, WorkerErrorCode.RESULT_TOO_LARGE))
    return { ok: false, code: WorkerErrorCode.RESULT_TOO_LARGE, message: err.message }
  if (deadline.aborted)
    return { ok: false, code: WorkerErrorCode.TIMEOUT, message: 'worker did not answer in time' }
  if (isBitwrkError(err))
    return { ok: false, code: WorkerErrorCode.FAILED, message: `${err.code}: ${err.message}` }
  const why = err instanceof Error ? err.message : String(err)
  return { ok: false, code: WorkerErrorCode.UNREACHABLE, message: `worker unreachable: ${why}` }
}
