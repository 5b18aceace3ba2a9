/** `bitwrk-node status` and the client of the daemon's local API that the other commands share. */
export { apiRequest, DaemonClientCode, daemonApiUrl, daemonQueryCommand } from './client.js'
export { STATUS_USAGE, statusCommand } from './status.js'
