/** `bitwrk-node start`: the daemon. */
export { START_USAGE, startCommand } from './start.js'
