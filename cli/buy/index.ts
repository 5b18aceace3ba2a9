/** `bitwrk-node buy ARTICLE FILE`. */
export { BUY_USAGE, buyCommand } from './buy.js'
