/**
 * The routes of the local HTTP API (protocol/spec/local-api.md API-5 … API-9): the original
 * client's endpoints with their names and semantics, and JSON endpoints under `/api/v1/`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { keyFromHex, keyToHex } from '../../cafs/keys.js'
import { exportStream, hasAllChunks, importStream } from '../../cafs/stream.js'
import type { Manifest } from '../../cafs/types.js'
import { isBitwrkError } from '../../protocol/errors.js'
import { type Money, parseMoney } from '../../protocol/money/index.js'
import { type MandateBook, MandateCode, mandateToJson } from '../mandates/index.js'
import { WorkerCode, type WorkerPool } from '../workers/index.js'
import { tokenMatches } from './auth.js'
import type { EventHub } from './dashboard/events.js'
import { DASHBOARD_ROUTES } from './dashboard/routes.js'
import { ApiCode, ApiDetailCode, ApiError } from './errors.js'
import type { NodeFacade } from './facade.js'
import {
  bounded,
  checkArticle,
  mediaType,
  readForm,
  readSmallBody,
  sendJson,
  sendText,
  toApiError
} from './http.js'
import { multipartBoundary, multipartField } from './multipart.js'

/** What every handler gets. */
export interface RouteContext {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly url: URL
  /** Path after the route's prefix, percent-decoded. */
  readonly rest: string
  /** Aborted when the client goes away or the server stops. */
  readonly signal: AbortSignal
  readonly facade: NodeFacade
  readonly mandates: MandateBook
  readonly workers: WorkerPool
  readonly now: () => number
  readonly limits: {
    readonly maxBodyBytes: number
    readonly maxJsonBytes: number
    readonly maxFormBytes: number
  }
  /** The peer's `ip:port` as the original's `/myip` wrote it. */
  readonly peer: string
  /** Sends `100 Continue` when the client asked for it (once); before it the body is not sent. */
  readonly proceed: () => void
  /** The server's event stream hub (`/api/v1/events`). */
  readonly events: EventHub
  /** True when state-changing requests need the token (API-3). */
  readonly tokenRequired: boolean
  /** The token (when required) and the name of the cookie that carries it (API-3). */
  readonly auth: { readonly token: string | undefined; readonly cookieName: string }
  /**
   * Runs the guards of API-2 and API-3 again as for a state-changing request (a gateway fetch,
   * API-24); throws their ApiError when the request does not meet them.
   */
  readonly requireChange: () => void
}

/** One route. */
export interface Route {
  /** Exact path, or a prefix when it ends with `/` (unless {@link exact}). */
  readonly path: string
  /** Match `path` exactly even though it ends with `/` (the dashboard at `/`). */
  readonly exact?: boolean
  /** Allowed methods. */
  readonly methods: readonly string[]
  /** Only from loopback peers (the original's "loopback" column, §8.2). */
  readonly loopbackOnly: boolean
  /** Changes state: needs the token when one is required (API-3); GET counts too for the worker routes. */
  readonly changesState: (method: string) => boolean
  /** Exempt from the token when the operator opens the worker endpoints. */
  readonly workerEndpoint?: boolean
  /** Answers any peer without a token, like the original (`/id`, `/version`, `/myip`; API-3). */
  readonly public?: boolean
  /** Checks the token itself (the session route takes it in its body). */
  readonly tokenExempt?: boolean
  /** Takes a raw upload of any media type (API-6; API-19 does not apply). */
  readonly anyBodyType?: boolean
  /** The handler sends `100 Continue` itself, after its own checks (API-7). */
  readonly defersContinue?: boolean
  readonly handle: (ctx: RouteContext) => Promise<void>
}

const writes = (m: string): boolean => m !== 'GET' && m !== 'HEAD'
const always = (): boolean => true
const never = (): boolean => false

/** The `/id` answer the original's add-on and workers probe for (§8.5). */
export const ORIGINAL_ID = 'BitWrk Go Client'

function parsePrice(text: string | null): Money | undefined {
  if (text === null) return undefined
  try {
    return parseMoney(text)
  } catch (err) {
    throw toApiError(err)
  }
}

/** Longest `?timeout=` of a buy, s: a day (API-21). */
const MAX_BUY_TIMEOUT_S = 86_400

/** `?timeout=<seconds>` of `/buy` (API-21), in ms; undefined when absent. */
function parseTimeout(text: string | null): number | undefined {
  if (text === null) return undefined
  const s = /^[1-9][0-9]{0,4}$/.test(text) ? Number(text) : 0
  if (s < 1 || s > MAX_BUY_TIMEOUT_S)
    throw new ApiError(
      ApiCode.BAD_REQUEST,
      `timeout must be whole seconds from 1 to ${MAX_BUY_TIMEOUT_S}`,
      ApiDetailCode.BAD_TIMEOUT
    )
  return s * 1000
}

/** `?ref=` of `/buy` (API-21): the client's name for its buy, shown in the activity. */
function parseRef(text: string | null): string | undefined {
  if (text === null) return undefined
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(text))
    throw new ApiError(ApiCode.BAD_REQUEST, 'ref must be 1-64 of A-Z a-z 0-9 . _ -', ApiDetailCode.BAD_REF)
  return text
}

/**
 * API-6: the raw body, or the `data` field of a multipart body, streamed into the chunk store
 * (at most `maxBodyBytes`; `100 Continue` is sent here, after the caller's checks).
 */
async function importUpload(ctx: RouteContext): Promise<Manifest> {
  const declared = Number(ctx.req.headers['content-length'] ?? '0')
  if (Number.isFinite(declared) && declared > ctx.limits.maxBodyBytes)
    throw new ApiError(ApiCode.TOO_LARGE, `body larger than ${ctx.limits.maxBodyBytes} bytes`)
  const boundary = multipartBoundary(ctx.req.headers['content-type'])
  ctx.proceed()
  const raw = bounded(ctx.req, ctx.limits.maxBodyBytes)
  const source = boundary === undefined ? raw : multipartField(raw, boundary, 'data')
  try {
    return await importStream(source, ctx.facade.chunkStore, { signal: ctx.signal })
  } catch (err) {
    throw toApiError(err)
  }
}

/** API-23: `POST /api/v1/files`: stores, indexes and (unless `--no-provide`) provides a file. */
async function uploadFile(ctx: RouteContext): Promise<void> {
  exact(ctx)
  const manifest = await importUpload(ctx)
  await ctx.facade.files.put(manifest)
  const provided = ctx.facade.content?.share(manifest) ?? false
  sendJson(ctx.res, 201, {
    key: keyToHex(manifest.fileKey),
    size: manifest.size,
    chunks: manifest.chunks.length,
    provided
  })
}

async function buy(ctx: RouteContext): Promise<void> {
  const article = checkArticle(ctx.rest)
  const price = parsePrice(ctx.url.searchParams.get('price'))
  const timeoutMs = parseTimeout(ctx.url.searchParams.get('timeout'))
  const ref = parseRef(ctx.url.searchParams.get('ref'))
  // Checked before the body is read: without a mandate nothing is stored (API-7).
  const peek = ctx.mandates.peek(article, 'BUY', price, ctx.now())
  if (!peek.ok)
    throw new ApiError(ApiCode.NO_MANDATE, `no BUY mandate permits this buy of ${article}`, peek.code)
  const work = await importUpload(ctx)
  // The trade is held, and charged once a transaction is established (MAN-5).
  const use = await ctx.mandates.take(article, 'BUY', price, ctx.now())
  if (!use.ok)
    throw new ApiError(ApiCode.NO_MANDATE, `no BUY mandate permits this buy of ${article}`, use.code)
  let established = false
  const charge = (): void => {
    established = true
    use.trade.charge().catch(() => {})
  }
  let resultKey: Uint8Array
  try {
    await ctx.facade.files.put(work)
    // WRK-11: the article is followed from now on (the node logs it), or no seller is ever seen
    await ctx.facade.follow?.(article, 'buy')
    ;({ resultKey } = await ctx.facade.buy(article, work, {
      signal: ctx.signal,
      price: use.price,
      mandateId: use.mandate.id,
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(ref !== undefined ? { ref } : {}),
      onEstablished: charge
    }))
    // a result comes from a transaction (a facade may not report it)
    charge()
  } catch (err) {
    // no transaction, no trade: the buy ends as if refused, for the mandate (issue 12.3)
    if (!established) await use.trade.refund().catch(() => {})
    if (ctx.signal.aborted) throw new ApiError(ApiCode.UNAVAILABLE, 'buy cancelled')
    throw toApiError(err, ApiCode.BUY_FAILED)
  }
  ctx.res.writeHead(303, { location: `/file/${keyToHex(resultKey)}`, 'content-length': 0 })
  ctx.res.end()
}

/** Gateway failures (API-24) as API answers. */
function gatewayApiError(err: unknown, signal: AbortSignal): ApiError {
  if (signal.aborted) return new ApiError(ApiCode.UNAVAILABLE, 'fetch cancelled')
  if (!isBitwrkError(err)) return toApiError(err)
  switch (err.code) {
    case 'CHUNK_NO_PROVIDERS':
      return new ApiError(ApiCode.NOT_FOUND, 'no such file here, and no provider of it found', err.code)
    case 'CONTENT_TOO_LARGE':
      return new ApiError(ApiCode.TOO_LARGE, err.message, err.code)
    case 'CONTENT_GATEWAY_BUSY':
      return new ApiError(ApiCode.BUSY, err.message, err.code)
    default:
      return new ApiError(ApiCode.FETCH_FAILED, `fetching the file failed: ${err.message}`, err.code)
  }
}

/**
 * API-24: the manifest of a file not held here, fetched from the network when the request may
 * act on the network (what a state-changing request needs); undefined when it may not look.
 */
async function fetchForGateway(ctx: RouteContext, fileKey: Uint8Array): Promise<Manifest | undefined> {
  const local = ctx.url.searchParams.get('local')
  if (local !== null && local !== '1')
    throw new ApiError(ApiCode.BAD_REQUEST, 'local must be 1', ApiDetailCode.BAD_LOCAL)
  const content = ctx.facade.content
  if (local === '1' || content === undefined) return undefined
  try {
    ctx.requireChange()
  } catch (err) {
    const e = toApiError(err)
    throw new ApiError(
      e.code,
      `the file is not held here; fetching it from the network needs what a change needs (${e.details.detail ?? e.code})`,
      ApiDetailCode.GATEWAY_REFUSED
    )
  }
  try {
    return await content.fetch(fileKey, { signal: ctx.signal })
  } catch (err) {
    throw gatewayApiError(err, ctx.signal)
  }
}

async function file(ctx: RouteContext): Promise<void> {
  if (!/^[0-9a-f]{64}$/.test(ctx.rest)) throw new ApiError(ApiCode.NOT_FOUND, 'no such file')
  const fileKey = keyFromHex(ctx.rest)
  let manifest = await ctx.facade.files.get(fileKey)
  if (
    manifest === undefined ||
    !(await hasAllChunks(manifest, ctx.facade.chunkStore, { signal: ctx.signal }))
  )
    manifest = (await fetchForGateway(ctx, fileKey)) ?? manifest
  if (manifest === undefined) throw new ApiError(ApiCode.NOT_FOUND, 'no such file')
  const chunks = exportStream(manifest, ctx.facade.chunkStore, { signal: ctx.signal })
  // The first chunk is read before the headers go out, so a missing chunk is still a clean 404.
  let first: IteratorResult<Uint8Array>
  try {
    first = await chunks.next()
  } catch (err) {
    throw new ApiError(
      ApiCode.NOT_FOUND,
      'file content not available',
      isBitwrkError(err) ? err.code : undefined
    )
  }
  ctx.res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': manifest.size })
  try {
    if (first.done !== true) {
      if (!ctx.res.write(first.value)) await drained(ctx.res)
      for await (const chunk of chunks) if (!ctx.res.write(chunk)) await drained(ctx.res)
    }
    ctx.res.end()
  } catch {
    // Headers are out: the only honest signal left is a broken connection.
    ctx.res.destroy()
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      res.off('close', onClose)
      resolve()
    }
    const onClose = (): void => {
      res.off('drain', onDrain)
      reject(new Error('connection closed'))
    }
    res.once('drain', onDrain)
    res.once('close', onClose)
  })
}

function field(fields: Map<string, string>, name: string): string {
  const v = fields.get(name)
  if (v === undefined || v === '') throw new ApiError(ApiCode.BAD_REQUEST, `missing field '${name}'`)
  return v
}

function workerApiError(err: unknown): ApiError {
  if (isBitwrkError(err, WorkerCode.URL_FORBIDDEN))
    return new ApiError(ApiCode.FORBIDDEN, err.message, err.code)
  if (isBitwrkError(err, WorkerCode.TOO_MANY)) return new ApiError(ApiCode.CONFLICT, err.message, err.code)
  return toApiError(err)
}

async function registerWorker(ctx: RouteContext): Promise<void> {
  const fields = await readForm(ctx.req, ctx.url.searchParams, ctx.limits.maxFormBytes)
  const reg = {
    id: field(fields, 'id'),
    article: field(fields, 'article'),
    pushUrl: field(fields, 'pushurl')
  }
  let view: ReturnType<WorkerPool['register']>
  try {
    view = ctx.workers.register(reg)
  } catch (err) {
    throw workerApiError(err)
  }
  // WRK-11: the node follows the worker's article, or its offers could never be placed
  const followed = (await ctx.facade.follow?.(reg.article, 'worker')) === true
  sendJson(ctx.res, 200, { ...view, followed })
}

async function unregisterWorker(ctx: RouteContext): Promise<void> {
  const fields = await readForm(ctx.req, ctx.url.searchParams, ctx.limits.maxFormBytes)
  const id = field(fields, 'id')
  // An unknown id is answered 200 as the original did (WRK-6): a worker that stops after its
  // node restarted must not fail (the Blender worker died with a traceback on 404, issue 12.6).
  sendJson(ctx.res, 200, { id, unregistered: ctx.workers.unregister(id) })
}

async function readJson(ctx: RouteContext): Promise<unknown> {
  if (mediaType(ctx.req) !== 'application/json')
    throw new ApiError(ApiCode.UNSUPPORTED_MEDIA_TYPE, 'body must be application/json')
  const body = await readSmallBody(ctx.req, ctx.limits.maxJsonBytes)
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    throw new ApiError(ApiCode.BAD_REQUEST, 'body is not JSON')
  }
}

async function mandates(ctx: RouteContext): Promise<void> {
  if (ctx.rest !== '') throw new ApiError(ApiCode.NOT_FOUND, 'no such route')
  if (ctx.req.method === 'GET') {
    sendJson(ctx.res, 200, ctx.mandates.list().map(mandateToJson))
    return
  }
  const body = await readJson(ctx)
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ApiError(ApiCode.BAD_REQUEST, 'body must be a JSON object')
  try {
    const m = await ctx.mandates.grant(body, ctx.now())
    // WRK-11: a mandate for an article the node does not follow makes it follow the article
    const followed = (await ctx.facade.follow?.(m.article, 'mandate')) === true
    sendJson(ctx.res, 201, { ...mandateToJson(m), followed })
  } catch (err) {
    if (isBitwrkError(err, MandateCode.TOO_MANY)) throw new ApiError(ApiCode.CONFLICT, err.message, err.code)
    throw toApiError(err)
  }
}

async function revokeMandate(ctx: RouteContext): Promise<void> {
  if (!/^[1-9][0-9]{0,14}$/.test(ctx.rest)) throw new ApiError(ApiCode.NOT_FOUND, 'no such mandate')
  const id = Number(ctx.rest)
  try {
    await ctx.mandates.revoke(id)
  } catch (err) {
    if (isBitwrkError(err, MandateCode.UNKNOWN)) throw new ApiError(ApiCode.NOT_FOUND, err.message, err.code)
    throw err
  }
  sendJson(ctx.res, 200, { id, revoked: true })
}

/**
 * API-3: `POST /api/v1/session {"token"}` checks the token and sets it as an `HttpOnly;
 * SameSite=Strict` cookie, so the dashboard's script never holds it; `DELETE` clears it.
 */
async function session(ctx: RouteContext): Promise<void> {
  const { token, cookieName } = ctx.auth
  const base = `${cookieName}=; Path=/; HttpOnly; SameSite=Strict`
  if (ctx.req.method === 'DELETE') {
    ctx.res.setHeader('set-cookie', `${base}; Max-Age=0`)
    return sendJson(ctx.res, 200, { session: false })
  }
  const body = await readJson(ctx)
  const presented =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['token'] : undefined
  if (token === undefined) return sendJson(ctx.res, 200, { session: false, tokenRequired: false })
  if (typeof presented !== 'string' || !tokenMatches(presented, token))
    throw new ApiError(ApiCode.UNAUTHORIZED, 'token missing or wrong')
  ctx.res.setHeader('set-cookie', `${cookieName}=${token}; Path=/; HttpOnly; SameSite=Strict`)
  sendJson(ctx.res, 200, { session: true, tokenRequired: true })
}

function exact(ctx: RouteContext): void {
  if (ctx.rest !== '') throw new ApiError(ApiCode.NOT_FOUND, 'no such route')
}

/** The route table, matched in order (exact paths before prefixes). */
export const ROUTES: readonly Route[] = [
  {
    path: '/id',
    methods: ['GET'],
    loopbackOnly: false,
    public: true,
    changesState: never,
    handle: async (ctx) => sendText(ctx.res, 200, ORIGINAL_ID)
  },
  {
    path: '/version',
    methods: ['GET'],
    loopbackOnly: false,
    public: true,
    changesState: never,
    handle: async (ctx) => sendText(ctx.res, 200, ctx.facade.version)
  },
  {
    path: '/myip',
    methods: ['GET'],
    loopbackOnly: false,
    public: true,
    changesState: never,
    handle: async (ctx) => sendText(ctx.res, 200, ctx.peer)
  },
  {
    path: '/buy/',
    methods: ['POST'],
    loopbackOnly: true,
    anyBodyType: true,
    changesState: always,
    defersContinue: true,
    handle: buy
  },
  // API-24: serving a held file changes nothing; fetching one is checked in the handler
  { path: '/file/', methods: ['GET'], loopbackOnly: false, changesState: never, handle: file },
  {
    path: '/api/v1/files',
    methods: ['POST'],
    loopbackOnly: true,
    anyBodyType: true,
    changesState: always,
    defersContinue: true,
    handle: uploadFile
  },
  {
    path: '/api/v1/fetches',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: async (ctx) => sendJson(ctx.res, 200, ctx.facade.content?.fetches() ?? [])
  },
  {
    path: '/registerworker',
    methods: ['GET', 'POST'],
    loopbackOnly: false,
    changesState: always,
    workerEndpoint: true,
    handle: registerWorker
  },
  {
    path: '/unregisterworker',
    methods: ['GET', 'POST'],
    loopbackOnly: false,
    changesState: always,
    workerEndpoint: true,
    handle: unregisterWorker
  },
  {
    path: '/api/v1/identity',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: async (ctx) => sendJson(ctx.res, 200, { ...ctx.facade.identity(), version: ctx.facade.version })
  },
  {
    path: '/api/v1/peers',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: async (ctx) => sendJson(ctx.res, 200, await ctx.facade.peers())
  },
  {
    path: '/api/v1/status',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: async (ctx) => {
      if (ctx.facade.status === undefined) throw new ApiError(ApiCode.NOT_FOUND, 'no status view')
      sendJson(ctx.res, 200, ctx.facade.status())
    }
  },
  {
    path: '/api/v1/epochs/',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: async (ctx) => {
      if (ctx.facade.epochs === undefined) throw new ApiError(ApiCode.NOT_FOUND, 'no epoch view')
      if (ctx.rest === '' || ctx.rest.length > 512)
        throw new ApiError(ApiCode.BAD_REQUEST, 'need a match key')
      sendJson(ctx.res, 200, ctx.facade.epochs(ctx.rest))
    }
  },
  {
    path: '/api/v1/session',
    methods: ['POST', 'DELETE'],
    loopbackOnly: true,
    changesState: always,
    tokenExempt: true,
    handle: session
  },
  {
    path: '/api/v1/book/',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: async (ctx) => sendJson(ctx.res, 200, await ctx.facade.book(checkArticle(ctx.rest)))
  },
  {
    path: '/api/v1/activities',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: async (ctx) => sendJson(ctx.res, 200, await ctx.facade.activities())
  },
  {
    path: '/api/v1/transactions',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: async (ctx) => sendJson(ctx.res, 200, await ctx.facade.transactions())
  },
  {
    path: '/api/v1/mandates',
    methods: ['GET', 'POST'],
    loopbackOnly: true,
    changesState: writes,
    handle: mandates
  },
  {
    path: '/api/v1/mandates/',
    methods: ['DELETE'],
    loopbackOnly: true,
    changesState: writes,
    handle: revokeMandate
  },
  {
    path: '/api/v1/workers',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: async (ctx) => {
      exact(ctx)
      sendJson(ctx.res, 200, ctx.workers.list())
    }
  },
  {
    path: '/api/v1/reputation',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: reputation
  },
  {
    path: '/api/v1/reputation/',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: reputation
  },
  {
    path: '/api/v1/store',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: async (ctx) => {
      const s = ctx.facade.storeStats()
      sendJson(ctx.res, 200, {
        ...s,
        budgetBytes: Number.isFinite(s.budgetBytes) ? s.budgetBytes : null,
        // puts per distinct chunk held (1 = no duplicate put); an estimate once chunks are evicted
        dedupRatio: s.chunks === 0 ? 1 : (s.chunks + s.dedupHits) / s.chunks
      })
    }
  },
  ...DASHBOARD_ROUTES
]

const ADDRESS_RE = /^[1-9A-HJ-NP-Za-km-z]{25,35}$/
const PEER_ID_RE = /^[1-9A-HJ-NP-Za-km-z]{36,128}$/

/** API-17: `<address>`, `<peerId>`, `address/<id>` or `peer/<id>` → the subject; 400 otherwise. */
function reputationSubject(rest: string): { kind: 'address' | 'peer'; id: string } {
  const parts = rest.split('/')
  const [a, b] = parts
  let subject: { kind: 'address' | 'peer'; id: string } | undefined
  // the two forms have disjoint lengths: an address has 25–35 characters, a peer id more
  if (parts.length === 1 && a !== undefined)
    subject = { kind: ADDRESS_RE.test(a) ? 'address' : 'peer', id: a }
  else if (parts.length === 2 && (a === 'address' || a === 'peer') && b !== undefined)
    subject = { kind: a, id: b }
  if (subject === undefined || !(subject.kind === 'address' ? ADDRESS_RE : PEER_ID_RE).test(subject.id))
    throw new ApiError(ApiCode.BAD_REQUEST, 'not an address or peer id', 'REPUTATION_BAD_SUBJECT')
  return subject
}

/** API-17: reputation routes (read-only). */
async function reputation(ctx: RouteContext): Promise<void> {
  const r = ctx.facade.reputation
  if (r === undefined) throw new ApiError(ApiCode.NOT_FOUND, 'no reputation service')
  if (ctx.rest === '') return sendJson(ctx.res, 200, await r.list())
  sendJson(ctx.res, 200, await r.get(reputationSubject(ctx.rest)))
}

/** The route for `path`, with the rest after a prefix; undefined when none matches. */
export function findRoute(path: string): { route: Route; rest: string } | undefined {
  for (const route of ROUTES) {
    if (route.exact === true) {
      if (path === route.path) return { route, rest: '' }
    } else if (route.path.endsWith('/')) {
      if (path.startsWith(route.path)) return { route, rest: path.slice(route.path.length) }
    } else if (path === route.path) return { route, rest: '' }
  }
  return undefined
}
