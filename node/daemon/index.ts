/** The daemon: node, services and local API under one lifecycle, and its JSON views. */
export {
  DAEMON_FILE_NAME,
  DAEMON_VERSION,
  type Daemon,
  type DaemonInfo,
  type DaemonOptions,
  DEFAULT_ARTICLES,
  DEFAULT_LISTEN,
  startDaemon
} from './daemon.js'
export { peersView, statusView } from './status.js'
