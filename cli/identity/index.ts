/** `bitwrk-node identity`: create and show the node's key. */
export { IDENTITY_USAGE, identityCommand } from './identity.js'
