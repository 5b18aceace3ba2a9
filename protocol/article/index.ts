/**
 * Article names (spec: protocol/spec/articles.md): what is traded, its syntax, the `~trusted`
 * variant, and the `<article>:<currency>` match key.
 */
export {
  ARTICLE_MAX_LENGTH,
  type Article,
  type ArticleCheck,
  ArticleCode,
  type ArticleErrorCode,
  isArticle,
  matchKey,
  parseArticle,
  parseMatchKey,
  TRUSTED_SUFFIX,
  validateArticle
} from './article.js'
export { isOriginalArticle, ORIGINAL_ARTICLES } from './catalogue.js'
