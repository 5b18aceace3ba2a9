/** `bitwrk-node mandate grant|list|revoke`. */
export { MANDATE_USAGE, mandateCommand } from './mandate.js'
