import { BitwrkError } from '../../protocol/errors.js'
import { GossipCode, type TopicKind } from './types.js'

/** GOSSIP-1: prefix of the bid topic of an article; the article follows verbatim. */
export const BIDS_TOPIC_PREFIX = '/bitwrk/bids/1/'
/**
 * GOSSIP-1: prefix of the transaction topic of an article; the article follows verbatim.
 * Version 2: transmit-finished carries the sealed result key (TX-4, TX-23), which version-1
 * nodes refuse as malformed.
 */
export const TX_TOPIC_PREFIX = '/bitwrk/tx/2/'

/**
 * REP-10: the one topic of equivocation proofs (not per article: a participant that
 * equivocated in one article is blocked in all). Version 2 with the transaction topic: a proof
 * may carry a transmit-finished of the sealed form (TX-4).
 */
export const EVIDENCE_TOPIC = '/bitwrk/evidence/2'

/** GOSSIP-1: longest article id that may appear in a topic (bytes = chars, ASCII only). */
export const MAX_ARTICLE_LENGTH = 128

// GOSSIP-1: article ids are ASCII, start with a letter or digit, and use only characters
// that need no escaping in a URL path (the original's ids look like
// `net.bitwrk/blender/0/2.80/512M` or `fnord~trusted`; notes/bitwrk-original.md §9).
const ARTICLE_RE = /^[A-Za-z0-9][A-Za-z0-9._~/-]*$/

/** True when `article` may be used in a topic name (GOSSIP-1). */
export function isValidArticle(article: string): boolean {
  return article.length <= MAX_ARTICLE_LENGTH && ARTICLE_RE.test(article)
}

function checked(article: string): string {
  if (!isValidArticle(article))
    throw new BitwrkError(GossipCode.BAD_ARTICLE, 'article cannot be used in a topic name', {
      length: article.length
    })
  return article
}

/** The bid topic of `article`, e.g. `/bitwrk/bids/1/net.bitwrk/gorays/0`. Throws GOSSIP_BAD_ARTICLE. */
export function bidTopic(article: string): string {
  return BIDS_TOPIC_PREFIX + checked(article)
}

/** The transaction topic of `article`, e.g. `/bitwrk/tx/2/net.bitwrk/gorays/0`. Throws GOSSIP_BAD_ARTICLE. */
export function txTopic(article: string): string {
  return TX_TOPIC_PREFIX + checked(article)
}

/** A parsed bitwrk topic. */
export interface ParsedTopic {
  /** Which kind of messages the topic carries. */
  readonly kind: TopicKind
  /** The article the topic belongs to; empty for the evidence topic. */
  readonly article: string
}

/** Parses a topic string, or returns undefined when it is not a valid bitwrk topic. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  if (topic === EVIDENCE_TOPIC) return { kind: 'evidence', article: '' }
  let kind: TopicKind
  let article: string
  if (topic.startsWith(BIDS_TOPIC_PREFIX)) {
    kind = 'bids'
    article = topic.slice(BIDS_TOPIC_PREFIX.length)
  } else if (topic.startsWith(TX_TOPIC_PREFIX)) {
    kind = 'tx'
    article = topic.slice(TX_TOPIC_PREFIX.length)
  } else return undefined
  return isValidArticle(article) ? { kind, article } : undefined
}
