// The hub (public face): connector protocol, host and supervisor, manifests.
export { ConnectorHost, type ConnectorHostDeps, type ConnectorEvent, type ConnectorStatus, type ConnectorState, type InvokeContext } from './host.js';
export { DEFAULT_RESTART_POLICY, RestartBudget, type RestartPolicy, type HostMethodHandler, type ConnectorLog } from './supervisor.js';
export { loadManifest, parseManifestText, describeSchemaErrors, type ConnectorManifest, type LoadedManifest, type OperationSpec, type Risk, type Idempotency, type SecretNeed, type PlacementNeeds } from './manifest.js';
export { HubError, type HubErrorCode } from './hub-errors.js';
export * as protocol from './protocol.js';
export { EgressProxy, EgressDenied, addressRefusal, hostAllowed, canonicalHost, type EgressRequest, type EgressResponse, type EgressProxyDeps } from './egress-proxy.js';
// The hub across devices: profiles, placement, fenced leases, state in the mesh, invoke routing.
export { MeshHub, type MeshHubOptions, type DeviceListing, type Placement } from './mesh-hub.js';
export { HubMeshError, type HubMeshErrorCode } from './mesh-errors.js';
export { parseSettings, type DeviceProfile, type DeclaredProfile } from './profile.js';
export { rank, place, ineligibility, hrwWeight, type Candidate, type DeviceNeeds } from './placement.js';
