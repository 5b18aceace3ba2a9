import { type AssetRef, verifyAsset } from './asset.js'
import { DemoCode, fail } from './errors.js'

/**
 * How a demo worker gets a work item's asset (RAYS-11): from its own node's API, which serves
 * the file if it holds it and otherwise fetches it from the network's providers first
 * (`GET /file/<key>`, protocol/spec/local-api.md). The read is bounded by the size the work
 * names; the bytes are checked against the work's key before they are used.
 */

/** Where the worker's node API is: from the environment `bitwrk-node worker` gives its command (WRK-12). */
export interface NodeApi {
  /** Base URL, e.g. `http://127.0.0.1:8081`. */
  readonly url: string
  /** Bearer token, when the node requires one. */
  readonly token?: string
}

/** Environment variable with the node API's base URL, set by `bitwrk-node worker` for its command. */
export const NODE_API_ENV = 'BITWRK_NODE_API'
/** Environment variable with the node API's token, set when the worker has one. */
export const NODE_TOKEN_ENV = 'BITWRK_NODE_TOKEN'

/**
 * Deadline of one asset fetch (RAYS-11): 120 s, the time a 256 MiB asset (the limit) takes at
 * about 2 MiB/s, far within the seller's phase deadline (+5 min, TX rules).
 */
export const ASSET_FETCH_TIMEOUT_MS = 120_000

/** The node API named by `env` ({@link NODE_API_ENV}, {@link NODE_TOKEN_ENV}), or undefined. */
export function nodeApiFromEnv(env: NodeJS.ProcessEnv): NodeApi | undefined {
  const url = env[NODE_API_ENV]
  if (url === undefined || url === '') return undefined
  const token = env[NODE_TOKEN_ENV]
  return token === undefined || token === '' ? { url } : { url, token }
}

/** A node's error code worth repeating: upper-case letters, digits, underscores (never peer text). */
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/

/**
 * Fetches the asset `ref` from the node API `api` (`GET <url>/file/<key>`), reading at most
 * `ref.size + 1` bytes, and verifies it (size, then SHA-256).
 * @throws BitwrkError `DEMO_ASSET_UNAVAILABLE` (no API, refused, unreachable, deadline),
 *   `DEMO_ASSET_WRONG_SIZE` (the `content-length` or the body differ from `ref.size`),
 *   `DEMO_ASSET_WRONG_HASH`.
 */
export async function fetchAsset(
  ref: AssetRef,
  api: NodeApi | undefined,
  options: { signal?: AbortSignal; timeoutMs?: number } = {}
): Promise<Uint8Array> {
  if (api === undefined) return fail(DemoCode.assetUnavailable, `no node API (${NODE_API_ENV} is not set)`)
  const timeout = AbortSignal.timeout(options.timeoutMs ?? ASSET_FETCH_TIMEOUT_MS)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])
  const headers: Record<string, string> = {}
  if (api.token !== undefined) headers['authorization'] = `Bearer ${api.token}`
  const url = `${api.url.replace(/\/+$/, '')}/file/${ref.key}`
  let res: Response
  try {
    res = await fetch(url, { headers, signal, redirect: 'error' })
  } catch (err) {
    return fail(DemoCode.assetUnavailable, `cannot reach the node API: ${(err as Error).message}`)
  }
  if (res.status !== 200) {
    let code = ''
    try {
      const body = JSON.parse((await res.text()).slice(0, 4096)) as { code?: unknown }
      if (typeof body.code === 'string' && CODE.test(body.code)) code = ` ${body.code}`
    } catch {
      // not JSON: the status says enough
    }
    return fail(DemoCode.assetUnavailable, `the node answered ${res.status}${code} for the asset`)
  }
  const length = res.headers.get('content-length')
  if (length !== null && Number(length) !== ref.size) {
    await res.body?.cancel().catch(() => {})
    return fail(DemoCode.assetWrongSize, `the node serves ${length} bytes, the work says ${ref.size}`)
  }
  return verifyAsset(ref, await readBounded(res, ref.size, signal))
}

/**
 * The body of `res`, read into one buffer of `size` bytes; a body longer than `size` stops
 * the read at the first byte beyond it (`DEMO_ASSET_WRONG_SIZE`), so a node (or anything
 * answering in its place) cannot make the worker buffer more than the work named.
 */
async function readBounded(res: Response, size: number, signal: AbortSignal): Promise<Uint8Array> {
  const out = new Uint8Array(size)
  let at = 0
  const reader = res.body?.getReader()
  if (reader === undefined) return out.subarray(0, 0)
  try {
    for (;;) {
      let part: ReadableStreamReadResult<Uint8Array>
      try {
        part = await reader.read()
      } catch (err) {
        return fail(
          DemoCode.assetUnavailable,
          signal.aborted ? 'asset fetch deadline passed' : `asset read failed: ${(err as Error).message}`
        )
      }
      if (part.done) return out.subarray(0, at)
      if (at + part.value.length > size)
        fail(DemoCode.assetWrongSize, `the node serves more than the ${size} bytes the work says`)
      out.set(part.value, at)
      at += part.value.length
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}
