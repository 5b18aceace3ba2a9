/** `bitwrk-node get KEY` and `bitwrk-node put FILE`: files by key (API-23, API-24). */
export { GET_USAGE, getCommand } from './get.js'
export { describeFetch, FetchProgress, formatBytes } from './progress.js'
export { PUT_USAGE, putCommand } from './put.js'
