/** `bitwrk-node peers`. */
export { PEERS_USAGE, peersCommand } from './peers.js'
