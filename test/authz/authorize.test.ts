// The authorization table: every action x principal kind x zone x path is decided by one
// function; explicit rows pin the rules, and an exhaustive sweep checks the invariants.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIONS, ACCESS, Authorizer, AuthzError, LOCAL_CONTROL, PEER_ACTIONS, LOCAL_ACTIONS, CONNECTOR_ACTIONS, NODE, type ConnectorPrincipal, type ViewerPrincipal, type PublicPrincipal, type OperationFacts, DASHBOARD_ACTIONS, PUBLIC_ACTIONS, decide, inZone, recordOf, type Action, type DecisionEvent, type DevicePrincipal, type Principal } from '../../src/authz/index.js';
import { mayHold, ZoneRegistry, type Zone } from '../../src/zones/index.js';
import type { PeerPath } from '../../src/tailscale/index.js';

const zones = ZoneRegistry.builtin();
const Z = (id: string): Zone => zones.get(id);
const PATHS: PeerPath[] = ['direct', 'peer-relay', 'derp', 'offline'];
const ZONE_IDS = ['z:owner', 'z:private', 'z:work', 'z:community', 'z:public'];

function device(zoneIds: string[], path: PeerPath = 'direct'): DevicePrincipal {
  return { kind: 'device', stableId: `n-${zoneIds.join('+')}`, hostName: `dev-${zoneIds.join('+') || 'none'}`, address: '127.77.0.9', tags: [], zones: zoneIds.map(Z), path };
}

const connector = (zoneId: string): ConnectorPrincipal => ({ kind: 'connector', connectorId: `c-${zoneId}`, zone: Z(zoneId) });

/** A dashboard viewer as the front door builds it from what tailscale serve presents. */
const viewer = (who: { login?: string; zones?: string[] }, owner: boolean): ViewerPrincipal => ({
  kind: 'viewer',
  login: who.login ?? null,
  device: who.zones ? { stableId: `n-${who.zones.join('+')}`, hostName: `dev-${who.zones.join('+') || 'none'}`, zones: who.zones.map(Z) } : null,
  owner,
});

/** A caller of the public gateway as its front door classifies them. */
const caller = (zoneId: 'z:public' | 'z:community', via: 'funnel' | 'tailnet' = 'funnel'): PublicPrincipal => ({ kind: 'public', zone: Z(zoneId), via, source: '198.51.100.7' });
const op = (risk: 'safe' | 'risky' | 'dangerous', exposure?: 'public' | 'community'): OperationFacts => ({ connector: 'c', operation: 'o', risk, ...(exposure ? { exposure } : {}) });

const owner = { selfZones: [Z('z:owner')] };
const work = { selfZones: [Z('z:work')] };

// [principal, action, zone (or node), context, allowed?, reason if denied]
const ROWS: Array<[string, Principal, Action, string | null, { selfZones: Zone[] }, boolean, string?]> = [
  ['owner peer stores owner symbols directly', device(['z:owner']), 'symbols.store', 'z:owner', owner, true],
  ['owner peer fetches owner symbols over peer relay', device(['z:owner'], 'peer-relay'), 'symbols.fetch', 'z:owner', owner, true],
  ['owner data never over DERP (fetch)', device(['z:owner'], 'derp'), 'symbols.fetch', 'z:owner', owner, false, 'transport'],
  ['owner data never over DERP (list)', device(['z:owner'], 'derp'), 'object.list', 'z:owner', owner, false, 'transport'],
  ['owner peer reads the owner holdings summary directly', device(['z:owner']), 'summary.read', 'z:owner', owner, true],
  ['owner holdings summary never over DERP', device(['z:owner'], 'derp'), 'summary.read', 'z:owner', owner, false, 'transport'],
  ['public device may not read the private holdings summary', device(['z:public']), 'summary.read', 'z:private', owner, false, 'caller-zone'],
  ['private holdings summary may cross DERP', device(['z:private'], 'derp'), 'summary.read', 'z:private', owner, true],
  ['owner data never over DERP (manifest)', device(['z:owner'], 'derp'), 'manifest.get', 'z:owner', owner, false, 'transport'],
  ['private data may cross DERP', device(['z:private'], 'derp'), 'symbols.fetch', 'z:private', owner, true],
  ['an offline path carries nothing', device(['z:private'], 'offline'), 'symbols.have', 'z:private', owner, false, 'transport'],
  ['public device may not read owner data', device(['z:public']), 'manifest.get', 'z:owner', owner, false, 'caller-zone'],
  ['public device may not erase owner objects', device(['z:public']), 'object.erase', 'z:owner', owner, false, 'caller-zone'],
  ['public device may not store under owner', device(['z:public']), 'symbols.store', 'z:owner', owner, false, 'caller-zone'],
  ['public device may store public data on an owner device', device(['z:public']), 'symbols.store', 'z:public', owner, true],
  ['work device may not write private data', device(['z:work']), 'manifest.put', 'z:private', owner, false, 'caller-zone'],
  ['owner device may hold private data', device(['z:owner']), 'symbols.have', 'z:private', owner, true],
  ['a work device may not be asked to hold owner data', device(['z:owner']), 'symbols.store', 'z:owner', work, false, 'self-zone'],
  ['drop needs write', device(['z:public']), 'symbols.drop', 'z:private', owner, false, 'caller-zone'],
  ['info for any zoned device', device(['z:public'], 'derp'), 'node.info', null, owner, true],
  ['join for any zoned device', device(['z:work']), 'node.join', null, owner, true],
  ['a device without zones gets nothing', device([]), 'node.info', null, owner, false, 'no-zone'],
  ['secret shares: exact zone membership', device(['z:owner']), 'secret.share', 'z:private', owner, false, 'caller-zone'],
  ['secret shares of own zone', device(['z:owner']), 'secret.share', 'z:owner', owner, true],
  ['secret shares never over DERP for owner', device(['z:owner'], 'derp'), 'secret.share', 'z:owner', owner, false, 'transport'],
  ['a device may not use local actions', device(['z:owner']), 'object.put', 'z:owner', owner, false, 'not-a-local-action'],
  ['a device may not shut a daemon down', device(['z:owner']), 'admin.shutdown', null, owner, false, 'not-a-local-action'],
  ['a device may not read secrets', device(['z:owner']), 'secret.use', null, owner, false, 'not-a-local-action'],
  ['local user puts owner data on an owner device', LOCAL_CONTROL, 'object.put', 'z:owner', owner, true],
  ['local user puts private data on an owner device', LOCAL_CONTROL, 'object.put', 'z:private', owner, true],
  ['local user may not put private data from a work device', LOCAL_CONTROL, 'object.put', 'z:private', work, false, 'self-zone'],
  ['local user may not read owner data on a work device', LOCAL_CONTROL, 'object.get', 'z:owner', work, false, 'self-zone'],
  ['local user reads work data on a work device', LOCAL_CONTROL, 'object.get', 'z:work', work, true],
  ['local user may not use peer actions', LOCAL_CONTROL, 'symbols.store', 'z:owner', owner, false, 'not-a-peer-action'],
  ['local admin', LOCAL_CONTROL, 'admin.repair', null, work, true],
  ['local secret put in own zone', LOCAL_CONTROL, 'secret.put', 'z:owner', owner, true],
  ['local secret put needs the exact zone', LOCAL_CONTROL, 'secret.put', 'z:private', owner, false, 'self-zone'],
  ['zone actions need a zone', LOCAL_CONTROL, 'object.put', null, owner, false, 'needs-zone'],
  ['local user reads the audit log', LOCAL_CONTROL, 'audit.read', null, work, true],
  ['local user verifies the audit log', LOCAL_CONTROL, 'audit.verify', null, owner, true],
  ['a device may not read this device\'s audit log', device(['z:owner']), 'audit.read', null, owner, false, 'not-a-local-action'],
  ['local user asks an inclusion proof', LOCAL_CONTROL, 'audit.proof', null, owner, true],
  ['local user rebuilds a log from the mesh', LOCAL_CONTROL, 'audit.rebuild', null, owner, true],
  ['a device may not rebuild this device\'s logs', device(['z:owner']), 'audit.rebuild', null, owner, false, 'not-a-local-action'],
  ['owner device witnesses an owner log directly', device(['z:owner']), 'audit.cosign', 'z:owner', owner, true],
  ['owner log checkpoints never over DERP', device(['z:owner'], 'derp'), 'audit.cosign', 'z:owner', owner, false, 'transport'],
  ['public device may not witness a private log', device(['z:public']), 'audit.cosign', 'z:private', owner, false, 'caller-zone'],
  ['any zoned device witnesses a device log', device(['z:public'], 'derp'), 'audit.cosign-device', null, owner, true],
  ['an untagged device witnesses nothing', device([]), 'audit.cosign-device', null, owner, false, 'no-zone'],
  ['the local user is no witness', LOCAL_CONTROL, 'audit.cosign', 'z:owner', owner, false, 'not-a-peer-action'],
  ['private device reads private checkpoints held here', device(['z:private'], 'derp'), 'audit.checkpoints', 'z:private', owner, true],
  ['public device may not read owner checkpoints', device(['z:public']), 'audit.checkpoints', 'z:owner', owner, false, 'caller-zone'],
  ['any zoned device reads device-log checkpoints', device(['z:work']), 'audit.checkpoints-device', null, owner, true],
  ['a head push that names no device is refused', device(['z:private']), 'ref.put', 'z:private', owner, false, 'not-own-record'],
  ['a public device may not publish a private head', device(['z:public']), 'ref.put', 'z:private', owner, false, 'caller-zone'],
  ['owner heads never over DERP', device(['z:owner'], 'derp'), 'ref.list', 'z:owner', owner, false, 'transport'],
  ['a member device reads the heads', device(['z:owner'], 'peer-relay'), 'ref.list', 'z:owner', owner, true],
  ['a tombstone push that names no deciding device is refused', device(['z:private'], 'derp'), 'tombstone.put', 'z:private', owner, false, 'not-own-record'],
  ['a work device may not tombstone private objects', device(['z:work']), 'tombstone.put', 'z:private', owner, false, 'caller-zone'],
  ['a public device may not read private tombstones', device(['z:public']), 'tombstone.list', 'z:private', owner, false, 'caller-zone'],
  ['a device may not list names', device(['z:owner']), 'files.list', 'z:owner', owner, false, 'not-a-local-action'],
  ['local user lists names of a held zone', LOCAL_CONTROL, 'files.list', 'z:private', owner, true],
  ['local user may not read owner names on a work device', LOCAL_CONTROL, 'files.get', 'z:owner', work, false, 'self-zone'],
  ['local user puts names in a held zone', LOCAL_CONTROL, 'files.put', 'z:work', work, true],
  ['local user may not rename private files from a work device', LOCAL_CONTROL, 'files.remove', 'z:private', work, false, 'self-zone'],
  ['local user collects garbage of a held zone', LOCAL_CONTROL, 'files.gc', 'z:owner', owner, true],
  ['garbage collection needs a zone', LOCAL_CONTROL, 'files.gc', null, owner, false, 'needs-zone'],
  ['a local user may not publish heads as a peer', LOCAL_CONTROL, 'ref.put', 'z:owner', owner, false, 'not-a-peer-action'],
  ['hub: any zoned device reads a profile', device(['z:public'], 'derp'), 'hub.profile', null, owner, true],
  ['hub: a zone member asks for a lease', device(['z:private']), 'hub.lease', 'z:private', owner, true],
  ['hub: a work device may not lease a private connector', device(['z:work']), 'hub.lease', 'z:private', owner, false, 'caller-zone'],
  ['hub: owner leases never over DERP', device(['z:owner'], 'derp'), 'hub.lease', 'z:owner', owner, false, 'transport'],
  ['hub: a zone member reads a state head', device(['z:owner']), 'hub.state-read', 'z:private', owner, true],
  ['hub: a public device may not commit private state', device(['z:public']), 'hub.state-commit', 'z:private', owner, false, 'caller-zone'],
  ['hub: a zone member commits state', device(['z:private']), 'hub.state-commit', 'z:private', owner, true],
  ['hub: a zone member routes an invoke', device(['z:owner']), 'hub.invoke', 'z:private', owner, true],
  ['hub: a work device may not invoke a private connector', device(['z:work']), 'hub.invoke', 'z:private', owner, false, 'caller-zone'],
  ['hub: this device runs no connector of a zone it may not hold', device(['z:owner']), 'hub.invoke', 'z:owner', work, false, 'self-zone'],
  ['hub: a device may not set this device profile', device(['z:owner']), 'device.set', null, owner, false, 'not-a-local-action'],
  ['hub: local user sets the profile', LOCAL_CONTROL, 'device.set', null, work, true],
  ['hub: local user lists devices', LOCAL_CONTROL, 'device.list', null, work, true],
  ['hub: local user sees placements', LOCAL_CONTROL, 'hub.placements', null, work, true],
  ['tokens: local user mints from this device\'s grant', LOCAL_CONTROL, 'token.mint', null, work, true],
  ['tokens: local user lists the tokens minted here', LOCAL_CONTROL, 'token.list', null, owner, true],
  ['tokens: a peer may not mint with this device\'s grant', device(['z:owner']), 'token.mint', null, owner, false, 'not-a-local-action'],
  ['tokens: a connector may not mint', connector('z:private'), 'token.list', null, owner, false, 'not-a-connector-action'],
  ['tokens: local user revokes (the owner key signs it)', LOCAL_CONTROL, 'token.revoke', null, owner, true],
  ['tokens: a peer may not revoke as the local user', device(['z:owner']), 'token.revoke', null, owner, false, 'not-a-local-action'],
  ['revocations: any member passes owner-signed revocations on', device(['z:public'], 'derp'), 'revocation.put', null, owner, true],
  ['revocations: any member reads them', device(['z:work']), 'revocation.list', null, work, true],
  ['revocations: a device with no fcp zone may not', device([]), 'revocation.list', null, owner, false, 'no-zone'],
  ['revocations: the local user does not push as a peer', LOCAL_CONTROL, 'revocation.put', null, owner, false, 'not-a-peer-action'],
  ['hub: a connector may not ask for a lease', connector('z:private'), 'hub.lease', 'z:private', owner, false, 'not-a-connector-action'],
  ['hub: local user may not grant leases', LOCAL_CONTROL, 'hub.lease', 'z:owner', owner, false, 'not-a-peer-action'],
  ['local user invokes a private connector on an owner device', LOCAL_CONTROL, 'hub.invoke', 'z:private', owner, true],
  ['local user may not invoke an owner connector from a work device', LOCAL_CONTROL, 'hub.invoke', 'z:owner', work, false, 'self-zone'],
  ['local user installs a private connector on an owner device', LOCAL_CONTROL, 'hub.install', 'z:private', owner, true],
  ['local user may not install an owner connector on a work device', LOCAL_CONTROL, 'hub.install', 'z:owner', work, false, 'self-zone'],
  ['local user lists connectors', LOCAL_CONTROL, 'hub.list', null, work, true],
  ['local user removes a work connector on a work device', LOCAL_CONTROL, 'hub.remove', 'z:work', work, true],
  ['owner peer invokes a private connector', device(['z:owner']), 'hub.invoke', 'z:private', owner, true],
  ['owner peer may not invoke an owner connector over DERP', device(['z:owner'], 'derp'), 'hub.invoke', 'z:owner', owner, false, 'transport'],
  ['public peer may not invoke a private connector', device(['z:public']), 'hub.invoke', 'z:private', owner, false, 'caller-zone'],
  ['a peer may not install connectors', device(['z:owner']), 'hub.install', 'z:owner', owner, false, 'not-a-local-action'],
  ['a peer may not list connectors', device(['z:owner']), 'hub.list', null, owner, false, 'not-a-local-action'],
  ['a connector stores objects in its home zone', connector('z:private'), 'object.put', 'z:private', owner, true],
  ['a connector may not store objects in another zone', connector('z:private'), 'object.put', 'z:owner', owner, false, 'connector-zone'],
  ['a connector reads its state', connector('z:work'), 'hub.state.get', 'z:work', work, true],
  ['a connector may not read another zone\'s objects', connector('z:work'), 'object.get', 'z:private', owner, false, 'connector-zone'],
  ['a connector in a zone this device may not hold gets nothing', connector('z:owner'), 'hub.state.put', 'z:owner', work, false, 'self-zone'],
  ['a connector uses a secret through its host', connector('z:private'), 'secret.use', null, owner, true],
  ['a connector may not invoke connectors', connector('z:private'), 'hub.invoke', 'z:private', owner, false, 'not-a-connector-action'],
  ['a connector may not list secrets', connector('z:private'), 'secret.list', null, owner, false, 'not-a-connector-action'],
  ['lifecycle: an owner peer spreads the removal of an owner device', device(['z:owner']), 'removal.put', 'z:owner', owner, true],
  ['lifecycle: a work peer may not remove a private device', device(['z:work']), 'removal.put', 'z:private', owner, false, 'caller-zone'],
  ['lifecycle: a work device takes the removal of a private device from an owner device', device(['z:owner']), 'removal.put', 'z:private', work, true],
  ['lifecycle: a public device may not tell a work device of a private removal', device(['z:public']), 'removal.put', 'z:private', work, false, 'caller-zone'],
  ['lifecycle: a removal names the zones it is about', device(['z:owner']), 'removal.put', null, owner, false, 'needs-zone'],
  ['lifecycle: any zoned peer reads the removed set', device(['z:public'], 'derp'), 'removal.list', null, owner, true],
  ['lifecycle: a private member sends a new private epoch', device(['z:private'], 'derp'), 'zone-key.put', 'z:private', owner, true],
  ['lifecycle: a public device may not send a private key', device(['z:public']), 'zone-key.put', 'z:private', owner, false, 'caller-zone'],
  ['lifecycle: owner key epochs never over DERP', device(['z:owner'], 'derp'), 'zone-key.get', 'z:owner', owner, false, 'transport'],
  ['lifecycle: local user on an owner device removes a work device', LOCAL_CONTROL, 'device.remove', 'z:work', owner, true],
  ['lifecycle: local user on a work device may not remove an owner device', LOCAL_CONTROL, 'device.remove', 'z:owner', work, false, 'self-zone'],
  ['lifecycle: local user rotates a held zone', LOCAL_CONTROL, 'zone.rotate', 'z:private', owner, true],
  ['lifecycle: local user may not rotate a zone this device may not hold', LOCAL_CONTROL, 'zone.rotate', 'z:owner', work, false, 'self-zone'],
  ['lifecycle: a peer may not rotate this device\'s keys', device(['z:owner']), 'zone.rotate', 'z:owner', owner, false, 'not-a-local-action'],
  ['lifecycle: a peer may not remove devices as the local user', device(['z:owner']), 'device.remove', 'z:owner', owner, false, 'not-a-local-action'],
  ['lifecycle: local user on an owner device trusts a reset private device', LOCAL_CONTROL, 'device.trust', 'z:private', owner, true],
  ['lifecycle: local user on a work device may not trust an owner device\'s new key', LOCAL_CONTROL, 'device.trust', 'z:owner', work, false, 'self-zone'],
  ['lifecycle: a peer may not renew pins as the local user', device(['z:owner']), 'device.trust', 'z:owner', owner, false, 'not-a-local-action'],
  ['owner key: an owner peer takes part in the DKG', device(['z:owner']), 'owner.dkg', 'z:owner', owner, true],
  ['owner key: a private device may not take part in the DKG', device(['z:private']), 'owner.dkg', 'z:owner', owner, false, 'caller-zone'],
  ['owner key: an owner peer asks for a commitment', device(['z:owner']), 'owner.commit', 'z:owner', owner, true],
  ['owner key: no commitment over DERP', device(['z:owner'], 'derp'), 'owner.commit', 'z:owner', owner, false, 'transport'],
  ['owner key: an owner peer asks for a signature share', device(['z:owner']), 'owner.sign', 'z:owner', owner, true],
  ['owner key: a work device may not ask for a signature share', device(['z:work']), 'owner.sign', 'z:owner', owner, false, 'caller-zone'],
  ['owner key: a work device holds no share to sign with', device(['z:owner']), 'owner.sign', 'z:owner', work, false, 'self-zone'],
  ['owner key: an owner peer hands over a grant', device(['z:owner']), 'owner.grant', 'z:owner', owner, true],
  ['owner key: any zoned peer learns the owner public key', device(['z:public'], 'derp'), 'owner.info', null, owner, true],
  ['owner key: the local user runs the ceremony', LOCAL_CONTROL, 'owner.init', null, owner, true],
  ['owner key: the local user reads its status', LOCAL_CONTROL, 'owner.status', null, work, true],
  ['owner key: a peer may not start the ceremony as the local user', device(['z:owner']), 'owner.init', null, owner, false, 'not-a-local-action'],
  ['owner key: the local user does not sign as a peer', LOCAL_CONTROL, 'owner.sign', 'z:owner', owner, false, 'not-a-peer-action'],
  ['lifecycle: the local user does not spread removals as a peer', LOCAL_CONTROL, 'removal.put', 'z:owner', owner, false, 'not-a-peer-action'],
  ['dashboard: a tailnet user views', viewer({ login: 'bob@example.com' }, false), 'dashboard.view', null, work, true],
  ['dashboard: an owner-zone device views', viewer({ zones: ['z:owner'] }, true), 'dashboard.view', null, owner, true],
  ['dashboard: a tagged device without an fcp zone sees nothing', viewer({ zones: [] }, false), 'dashboard.view', null, owner, false, 'no-zone'],
  ['dashboard: a viewer serve did not identify sees nothing', viewer({}, false), 'dashboard.view', null, owner, false, 'unidentified'],
  ['dashboard: the owner login repairs now', viewer({ login: 'alice@example.com' }, true), 'dashboard.repair', null, owner, true],
  ['dashboard: an owner device scrubs now', viewer({ zones: ['z:owner'] }, true), 'dashboard.scrub', null, owner, true],
  ['dashboard: an owner sees the names of every zone', viewer({ login: 'alice@example.com' }, true), 'dashboard.names', 'z:owner', owner, true],
  ['dashboard: a work device sees z:work names', viewer({ zones: ['z:work'] }, false), 'dashboard.names', 'z:work', work, true],
  ['dashboard: a work device does not see z:private names', viewer({ zones: ['z:work'] }, false), 'dashboard.names', 'z:private', work, false, 'caller-zone'],
  ['dashboard: a tailnet user who is not an owner sees no names', viewer({ login: 'bob@example.com' }, false), 'dashboard.names', 'z:public', owner, false, 'caller-zone'],
  ['dashboard: an owner device moves a connector', viewer({ zones: ['z:owner'] }, true), 'dashboard.move-connector', null, owner, true],
  ['dashboard: a tailnet user who is not an owner may not move a connector', viewer({ login: 'bob@example.com' }, false), 'dashboard.move-connector', null, owner, false, 'not-owner'],
  ['dashboard: the owner login revokes a token', viewer({ login: 'alice@example.com' }, true), 'dashboard.revoke-token', null, owner, true],
  ['dashboard: a work device may not revoke a token', viewer({ zones: ['z:work'] }, false), 'dashboard.revoke-token', null, work, false, 'not-owner'],
  ['funnel: the local user turns Funnel on', LOCAL_CONTROL, 'funnel.set', null, owner, true],
  ['funnel: a device may not touch this device funnel or keys', device(['z:owner']), 'funnel.key-add', null, owner, false, 'not-a-local-action'],
  ['dashboard: another tailnet user may not repair', viewer({ login: 'bob@example.com' }, false), 'dashboard.repair', null, owner, false, 'not-owner'],
  ['dashboard: a work device may not scrub', viewer({ zones: ['z:work'] }, false), 'dashboard.scrub', null, work, false, 'not-owner'],
  ['dashboard: an owner viewer may not use local actions', viewer({ login: 'alice@example.com' }, true), 'admin.repair', null, owner, false, 'not-a-dashboard-action'],
  ['dashboard: an owner viewer may not read objects', viewer({ zones: ['z:owner'] }, true), 'object.get', 'z:owner', owner, false, 'not-a-dashboard-action'],
  ['dashboard: the local user does not ask dashboard actions', LOCAL_CONTROL, 'dashboard.repair', null, owner, false, 'not-a-dashboard-action'],
  ['dashboard: a peer device does not ask dashboard actions', device(['z:owner']), 'dashboard.view', null, owner, false, 'not-a-dashboard-action'],
];

test('authorization table: explicit rows', () => {
  for (const [name, p, action, zone, ctx, allowed, reason] of ROWS) {
    const d = decide(p, action, zone ? inZone(Z(zone)) : NODE, ctx);
    assert.equal(d.allow, allowed, name);
    if (!d.allow) assert.equal(d.reason, reason, name);
  }
});

// Pushed namespace records speak for one device (their author): [name, principal, action, zone, author, allowed?, reason]
const RECORD_ROWS: Array<[string, DevicePrincipal, 'ref.put' | 'tombstone.put' | 'ref.list', string, string | undefined, boolean, string?]> = [
  ['a member device publishes its own head', device(['z:private']), 'ref.put', 'z:private', 'n-z:private', true],
  ["a member device may not publish another device's head", device(['z:private']), 'ref.put', 'z:private', 'n-z:owner', false, 'not-own-record'],
  ["an owner device may not publish a private device's head either", device(['z:owner']), 'ref.put', 'z:private', 'n-z:private', false, 'not-own-record'],
  ['a member device spreads its own tombstones', device(['z:private'], 'derp'), 'tombstone.put', 'z:private', 'n-z:private', true],
  ["a member device may not push another device's tombstones", device(['z:private']), 'tombstone.put', 'z:private', 'n-z:owner', false, 'not-own-record'],
  ['the zone rules come first: a public device pushing its own private head', device(['z:public']), 'ref.put', 'z:private', 'n-z:public', false, 'caller-zone'],
  ['owner heads never over DERP, even its own', device(['z:owner'], 'derp'), 'ref.put', 'z:owner', 'n-z:owner', false, 'transport'],
  ['listing heads names no author: any member reads them', device(['z:owner']), 'ref.list', 'z:owner', 'n-z:private', true],
];

test('authorization table: a device pushes only its own heads and tombstones', () => {
  for (const [name, p, action, zone, author, allowed, reason] of RECORD_ROWS) {
    const d = decide(p, action, recordOf(Z(zone), author), owner);
    assert.equal(d.allow, allowed, name);
    if (!d.allow) assert.equal(d.reason, reason, name);
  }
  // Through the Authorizer too: the denial is an AuthzError carrying the reason.
  const authz = new Authorizer({ selfZones: () => [Z('z:owner')] });
  assert.throws(() => authz.authorize(device(['z:private']), 'ref.put', recordOf(Z('z:private'), 'n-other')), (err: unknown) => err instanceof AuthzError && err.reason === 'not-own-record');
});

// [name, principal, action, connector home zone, operation, allowed?, reason if denied]
const PUBLIC_ROWS: Array<[string, Principal, 'gateway.invoke' | 'gateway.list' | 'hub.invoke', string | null, OperationFacts | undefined, boolean, string?]> = [
  ['public: anyone lists the exposed operations', caller('z:public'), 'gateway.list', null, undefined, true],
  ['public: a Funnel caller invokes a public safe operation of a public connector', caller('z:public'), 'gateway.invoke', 'z:public', op('safe', 'public'), true],
  ['public: a Funnel caller invokes a public operation of a community connector', caller('z:public'), 'gateway.invoke', 'z:community', op('safe', 'public'), true],
  ['public: an operation without exposure is not callable', caller('z:community'), 'gateway.invoke', 'z:community', op('safe'), false, 'not-exposed'],
  ['public: an invoke without its operation facts is refused', caller('z:community'), 'gateway.invoke', 'z:community', undefined, false, 'not-exposed'],
  ['public: a community operation needs a community caller', caller('z:public'), 'gateway.invoke', 'z:community', op('safe', 'community'), false, 'community-only'],
  ['public: a community key holder invokes a community operation', caller('z:community'), 'gateway.invoke', 'z:community', op('safe', 'community'), true],
  ['public: a tailnet caller through the gateway is a community caller', caller('z:community', 'tailnet'), 'gateway.invoke', 'z:community', op('safe', 'community'), true],
  ['public: z:private connectors are never reachable, whatever the manifest says', caller('z:community'), 'gateway.invoke', 'z:private', op('safe', 'public'), false, 'transport'],
  ['public: z:owner connectors are never reachable', caller('z:community'), 'gateway.invoke', 'z:owner', op('safe', 'public'), false, 'transport'],
  ['public: z:work connectors are never reachable', caller('z:public'), 'gateway.invoke', 'z:work', op('safe', 'public'), false, 'transport'],
  ['public: public input never drives a dangerous operation', caller('z:community'), 'gateway.invoke', 'z:community', op('dangerous', 'community'), false, 'taint'],
  ['public: a risky operation uphill in integrity needs elevation', caller('z:public'), 'gateway.invoke', 'z:community', op('risky', 'public'), false, 'taint'],
  ['public: a risky operation at the caller own integrity is allowed', caller('z:community'), 'gateway.invoke', 'z:community', op('risky', 'community'), true],
  ['public: a public caller may not use the hub directly', caller('z:community'), 'hub.invoke', 'z:community', op('safe', 'public'), false, 'not-a-public-action'],
  ['public: the local user does not ask gateway actions', LOCAL_CONTROL, 'gateway.invoke', 'z:public', op('safe', 'public'), false, 'not-a-public-action'],
  ['public: a device does not ask gateway actions', device(['z:public']), 'gateway.invoke', 'z:public', op('safe', 'public'), false, 'not-a-public-action'],
  ['public: a relayed invoke keeps the public rules on the device that runs it', { ...device(['z:private']), relayedFor: { zone: Z('z:public'), via: 'funnel' } }, 'hub.invoke', 'z:private', op('safe', 'public'), false, 'transport'],
  ['public: a relayed invoke of an unexposed operation is refused there', { ...device(['z:private']), relayedFor: { zone: Z('z:public'), via: 'funnel' } }, 'hub.invoke', 'z:public', op('safe'), false, 'not-exposed'],
  ['public: a relayed invoke of an exposed operation runs', { ...device(['z:private']), relayedFor: { zone: Z('z:public'), via: 'funnel' } }, 'hub.invoke', 'z:public', op('safe', 'public'), true],
];

test('authorization table: the public gateway', () => {
  for (const [name, p, action, zone, facts, allowed, reason] of PUBLIC_ROWS) {
    const d = decide(p, action, zone ? inZone(Z(zone)) : NODE, owner, facts);
    assert.equal(d.allow, allowed, name);
    if (!d.allow) assert.equal(d.reason, reason, name);
  }
});

test('public sweep: every public caller x action x home zone x risk x exposure obeys the gateway invariants', () => {
  let allowed = 0;
  for (const zoneId of ['z:public', 'z:community'] as const)
    for (const via of ['funnel', 'tailnet'] as const)
      for (const action of ACTIONS)
        for (const home of ZONE_IDS)
          for (const risk of ['safe', 'risky', 'dangerous'] as const)
            for (const exposure of [undefined, 'public', 'community'] as const) {
              const p = caller(zoneId, via);
              const d = decide(p, action, inZone(Z(home)), owner, op(risk, exposure));
              if (!d.allow) continue;
              allowed++;
              assert.ok((PUBLIC_ACTIONS as readonly string[]).includes(action), `${action} allowed to a public caller`);
              if (action === 'gateway.list') continue;
              assert.ok(Z(home).confidentiality <= Z('z:community').confidentiality, `${home} reached from the gateway`);
              assert.ok(exposure !== undefined, 'an unexposed operation');
              assert.notEqual(risk, 'dangerous');
              if (exposure === 'community') assert.equal(zoneId, 'z:community');
              if (risk === 'risky') assert.ok(Z(home).integrity <= p.zone.integrity);
            }
  assert.ok(allowed > 0);
});

test('authorization sweep: every action x principal kind x zone x path obeys the invariants', () => {
  const principals: Principal[] = [LOCAL_CONTROL, device([])];
  for (const id of ZONE_IDS) for (const path of PATHS) principals.push(device([id], path));
  for (const id of ZONE_IDS) principals.push(connector(id));
  for (const owns of [false, true]) principals.push(viewer({ login: 'alice@example.com' }, owns), viewer({ zones: ['z:owner'] }, owns), viewer({}, owns), viewer({ zones: [] }, owns));
  for (const via of ['funnel', 'tailnet'] as const) principals.push(caller('z:public', via), caller('z:community', via));
  let allowed = 0;
  let cases = 0;
  for (const selfZone of ZONE_IDS) {
    const ctx = { selfZones: [Z(selfZone)] };
    for (const p of principals) {
      for (const action of ACTIONS) {
        for (const zoneId of [null, ...ZONE_IDS]) {
          cases++;
          const zone = zoneId ? Z(zoneId) : null;
          const d = decide(p, action, zone ? inZone(zone) : NODE, ctx);
          if (!d.allow) {
            assert.ok(d.message.length > 0);
            continue;
          }
          allowed++;
          if (p.kind === 'local') assert.ok((LOCAL_ACTIONS as readonly string[]).includes(action), `${action} allowed to local`);
          else if (p.kind === 'connector') {
            assert.ok((CONNECTOR_ACTIONS as readonly string[]).includes(action), `${action} allowed to a connector`);
            if (zone && ACCESS[action] !== 'none') assert.equal(zone.id, p.zone.id, `connector ${p.zone.id} ${action} in ${zone.id}`);
          } else if (p.kind === 'public') {
            // Without an operation's facts nothing is exposed: a public caller only lists.
            assert.equal(action, 'gateway.list', `${action} allowed to a public caller`);
            continue;
          } else if (p.kind === 'viewer') {
            assert.ok((DASHBOARD_ACTIONS as readonly string[]).includes(action), `${action} allowed to a dashboard viewer`);
            if (action !== 'dashboard.view' && action !== 'dashboard.names') assert.ok(p.owner, `${action} allowed to a viewer who is not an owner`);
            if (action === 'dashboard.names' && !p.owner) assert.ok(zone && p.device && mayHold(p.device.zones, zone), `names of ${zone?.id} shown to ${p.login ?? p.device?.hostName}`);
            continue;
          } else {
            assert.ok((PEER_ACTIONS as readonly string[]).includes(action), `${action} allowed to a device`);
            assert.ok(p.zones.length > 0);
          }
          if (ACCESS[action] === 'none') continue;
          assert.ok(zone, `${action} allowed without a zone`);
          if (ACCESS[action] === 'vouch' && p.kind === 'device') {
            // A statement about the zone, not its data: the caller must be able to write the zone.
            assert.ok(p.zones[0]!.confidentiality >= zone.confidentiality && p.zones[0]!.integrity >= zone.integrity, `${p.hostName} vouches for ${zone.id}`);
            continue;
          }
          // This device never serves or takes data of a zone more confidential than its own.
          assert.ok(Z(selfZone).confidentiality >= zone.confidentiality, `${action} ${zone.id} on a ${selfZone} device`);
          if (p.kind === 'device') {
            const c = p.zones[0]!;
            assert.ok(c.confidentiality >= zone.confidentiality, `${p.hostName} ${action} ${zone.id}`);
            assert.notEqual(p.path, 'offline');
            if (zone.id === 'z:owner') assert.notEqual(p.path, 'derp', `${action} of owner data over DERP`);
            if (ACCESS[action] === 'write') assert.ok(c.integrity >= zone.integrity, `${p.hostName} writes ${zone.id}`);
          }
        }
      }
    }
  }
  assert.ok(allowed > 100 && allowed < cases, `${allowed} of ${cases} allowed`);
});

test('a removed device is denied every peer action, whatever its zone and path; others are not affected', () => {
  const removed = device(['z:owner']);
  const other = { ...device(['z:owner']), stableId: 'n-still-member' };
  const ctx = { selfZones: [Z('z:owner')], isRemoved: (id: string) => id === removed.stableId };
  for (const action of PEER_ACTIONS) {
    for (const zoneId of [null, ...ZONE_IDS]) {
      const d = decide(removed, action, zoneId ? inZone(Z(zoneId)) : NODE, ctx);
      assert.equal(d.allow, false, `${action} ${zoneId}`);
      if (!d.allow) assert.equal(d.reason, 'removed');
    }
  }
  assert.equal(decide(other, 'symbols.fetch', inZone(Z('z:owner')), ctx).allow, true);
  assert.equal(decide(LOCAL_CONTROL, 'admin.status', NODE, ctx).allow, true);
  const authz = new Authorizer({ selfZones: () => [Z('z:owner')], isRemoved: ctx.isRemoved });
  assert.throws(() => authz.authorize(removed, 'node.info', NODE), (e: AuthzError) => e.code === 'AUTHZ_DENIED' && e.reason === 'removed' && /removed/.test(e.message));
});

test('every decision, allow or deny, is one event; authorize throws AUTHZ_DENIED with the reason', () => {
  const events: DecisionEvent[] = [];
  const authz = new Authorizer({ selfZones: () => [Z('z:owner')], onDecision: (e) => events.push(e) });
  authz.authorize(device(['z:owner']), 'symbols.fetch', inZone(Z('z:owner')));
  assert.throws(
    () => authz.authorize(device(['z:owner'], 'derp'), 'symbols.fetch', inZone(Z('z:owner'))),
    (err: AuthzError) => err instanceof AuthzError && err.code === 'AUTHZ_DENIED' && err.reason === 'transport' && err.httpStatus === 403 && err.exitCode === 3,
  );
  assert.equal(events.length, 2);
  assert.deepEqual(
    events.map((e) => [e.action, e.zone, e.allow, e.reason]),
    [
      ['symbols.fetch', 'z:owner', true, undefined],
      ['symbols.fetch', 'z:owner', false, 'transport'],
    ],
  );
  assert.equal(events[1]!.principalId, 'n-z:owner');
});

test('a decision names its subject when the caller gives one (a secret, a connector operation)', () => {
  const events: DecisionEvent[] = [];
  const authz = new Authorizer({ selfZones: () => [Z('z:owner')], onDecision: (e) => events.push(e) });
  authz.authorize(LOCAL_CONTROL, 'secret.use', NODE, 'openai');
  assert.throws(() => authz.authorize(device(['z:owner']), 'secret.use', NODE, 'openai'), AuthzError);
  authz.check(LOCAL_CONTROL, 'admin.status', NODE);
  assert.deepEqual(events.map((e) => [e.action, e.subject, e.allow]), [['secret.use', 'openai', true], ['secret.use', 'openai', false], ['admin.status', undefined, true]]);
});
