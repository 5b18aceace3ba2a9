/** Workers: registry, one-offer-per-idle-worker hook and job dispatch (original §8.4, protocol/spec/local-api.md WRK-*). */
export { WorkerCode, type WorkerErrorCode } from './errors.js'
export {
  checkRegistration,
  type DispatchOptions,
  type PushUrlPolicy,
  type SellOffer,
  WORKER_BACKOFF_MS,
  WORKER_DISPATCH_TIMEOUT_MS,
  WORKER_ID_MAX_LENGTH,
  WORKER_MAX_COUNT,
  WORKER_MAX_RESULT_BYTES,
  WorkerPool,
  type WorkerPoolOptions,
  type WorkerRegistration,
  type WorkerState,
  type WorkerView
} from './pool.js'
export { EXPECT_CONTINUE_MS, type PushOptions, type PushOutcome, pushWork } from './push.js'
export {
  DEFAULT_WORKER_ALLOW,
  isAllowedTarget,
  isLoopbackHost,
  normalisePushUrl,
  type PushTarget,
  parseWorkerAllow,
  parseWorkerAllowList,
  WORKER_URL_MAX_LENGTH,
  type WorkerAllowRule
} from './push-url.js'
