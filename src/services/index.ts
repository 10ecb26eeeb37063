// Services layer (public face): what every front door calls, each method with a principal.
export { createAuthorizer } from './authorizer.js';
export { PeerService, type FetchSink } from './peer-service.js';
export { ObjectService } from './object-service.js';
export { SecretService } from './secret-service.js';
export { AdminService } from './admin-service.js';
export { LifecycleService, zoneKeyAad, type RemoveResult, type RotateResult, type Delivery } from './lifecycle-service.js';
export { AuditService } from './audit-service.js';
export { NamesService, DEFAULT_FILES_ZONE, type NamesOptions, type Listed, type ListResult, type PutEntry, type Version, type GcReport } from './names-service.js';
export { ContentService, type PutContentResult, type ContentStream } from './content-service.js';
export { resolveObjectId } from './object-ids.js';
export { createFcpDoor, devicePrincipal, type ExtraDoor } from './fcp-door.js';
export { HubService, HubServiceError, type HubRoute, type HubManifest, type HubOperation, type ConnectorInfo, type InvokeOptions, type ConnectorRunner, type ConnectorStateStore, type InstalledStore, type HubInvokeContext } from './hub-service.js';
export { FileInstalledStore, MeshStateStore } from './hub-stores.js';
export { DashboardService, type DashboardSnapshot, type DashboardView, type DashboardDevice, type DashboardActivity, type DashboardDeps } from './dashboard-service.js';
export { TokenService, TokenServiceError, type MintOptions, type MintedToken, type ListedToken } from './token-service.js';
export { OwnerService, OWNER_ZONE, type OwnerOptions, type OwnerStatus, type OwnerFaults } from './owner-service.js';
export { OwnerError, type OwnerErrorCode } from './owner-errors.js';
export { RevocationService, type RevokeResult, type RevocationPeers } from './revocation-service.js';
