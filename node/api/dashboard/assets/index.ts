/**
 * The dashboard's assets, shipped in the package (no build step besides `tsc`, no CDN): the
 * script is app.js, which `tsc` emits next to this module; page and style sheet are strings.
 * Each has a content type and a strong ETag (SHA-256 of its bytes), and the page refers to
 * the script and style sheet with `?v=<version>` so that a new package is never mixed with a
 * cached old asset.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { DASHBOARD_CSS } from './css.js'
import { DASHBOARD_HTML } from './html.js'

/** A served asset. */
export interface Asset {
  readonly contentType: string
  readonly body: Buffer
  /** Strong ETag: quoted first 32 hex digits of the body's SHA-256. */
  readonly etag: string
}

const ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#2457c5"/>' +
  '<path d="M4 11V5h3.2a1.6 1.6 0 0 1 0 3.2H4m3.2 0h.6a1.4 1.4 0 0 1 0 2.8H4" fill="none" stroke="#fff" stroke-width="1.4"/></svg>'

/**
 * The browser script, read once from next to this module. `tsc` appends a source-map
 * reference, which is dropped: the map is not served.
 */
const DASHBOARD_JS = readFileSync(new URL('./app.js', import.meta.url), 'utf8').replace(
  /\n\/\/# sourceMappingURL=\S*\s*$/,
  '\n'
)

function asset(contentType: string, text: string): Asset {
  const body = Buffer.from(text, 'utf8')
  return { contentType, body, etag: `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"` }
}

/** Version of the asset set: 16 hex digits of the SHA-256 of script, style and icon. */
export const DASHBOARD_VERSION = createHash('sha256')
  .update(DASHBOARD_JS)
  .update('\0')
  .update(DASHBOARD_CSS)
  .update('\0')
  .update(ICON_SVG)
  .digest('hex')
  .slice(0, 16)

/** Assets by path. */
export const DASHBOARD_ASSETS: ReadonlyMap<string, Asset> = new Map([
  ['/', asset('text/html; charset=utf-8', DASHBOARD_HTML.replaceAll('@VERSION@', DASHBOARD_VERSION))],
  ['/dashboard/app.js', asset('text/javascript; charset=utf-8', DASHBOARD_JS)],
  ['/dashboard/app.css', asset('text/css; charset=utf-8', DASHBOARD_CSS)],
  ['/dashboard/icon.svg', asset('image/svg+xml', ICON_SVG)]
])

/**
 * Content-Security-Policy of every dashboard answer (local-api.md API-11): only the node's
 * own origin, no inline script or style, no framing, no foreign form targets.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; object-src 'none'"
