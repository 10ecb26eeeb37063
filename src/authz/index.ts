// Authorization layer (public face): principals, the closed set of actions and resources, and
// the one place that decides (authorize), whose every decision is an event.
export { type Principal, type DevicePrincipal, type LocalPrincipal, type ConnectorPrincipal, type ViewerPrincipal, type PublicPrincipal, type PublicOrigin, LOCAL_CONTROL, LOCAL_LIBRARY, LOCAL_MCP, describePrincipal } from './principal.js';
export { ACTIONS, PEER_ACTIONS, LOCAL_ACTIONS, CONNECTOR_ACTIONS, DASHBOARD_ACTIONS, PUBLIC_ACTIONS, ACCESS, NODE, inZone, recordOf, OWN_RECORD_ACTIONS, isPeerAction, isLocalAction, isConnectorAction, isDashboardAction, isPublicAction, changesState, type Exposure, type OperationFacts, type PublicAction, type Action, type DashboardAction, type PeerAction, type LocalAction, type ConnectorAction, type Resource, type ZoneResource, type NodeResource, type Access } from './actions.js';
export { decide, type Decision, type DecisionContext, type DenyReason } from './decide.js';
export { Authorizer, AuthzError, type DecisionEvent, type DecisionSink, type AuthorizerDeps } from './authorize.js';
export {
  ANY,
  MAX_CHAIN,
  TokenError,
  attenuate,
  decodeClaimsUnverified,
  encodeClaims,
  mintRoot,
  mintRootAsync,
  parseClaims,
  proveHolder,
  requireGrant,
  tokenId,
  verifyHolder,
  verifyToken,
  grantBindsDevice,
  type HolderProof,
  type MintRequest,
  type TokenClaims,
  type TokenErrorCode,
  type VerifiedToken,
  type VerifyOptions,
} from './token.js';
export { type OwnerAuthority } from './owner-authority.js';
export { AgentTokenError, formatAgentToken, parseAgentToken, proveFor, type AgentToken } from './agent-token.js';
export { ReplayError, TokenGate, type Credential, type InvokeSubject, type TokenGateDeps } from './token-gate.js';
export { RevocationError, RevocationList, type FreshnessPolicy, type RevocationErrorCode, type RevocationEvent, type RevocationHead, type RevocationScope, type Risk } from './revocation.js';
