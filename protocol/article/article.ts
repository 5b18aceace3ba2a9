import { BitwrkError } from '../errors.js'
import { type Currency, isCurrency } from '../money/index.js'

/** Error codes of `protocol/article` (spec: protocol/spec/articles.md, ART-8). */
export const ArticleCode = {
  /** Not a string. */
  badType: 'ARTICLE_BAD_TYPE',
  /** The empty string (ART-1). */
  empty: 'ARTICLE_EMPTY',
  /** Longer than {@link ARTICLE_MAX_LENGTH} characters (ART-1). */
  tooLong: 'ARTICLE_TOO_LONG',
  /** A character outside `A-Z a-z 0-9 . _ - /` (and `~` of the suffix) (ART-2). */
  badCharacter: 'ARTICLE_BAD_CHARACTER',
  /** An empty segment (leading, trailing or doubled `/`) or a `.`/`..` segment (ART-3). */
  badSegment: 'ARTICLE_BAD_SEGMENT',
  /** A `~` that does not start the exact final suffix `~trusted` (ART-4). */
  badSuffix: 'ARTICLE_BAD_SUFFIX',
  /** A match key that is not `<article>:<currency>` (ART-6). */
  badMatchKey: 'ARTICLE_BAD_MATCH_KEY'
} as const

/** One of the {@link ArticleCode} values. */
export type ArticleErrorCode = (typeof ArticleCode)[keyof typeof ArticleCode]

/**
 * Longest article name (ART-1). The longest name the original traded is 38 characters
 * (`net.bitwrk/blender/0/2.80/512M~trusted`); 128 leaves room for longer namespaces while
 * keeping topic names, bid documents and store keys small.
 */
export const ARTICLE_MAX_LENGTH = 128

/** The suffix that marks an article's trusted variant (ART-4, original §9 / §7.5). */
export const TRUSTED_SUFFIX = '~trusted'

/** Characters of a segment (ART-2): URL-unreserved except `~`, so the name never needs escaping in a path. */
const SEGMENT_RE = /^[A-Za-z0-9._-]+$/

/** Result of {@link validateArticle}: bids are signed, so a bad article is provable and rejected. */
export type ArticleCheck = { result: 'accept' } | { result: 'reject'; code: ArticleErrorCode }

/** A valid article name, split into its parts. */
export interface Article {
  /** The full name as traded and signed, suffix included (`net.bitwrk/gorays/0~trusted`). */
  readonly name: string
  /** The name without the `~trusted` suffix. */
  readonly base: string
  /** Whether the name carries the `~trusted` suffix (ART-5). */
  readonly trusted: boolean
  /** The `/`-separated segments of `base`. */
  readonly segments: readonly string[]
}

/**
 * Checks an article name against ART-1 … ART-4 without throwing. Cheap: a length check first,
 * then one pass over at most {@link ARTICLE_MAX_LENGTH} characters.
 */
export function validateArticle(name: unknown): ArticleCheck {
  if (typeof name !== 'string') return reject(ArticleCode.badType)
  if (name.length === 0) return reject(ArticleCode.empty)
  if (name.length > ARTICLE_MAX_LENGTH) return reject(ArticleCode.tooLong)
  const tilde = name.indexOf('~')
  let base = name
  if (tilde >= 0) {
    if (name.slice(tilde) !== TRUSTED_SUFFIX) {
      // A `~` followed by anything but exactly `trusted` is a bad suffix; other bad characters
      // in the tail are reported as such.
      return /^~[A-Za-z0-9._/~-]*$/.test(name.slice(tilde))
        ? reject(ArticleCode.badSuffix)
        : reject(ArticleCode.badCharacter)
    }
    base = name.slice(0, tilde)
    if (base.length === 0) return reject(ArticleCode.badSuffix)
  }
  if (!/^[A-Za-z0-9._/-]+$/.test(base)) return reject(ArticleCode.badCharacter)
  for (const segment of base.split('/')) {
    if (!SEGMENT_RE.test(segment) || segment === '.' || segment === '..')
      return reject(ArticleCode.badSegment)
  }
  return { result: 'accept' }
}

function reject(code: ArticleErrorCode): ArticleCheck {
  return { result: 'reject', code }
}

/** Parses a valid article name into its parts; throws a `BitwrkError` with an `ARTICLE_*` code. */
export function parseArticle(name: string): Article {
  const check = validateArticle(name)
  if (check.result !== 'accept')
    throw new BitwrkError(check.code, 'invalid article name', {
      article: typeof name === 'string' ? name.slice(0, ARTICLE_MAX_LENGTH) : typeof name
    })
  const trusted = name.endsWith(TRUSTED_SUFFIX)
  const base = trusted ? name.slice(0, -TRUSTED_SUFFIX.length) : name
  return Object.freeze({ name, base, trusted, segments: Object.freeze(base.split('/')) })
}

/** True when `name` is a valid article (ART-1 … ART-4). */
export function isArticle(name: unknown): name is string {
  return validateArticle(name).result === 'accept'
}

/**
 * The match key `<article>:<currency>` (ART-6, original §2.6): only bids with equal keys can
 * match. Throws a `BitwrkError` (`ARTICLE_*`, `ARTICLE_BAD_MATCH_KEY` for an unknown currency).
 */
export function matchKey(article: string, currency: Currency): string {
  parseArticle(article)
  if (!isCurrency(currency))
    throw new BitwrkError(ArticleCode.badMatchKey, 'unknown currency', { currency: String(currency) })
  return `${article}:${currency}`
}

/** Splits a match key back into article and currency; an article has no `:`, so the split is unique. */
export function parseMatchKey(key: string): { article: string; currency: Currency } {
  if (typeof key !== 'string' || key.length > ARTICLE_MAX_LENGTH + 4)
    throw new BitwrkError(ArticleCode.badMatchKey, 'bad match key')
  const colon = key.lastIndexOf(':')
  const article = key.slice(0, colon)
  const currency = key.slice(colon + 1)
  if (colon < 0 || !isCurrency(currency) || !isArticle(article))
    throw new BitwrkError(ArticleCode.badMatchKey, 'bad match key', { key })
  return { article, currency }
}
