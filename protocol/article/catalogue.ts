import { parseArticle } from './article.js'

/**
 * The articles the original server traded (original §9, `server/util/util.go`), each also with
 * the `~trusted` suffix. Informative only (ART-7): there is no server, so no whitelist; nodes
 * and the Blender add-on may use these names to stay recognisable.
 */
export const ORIGINAL_ARTICLES: readonly string[] = Object.freeze([
  'fnord',
  'snafu',
  'foobar',
  'net.bitwrk/gorays/0'
])

/** The original's Blender article pattern: versions 2.69, 2.70–2.79, 2.80–2.82; four cost classes. */
const ORIGINAL_BLENDER_RE = /^net\.bitwrk\/blender\/0\/2\.(69|7[0-9]|8[0-2])\/(512M|2G|8G|32G)$/

/** True when the original server would have traded `name` (ART-7); the suffix is ignored. */
export function isOriginalArticle(name: string): boolean {
  let base: string
  try {
    base = parseArticle(name).base
  } catch {
    return false
  }
  return ORIGINAL_ARTICLES.includes(base) || ORIGINAL_BLENDER_RE.test(base)
}
