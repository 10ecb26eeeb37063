// Mesh layer (public face): the MeshNode and its parts.
export { MeshNode, FCP_PORT, type MeshNodeOptions, type SelfInfo } from './node.js';
export { ObjectWriter, DEFAULT_SCHEMA, type StoreOptions } from './writer.js';
export { ObjectReader } from './reader.js';
export { inspectObject, type ObjectHealth } from './inspect.js';
export { Eligibility } from './eligibility.js';
export { LocalHolder, RemoteHolder, type Holder, type SymbolStream } from './holder.js';
export { HolderMarks } from './marks.js';
export { call, expectReply } from './peer-call.js';
export { MeshError, type MeshErrorCode } from './errors.js';
export { DEFAULT_POLICY, DECODE_MARGIN, BATCH_BYTES, batchesOf, resolvePolicy, symbolCount, assign, type PlacementPolicy } from './placement.js';
export { comparePeers, type PeerInfo, PeerDirectory } from './peers.js';
export { Keyring } from './keyring.js';
export type { Caller, RequestContext, Handle } from './server.js';
export type { Outgoing } from './rpc.js';
export { requestJoin, findMembers, joinAad, type JoinResult } from './join.js';
export { RepairLoop, DEFAULT_REPAIR, type RepairOptions, type RepairOutcome, type RepairStats } from './repair.js';
export { blockMeetsPolicy, planAdditions, planDrops, type Holding } from './health.js';
