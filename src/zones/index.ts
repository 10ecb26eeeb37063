// Public face of the zones layer: zones and their tags, data-flow and
// transport rules, reachability, and the Tailscale policy generator/checker.
export {
  BUILTIN_ZONES,
  FCP_PORT,
  PRIVATE_CONFIDENTIALITY,
  COMMUNITY_CONFIDENTIALITY,
  COMMUNITY_INTEGRITY,
  PUBLIC_CONFIDENTIALITY,
  ZoneError,
  ZoneConfigError,
  UnknownZoneError,
  closestZone,
  defaultTagFor,
  type Zone,
  type ZoneErrorCode,
} from './zone.js';
export { ZoneRegistry, FUNNEL_PORTS, type FunnelSettings, type ZoneConfigInput } from './registry.js';
export { mayHold, checkWrite, checkFlow, type WriteDecision, type FlowDecision } from './flow.js';
export { mayUseTransport, mayUsePeer, TRANSPORTS, type Transport } from './transport.js';
export { mayConnect } from './reach.js';
export { generatePolicy } from './policy-generate.js';
export {
  checkPolicy,
  compilePolicy,
  CompiledPolicy,
  type PolicyCheckResult,
  type PolicyIssue,
  type PolicyTestOutcome,
  type PolicyTopology,
  type PolicyIdentity,
} from './policy-check.js';
export { parseHuJson, HuJsonSyntaxError, type HuDocument, type HuValue, type SourcePosition } from './hujson.js';
