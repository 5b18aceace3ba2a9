/**
 * Routes of the web dashboard (protocol/spec/local-api.md API-10 … API-16): the page and its
 * assets, the dashboard's JSON views, demo images, the event stream and `/metrics`. Every
 * route answers loopback peers only, like the other `/api/v1` views; the dashboard's changes
 * go through the existing mandate routes and so follow the same token rules (API-3).
 */
import { requestToken, tokenMatches } from '../auth.js'
import { ApiCode, ApiError } from '../errors.js'
import { checkArticle, sendJson } from '../http.js'
import type { Route, RouteContext } from '../routes.js'
import { DASHBOARD_ASSETS, DASHBOARD_CSP, DASHBOARD_VERSION } from './assets/index.js'

const never = (): boolean => false

/** Image ids are 16 lowercase hex digits (API-15). */
const IMAGE_PATH = /^([0-9a-f]{16})\.png$/

function serveAsset(ctx: RouteContext, path: string): void {
  const a = DASHBOARD_ASSETS.get(path)
  if (a === undefined) throw new ApiError(ApiCode.NOT_FOUND, 'no such asset')
  const headers = {
    etag: a.etag,
    // revalidate every time: assets are small and a 304 is cheap
    'cache-control': 'no-cache',
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer'
  }
  const match = ctx.req.headers['if-none-match']
  if (match?.split(',').some((t) => t.trim() === a.etag)) {
    ctx.res.writeHead(304, headers)
    ctx.res.end()
    return
  }
  ctx.res.writeHead(200, { ...headers, 'content-type': a.contentType, 'content-length': a.body.length })
  ctx.res.end(a.body)
}

function dashboardOf(ctx: RouteContext): NonNullable<RouteContext['facade']['dashboard']> {
  const d = ctx.facade.dashboard
  if (d === undefined) throw new ApiError(ApiCode.NOT_FOUND, 'this node has no dashboard views')
  return d
}

async function market(ctx: RouteContext): Promise<void> {
  const d = dashboardOf(ctx)
  const article = checkArticle(ctx.rest)
  if (!d.articles().includes(article)) throw new ApiError(ApiCode.NOT_FOUND, 'article not followed')
  sendJson(ctx.res, 200, await d.market(article))
}

async function imagePng(ctx: RouteContext): Promise<void> {
  const m = IMAGE_PATH.exec(ctx.rest)
  const png = m === null ? undefined : await dashboardOf(ctx).imagePng(m[1] as string)
  if (png === undefined) throw new ApiError(ApiCode.NOT_FOUND, 'no such image')
  ctx.res.writeHead(200, {
    'content-type': 'image/png',
    'content-length': png.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff'
  })
  ctx.res.end(png)
}

async function metrics(ctx: RouteContext): Promise<void> {
  const m = await dashboardOf(ctx).metrics()
  const body = Buffer.from(m.text, 'utf8')
  ctx.res.writeHead(200, {
    'content-type': m.contentType,
    'content-length': body.length,
    'cache-control': 'no-store'
  })
  ctx.res.end(body)
}

/** The dashboard's routes (appended to the API's route table). */
export const DASHBOARD_ROUTES: readonly Route[] = [
  {
    path: '/',
    exact: true,
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: async (ctx) => serveAsset(ctx, '/')
  },
  {
    path: '/dashboard/',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: async (ctx) => serveAsset(ctx, `/dashboard/${ctx.rest}`)
  },
  { path: '/metrics', methods: ['GET'], loopbackOnly: true, changesState: never, handle: metrics },
  {
    path: '/api/v1/dashboard',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: async (ctx) => {
      const d = ctx.facade.dashboard
      sendJson(ctx.res, 200, {
        version: ctx.facade.version,
        dashboardVersion: DASHBOARD_VERSION,
        startedMs: d?.startedMs ?? null,
        articles: d?.articles() ?? [],
        tokenRequired: ctx.tokenRequired,
        // whether this request carried the token (the cookie is HttpOnly: the page cannot look)
        session:
          ctx.auth.token !== undefined &&
          tokenMatches(
            requestToken(ctx.req.headers.authorization, ctx.req.headers.cookie, ctx.auth.cookieName),
            ctx.auth.token
          ),
        events: { clients: ctx.events.size, maxClients: ctx.events.capacity }
      })
    }
  },
  { path: '/api/v1/market/', methods: ['GET'], loopbackOnly: true, changesState: never, handle: market },
  {
    path: '/api/v1/demo/images',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: async (ctx) => sendJson(ctx.res, 200, ctx.facade.dashboard?.images() ?? [])
  },
  {
    path: '/api/v1/demo/images/',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: imagePng
  },
  {
    path: '/api/v1/events',
    methods: ['GET'],
    loopbackOnly: true,
    changesState: never,
    handle: (ctx) => ctx.events.serve(ctx.res, ctx.signal)
  }
]
