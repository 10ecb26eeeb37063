// Mesh layer (public face): the MeshNode and its parts.
export { MeshNode, FCP_PORT, type MeshNodeOptions, type StoreOptions, type ObjectHealth } from './node.js';
export { MeshError, type MeshErrorCode } from './errors.js';
export { DEFAULT_POLICY, DECODE_MARGIN, resolvePolicy, symbolCount, assign, type PlacementPolicy } from './placement.js';
export { comparePeers, type PeerInfo } from './peers.js';
export { Keyring } from './keyring.js';
export type { Caller, RequestContext } from './server.js';
export { requestJoin, joinAad, type JoinResult } from './join.js';
export { RepairLoop, DEFAULT_REPAIR, type RepairOptions, type RepairOutcome, type RepairStats } from './repair.js';
export { blockMeetsPolicy, planAdditions, planDrops, type Holding } from './health.js';
