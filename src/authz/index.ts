// Authorization layer (public face): principals, the closed set of actions and resources, and
// the one place that decides (authorize), whose every decision is an event.
export { type Principal, type DevicePrincipal, type LocalPrincipal, type ConnectorPrincipal, LOCAL_CONTROL, LOCAL_LIBRARY, LOCAL_MCP, describePrincipal } from './principal.js';
export { ACTIONS, PEER_ACTIONS, LOCAL_ACTIONS, CONNECTOR_ACTIONS, ACCESS, NODE, inZone, isPeerAction, isLocalAction, isConnectorAction, type Action, type PeerAction, type LocalAction, type ConnectorAction, type Resource, type ZoneResource, type NodeResource, type Access } from './actions.js';
export { decide, type Decision, type DecisionContext, type DenyReason } from './decide.js';
export { Authorizer, AuthzError, type DecisionEvent, type DecisionSink, type AuthorizerDeps } from './authorize.js';
export {
  ANY,
  MAX_CHAIN,
  TokenError,
  attenuate,
  encodeClaims,
  mintRoot,
  mintRootAsync,
  parseClaims,
  proveHolder,
  requireGrant,
  tokenId,
  verifyHolder,
  verifyToken,
  type HolderProof,
  type MintRequest,
  type TokenClaims,
  type TokenErrorCode,
  type VerifiedToken,
  type VerifyOptions,
} from './token.js';
export { type OwnerAuthority } from './owner-authority.js';
export { RevocationError, RevocationList, type FreshnessPolicy, type RevocationErrorCode, type RevocationEvent, type RevocationHead, type RevocationScope, type Risk } from './revocation.js';
