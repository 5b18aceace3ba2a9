/** The node's reputation (protocol/spec/reputation.md REP-21 … REP-27): evidence in, decisions out. */
export { conflictProof, type FoundProof } from './detect.js'
export {
  DEFAULT_FLUSH_INTERVAL_MS,
  type EquivocationEvent,
  MAX_RECENT_EVENTS,
  type RecentEvent,
  type ReputationEvents,
  ReputationService,
  ReputationServiceCode,
  type ReputationServiceOptions,
  type ReputationView
} from './service.js'
