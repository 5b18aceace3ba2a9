/**
 * The emulated internet (issue 15 §2): namespaces, NAT routers, and reaching daemons' APIs in
 * them. The testnet's `--internet` mode and the namespace tests use it.
 */
export { COMMAND_MS, internetUnavailable } from './command.js'
export { exposeUnixSocket, FORWARD_READY_MS, type ForwardedApi, forwardApi, NS_FORWARD } from './forward.js'
export {
  cleanupStale,
  createInternet,
  type ExecResult,
  type HomeRouter,
  type Internet,
  type InternetOptions,
  listNamespaces,
  NS_PREFIX,
  type NetNode,
  routerRuleset
} from './topology.js'
