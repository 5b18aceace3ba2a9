import { normalize } from './escape.js'

/**
 * The original BitWrk's bid document (original §2.2), for compatibility checks only:
 * `article=A&type=T&price=P&address=ADDR&nonce=N` with normalize() applied to every value
 * except the type. It has no kind, peer or times, so bitwrk-node never accepts it as a bid.
 */
export function originalBidDocument(f: {
  article: string
  type: 'BUY' | 'SELL'
  price: string
  address: string
  nonce: string
}): string {
  return `article=${normalize(f.article)}&type=${f.type}&price=${normalize(f.price)}&address=${normalize(f.address)}&nonce=${normalize(f.nonce)}`
}
