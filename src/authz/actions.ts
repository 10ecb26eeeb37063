// The closed set of actions and the resources they act on. A new feature adds rows here, and
// rows to the authorization table test; nothing else decides who may do what.
import type { Zone } from '../zones/index.js';

/** Requests peers make of this device's share of the mesh (over FCP). */
export const PEER_ACTIONS = [
  'revocation.put',
  'revocation.list',
  'symbols.store',
  'symbols.fetch',
  'symbols.have',
  'symbols.drop',
  'manifest.put',
  'manifest.get',
  'object.erase',
  'object.list',
  'summary.read',
  'node.info',
  'node.join',
  'zone-key.get',
  'secret.share',
  'ref.put',
  'ref.list',
  'tombstone.put',
  'tombstone.list',
  'hub.profile',
  'hub.lease',
  'hub.state-read',
  'hub.state-commit',
  'hub.invoke',
  'removal.put',
  'removal.list',
  'zone-key.put',
  'owner.dkg',
  'owner.commit',
  'owner.sign',
  'owner.grant',
  'owner.info',
  'audit.cosign',
  'audit.cosign-device',
  'audit.checkpoints',
  'audit.checkpoints-device',
] as const;

/** What the local user asks of this device (control socket, library API). */
export const LOCAL_ACTIONS = [
  'object.put',
  'object.get',
  'object.inspect',
  'object.index',
  'files.list',
  'files.get',
  'files.put',
  'files.remove',
  'files.gc',
  'secret.put',
  'secret.use',
  'secret.list',
  'secret.rotate',
  'secret.remove',
  'secret.restore',
  'admin.status',
  'admin.invite',
  'admin.reload-keys',
  'admin.repair',
  'admin.scrub',
  'admin.shutdown',
  'audit.read',
  'audit.verify',
  'audit.proof',
  'audit.rebuild',
  'hub.invoke',
  'hub.install',
  'hub.list',
  'hub.remove',
  'device.set',
  'device.list',
  'hub.placements',
  'token.mint',
  'token.list',
  'token.revoke',
  'device.remove',
  'device.trust',
  'zone.rotate',
  'owner.init',
  'owner.status',
  'funnel.key-add',
  'funnel.key-list',
  'funnel.key-revoke',
  'funnel.set',
  'funnel.status',
] as const;

/**
 * What a running connector may ask of its host (host/* methods, the egress proxy), always in its
 * own home zone only.
 */
export const CONNECTOR_ACTIONS = ['object.put', 'object.get', 'hub.state.get', 'hub.state.put', 'secret.use'] as const;

/**
 * What a dashboard viewer may ask: `view` reads the mesh's state (never a secret's value);
 * the others change something and are for owners only.
 */
export const DASHBOARD_ACTIONS = ['dashboard.view', 'dashboard.names', 'dashboard.repair', 'dashboard.scrub', 'dashboard.revoke-token', 'dashboard.move-connector'] as const;

/** What a caller of the public gateway may ask: list and invoke the operations exposed to them. */
export const PUBLIC_ACTIONS = ['gateway.list', 'gateway.invoke'] as const;

/** How far a manifest exposes an operation beyond the tailnet: to anyone through Funnel, or to community-key holders. */
export type Exposure = 'public' | 'community';

/** The facts of the operation an invoke names, from the connector's manifest. */
export interface OperationFacts {
  connector: string;
  operation: string;
  risk: 'safe' | 'risky' | 'dangerous';
  exposure?: Exposure;
}

export type DashboardAction = (typeof DASHBOARD_ACTIONS)[number];
export type PeerAction = (typeof PEER_ACTIONS)[number];
export type LocalAction = (typeof LOCAL_ACTIONS)[number];
export type ConnectorAction = (typeof CONNECTOR_ACTIONS)[number];
export type PublicAction = (typeof PUBLIC_ACTIONS)[number];
export type Action = PeerAction | LocalAction | ConnectorAction | DashboardAction | PublicAction;
/** Every action once (`hub.invoke` is both a local and a peer action). */
export const ACTIONS: readonly Action[] = [...new Set<Action>([...PEER_ACTIONS, ...LOCAL_ACTIONS, ...CONNECTOR_ACTIONS, ...DASHBOARD_ACTIONS, ...PUBLIC_ACTIONS])];

/** Data of one zone (an object, its symbols or manifest, a secret). */
export interface ZoneResource {
  kind: 'zone';
  zone: Zone;
  /**
   * The device a pushed namespace record speaks for (a head's device, a tombstone's deciding
   * device): a device pushes only its own (OWN_RECORD_ACTIONS).
   */
  author?: string;
}

/** This device as a whole (its info, invites, administration, listings across zones). */
export interface NodeResource {
  kind: 'node';
}

export type Resource = ZoneResource | NodeResource;

export const NODE: NodeResource = { kind: 'node' };
export const inZone = (zone: Zone): ZoneResource => ({ kind: 'zone', zone });
/** A namespace record of `zone` that speaks for device `author` (its stable id). */
export const recordOf = (zone: Zone, author: string | undefined): ZoneResource => ({ kind: 'zone', zone, ...(author !== undefined ? { author } : {}) });

/**
 * Pushes of records that speak for a device (its head, its tombstones): only that device pushes
 * them. Others' records reach a device by its own pulls, and each is checked by its signature.
 */
export const OWN_RECORD_ACTIONS: ReadonlySet<Action> = new Set<Action>(['ref.put', 'tombstone.put']);

/**
 * How each action relates to zone data: what the caller must be allowed to do with it. `vouch`:
 * a statement about the zone that is not its data (a device's removal): the caller must be
 * allowed to write the zone, while this device takes the statement whatever zones it holds.
 */
export type Access = 'read' | 'write' | 'share' | 'vouch' | 'none';

export const ACCESS: Readonly<Record<Action, Access>> = {
  'symbols.store': 'write',
  'symbols.fetch': 'read',
  'symbols.have': 'read',
  'symbols.drop': 'write',
  'manifest.put': 'write',
  'manifest.get': 'read',
  'object.erase': 'write',
  'object.list': 'read',
  'summary.read': 'read',
  'node.info': 'none',
  'node.join': 'none',
  'zone-key.get': 'read',
  'secret.share': 'share',
  'ref.put': 'write',
  'ref.list': 'read',
  'tombstone.put': 'write',
  'tombstone.list': 'read',
  'hub.profile': 'none',
  'hub.lease': 'read',
  'hub.state-read': 'read',
  'hub.state-commit': 'write',
  'object.put': 'write',
  'object.get': 'read',
  'object.inspect': 'read',
  'object.index': 'none',
  'files.list': 'read',
  'files.get': 'read',
  'files.put': 'write',
  'files.remove': 'write',
  'files.gc': 'write',
  'secret.put': 'share',
  'secret.use': 'none',
  'secret.list': 'none',
  'secret.rotate': 'none',
  'secret.remove': 'none',
  'secret.restore': 'none',
  'admin.status': 'none',
  'admin.invite': 'none',
  'admin.reload-keys': 'none',
  'admin.repair': 'none',
  'admin.scrub': 'none',
  'admin.shutdown': 'none',
  'audit.read': 'none',
  'audit.verify': 'none',
  'audit.proof': 'none',
  'audit.rebuild': 'none',
  // Witnessing a zone's log (its checkpoints: sizes and roots, no entries) follows the zone's
  // read rules; the device log (decisions about a device as a whole) is witnessed by any device.
  'audit.cosign': 'read',
  'audit.cosign-device': 'none',
  'audit.checkpoints': 'read',
  'audit.checkpoints-device': 'none',
  'hub.invoke': 'read',
  'hub.install': 'write',
  'hub.list': 'none',
  'hub.remove': 'write',
  'hub.state.get': 'read',
  'hub.state.put': 'write',
  'device.set': 'none',
  'device.list': 'none',
  'hub.placements': 'none',
  // Minting narrows this device's own grant (the owner key granted it): the local user's to hand out.
  'token.mint': 'none',
  'token.list': 'none',
  // Removing a device takes the right to write every zone it held (asked once per zone).
  'removal.put': 'vouch',
  'removal.list': 'none',
  'zone-key.put': 'write',
  'device.remove': 'write',
  // Trusting a device's new node key lets its heads and tombstones in: asked once per zone it holds.
  'device.trust': 'write',
  'zone.rotate': 'write',
  'dashboard.view': 'none',
  'dashboard.repair': 'none',
  'dashboard.scrub': 'none',
  'dashboard.revoke-token': 'none',
  'dashboard.move-connector': 'none',
  // The names kept in a zone: an owner sees every zone, a device only zones it may read.
  'dashboard.names': 'read',
  // The owner key's ceremonies: only devices of z:owner itself (exact membership, its paths).
  'owner.dkg': 'share',
  'owner.commit': 'share',
  'owner.sign': 'share',
  'owner.grant': 'share',
  // The owner public key and who holds shares: every member may know it (it verifies tokens).
  'owner.info': 'none',
  // Revocations are owner-signed (each event is checked against the owner key): any member may pass them on.
  'revocation.put': 'none',
  'revocation.list': 'none',
  'token.revoke': 'none',
  'owner.init': 'none',
  'owner.status': 'none',
  // The gateway's community keys and tailscaled's serve config: this device's local user's.
  'funnel.key-add': 'none',
  'funnel.key-list': 'none',
  'funnel.key-revoke': 'none',
  'funnel.set': 'none',
  'funnel.status': 'none',
  // A public invoke acts in the connector's home zone like any invoke; listing names no zone.
  'gateway.list': 'none',
  'gateway.invoke': 'read',
};

export function isPeerAction(a: Action): a is PeerAction {
  return (PEER_ACTIONS as readonly string[]).includes(a);
}

export function isLocalAction(a: Action): a is LocalAction {
  return (LOCAL_ACTIONS as readonly string[]).includes(a);
}

export function isConnectorAction(a: Action): a is ConnectorAction {
  return (CONNECTOR_ACTIONS as readonly string[]).includes(a);
}

export function isDashboardAction(a: Action): a is DashboardAction {
  return (DASHBOARD_ACTIONS as readonly string[]).includes(a);
}

export function isPublicAction(a: Action): a is PublicAction {
  return (PUBLIC_ACTIONS as readonly string[]).includes(a);
}

/** Dashboard actions that change state: owners only, and Origin/CSRF-checked by the front door. */
export function changesState(a: DashboardAction): boolean {
  return a !== 'dashboard.view' && a !== 'dashboard.names';
}
