// A tailnet caller as a device principal: its zones from its tags, its path read now (per request).
import type { DevicePrincipal } from '../authz/index.js';
import type { Caller, MeshNode } from '../mesh/index.js';

export function devicePrincipal(node: Pick<MeshNode, 'directory' | 'zones'>, caller: Caller): DevicePrincipal {
  const info = node.directory.byStableId(caller.stableId);
  return {
    kind: 'device',
    stableId: caller.stableId,
    hostName: caller.hostName,
    address: caller.address,
    tags: caller.tags,
    zones: caller.zoneIds.filter((id) => node.zones.has(id)).map((id) => node.zones.get(id)),
    path: info?.peer.path ?? 'offline',
  };
}
