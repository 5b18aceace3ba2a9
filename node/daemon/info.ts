/**
 * What a running daemon tells other processes about itself: its status file. Kept apart from
 * the daemon so the CLI reads it without loading libp2p.
 */

/** Software version reported by `/version` and `/api/v1/identity`. */
export const DAEMON_VERSION = '0.1.0'

/** Name of the status file inside the data directory. */
export const DAEMON_FILE_NAME = 'daemon.json'

/** What `<dataDir>/daemon.json` holds while the daemon runs. */
export interface DaemonInfo {
  readonly pid: number
  readonly peerId: string
  readonly address: string
  readonly listen: readonly string[]
  /** The local HTTP API (original endpoints, `/api/v1/*`, the dashboard): the node's only HTTP listener. */
  readonly apiUrl: string
  readonly startedMs: number
  readonly version: string
}
