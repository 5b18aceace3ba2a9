/**
 * What a gossip validator returns (HELPERS.md convention, shared with `protocol/bid`):
 * accept, or ignore/reject with a module-prefixed code. Reject is only for provable
 * misbehaviour (DESIGN.md invariant 3); everything else is ignore.
 */
export type ValidationResult =
  | { readonly result: 'accept' }
  | { readonly result: 'ignore'; readonly code: string }
  | { readonly result: 'reject'; readonly code: string }

/** The kinds of topic the node speaks (GOSSIP-1; `evidence`: equivocation proofs, REP-10). */
export type TopicKind = 'bids' | 'tx' | 'evidence'

/** Context handed to a validator with each message. */
export interface ValidationContext {
  /** The full topic string the message arrived on. */
  readonly topic: string
  /** The topic's kind. */
  readonly kind: TopicKind
  /** The article named by the topic (a bid on it must name the same article); empty for `evidence`. */
  readonly article: string
  /** The peer that forwarded the message to us (base58 peer id); not the author. */
  readonly from: string
  /** Receive time from the adapter's clock, ms since the epoch. */
  readonly nowMs: number
}

/**
 * A validator for one topic kind: cheap checks first, the signature last (invariant 3). It
 * must not throw for bad input; a throw is counted as a bug and mapped to ignore.
 */
export type MessageValidator = (
  data: Uint8Array,
  ctx: ValidationContext
) => ValidationResult | Promise<ValidationResult>

/** Error and result codes of the gossip adapter (`GOSSIP_*`). */
export const GossipCode = {
  /** GOSSIP-6: the validation queue was full; the message was dropped. */
  QUEUE_FULL: 'GOSSIP_QUEUE_FULL',
  /** GOSSIP-7: the sending peer exceeded its message rate. */
  RATE_LIMITED: 'GOSSIP_RATE_LIMITED',
  /** GOSSIP-7: the sending peer kept exceeding its rate (sustained flood). */
  RATE_ABUSE: 'GOSSIP_RATE_ABUSE',
  /** GOSSIP-5: the message was validated before (seen cache). */
  DUPLICATE: 'GOSSIP_DUPLICATE',
  /** GOSSIP-4: the message is larger than its topic kind allows. */
  TOO_LARGE: 'GOSSIP_TOO_LARGE',
  /** The injected validator threw (a bug); the message is ignored. */
  VALIDATOR_ERROR: 'GOSSIP_VALIDATOR_ERROR',
  /** GOSSIP-1: the article cannot be part of a topic name. */
  BAD_ARTICLE: 'GOSSIP_BAD_ARTICLE',
  /** GOSSIP-1: the string is not a bitwrk topic. */
  BAD_TOPIC: 'GOSSIP_BAD_TOPIC',
  /** No validator was configured for the topic kind, so the node will not subscribe. */
  NO_VALIDATOR: 'GOSSIP_NO_VALIDATOR',
  /** `publish` found no peer to send to before its deadline. */
  PUBLISH_TIMEOUT: 'GOSSIP_PUBLISH_TIMEOUT',
  /** `publish` was called after `stop()`. */
  STOPPED: 'GOSSIP_STOPPED'
} as const

/** Union of the gossip codes. */
export type GossipErrorCode = (typeof GossipCode)[keyof typeof GossipCode]
