/** The local HTTP API (protocol/spec/local-api.md): server, facade contract, errors (the test facade: node/testing.ts). */

// Mandates and workers are part of the API's surface (one export line in node/index.ts).
export * from '../mandates/index.js'
export * from '../workers/index.js'
export {
  COOKIE_FILE_NAME,
  createCookieFile,
  isLoopbackAddress,
  requestToken,
  TOKEN_COOKIE_PREFIX,
  tokenCookieName
} from './auth.js'
export {
  DASHBOARD_ASSETS,
  DASHBOARD_CSP,
  DASHBOARD_VERSION
} from './dashboard/assets/index.js'
export {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_EVENT_CLIENTS,
  DEFAULT_SAMPLE_MS,
  EventHub,
  type EventHubOptions
} from './dashboard/events.js'
export { API_STATUS, ApiCode, ApiDetailCode, ApiError, type ApiErrorCode } from './errors.js'
export type {
  ActivityView,
  ArticleStatusView,
  BookEntryView,
  BookView,
  BuyOptions,
  ContentFacade,
  DashboardEvent,
  DashboardFacade,
  DemoImageView,
  DemoTileView,
  DepthLevel,
  EpochsView,
  FetchProgressView,
  FileIndex,
  IdentityView,
  MarketView,
  MatchView,
  NetworkView,
  NodeFacade,
  PeerReputationView,
  PeerView,
  StatusView,
  TransactionView,
  TransferView,
  TxMessageView
} from './facade.js'
export {
  type GuardPolicy,
  type GuardRequest,
  type GuardRoute,
  guardRequest,
  hostAllowed,
  isOwnOrigin,
  parseHostHeader
} from './guard.js'
export {
  MULTIPART_MAX_HEADER_BYTES,
  MULTIPART_MAX_PARTS,
  multipartBoundary,
  multipartField
} from './multipart.js'
export { ORIGINAL_ID } from './routes.js'
export {
  ApiServer,
  type ApiServerOptions,
  DEFAULT_API_HOST,
  DEFAULT_API_PORT,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_FORM_BYTES,
  DEFAULT_MAX_JSON_BYTES
} from './server.js'
