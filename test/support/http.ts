/**
 * A raw HTTP sender for tests that must control every byte of a request (issue 13): fuzzers of
 * the local API send hostile methods, paths, headers and bodies that `fetch` would refuse or
 * rewrite.
 */
import { type Agent, request } from 'node:http'

/** What the server answered: status, content type and the body as text. */
export interface RawAnswer {
  status: number
  contentType: string
  body: string
}

/**
 * Sends `method path` to `base` (an `http://host:port` origin) through `agent` with exactly
 * `headers` plus a content-length for `body`; rejects on a socket error or after 10 s idle.
 */
export function sendRaw(
  base: string,
  agent: Agent,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Uint8Array
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    // An explicit length: Node's client sends DELETE/OPTIONS bodies unframed otherwise.
    const framed = { ...headers, 'content-length': String(body.length) }
    const req = request(`${base}${path}`, { method, headers: framed, agent, timeout: 10_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        text += c
      })
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body: text })
      )
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(body)
  })
}

/** GETs `url` (5 s deadline) and returns its JSON; a non-2xx status throws. */
export async function getJson(url: string): Promise<unknown> {
  const r = await fetch(url, { signal: AbortSignal.timeout(5_000) })
  if (!r.ok) throw new Error(`${url}: ${r.status}`)
  return r.json()
}

/** POSTs `body` as JSON to `url` (5 s deadline); a non-2xx status throws with the answer. */
export async function postJson(url: string, body: unknown): Promise<void> {
  const r = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(5_000)
  })
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`)
}
