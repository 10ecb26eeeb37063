// fcp-mesh library API.
export { SovereignMesh, type SovereignMeshConfig } from './sovereign-mesh.js';
export { MeshNode, MeshError, type ObjectHealth, type StoreOptions, type PlacementPolicy } from './mesh/index.js';
export { FilesError, type FilesErrorCode } from './files/index.js';
export type { PutContentResult, ContentStream } from './services/index.js';
export * as raptorq from './raptorq/index.js';
