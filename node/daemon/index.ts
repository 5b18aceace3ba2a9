/** The daemon: node, services and local API under one lifecycle, and its JSON views. */
export {
  type Daemon,
  type DaemonOptions,
  DEFAULT_ARTICLES,
  DEFAULT_LISTEN,
  startDaemon
} from './daemon.js'
export { DAEMON_FILE_NAME, DAEMON_VERSION, type DaemonInfo } from './info.js'
export { peersView, statusView } from './status.js'
