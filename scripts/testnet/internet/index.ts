/**
 * The emulated internet (issue 15 §2): namespaces, NAT routers, and reaching daemons' APIs in
 * them. The testnet's `--internet` mode and the namespace tests use it.
 */
export { COMMAND_MS, internetUnavailable } from './command.js'
export { exposeUnixSocket, FORWARD_READY_MS, type ForwardedApi, forwardApi, NS_FORWARD } from './forward.js'
export { defaultNodesPerHome, type InternetPlan, InternetUnavailableError, internetLayout } from './layout.js'
export {
  internetNodeFlags,
  NODE_PORT,
  type NodeRole,
  type NsNodeProc,
  startNodeIn,
  startWorkerIn
} from './nodes.js'
export {
  cleanupStale,
  createInternet,
  type ExecResult,
  type HomeRouter,
  type Internet,
  type InternetOptions,
  listNamespaces,
  type NetNode,
  NS_PREFIX,
  routerRuleset
} from './topology.js'
