/** `bitwrk-node status`. */
export { STATUS_USAGE, statusCommand } from './status.js'
