/** `bitwrk-node worker`: an exec worker of the original worker protocol. */
export { WORKER_USAGE, WorkerCliCode, workerCommand } from './worker.js'
