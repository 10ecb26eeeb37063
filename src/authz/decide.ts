// The one decision: may this principal do this action on this resource, on this device?
// Pure: everything it depends on is passed in, so the table test can walk every case.
import { checkWrite, COMMUNITY_INTEGRITY, mayHold, mayUseTransport, type Zone } from '../zones/index.js';
import { ACCESS, changesState, isConnectorAction, isDashboardAction, isLocalAction, isPeerAction, isPublicAction, OWN_RECORD_ACTIONS, type Action, type OperationFacts, type Resource } from './actions.js';
import type { Principal } from './principal.js';

/** Why a request was refused; stable, used in metrics and audit events. */
export type DenyReason =
  | 'not-a-peer-action'
  | 'not-a-local-action'
  | 'no-zone'
  | 'caller-zone'
  | 'transport'
  | 'integrity'
  | 'self-zone'
  | 'needs-zone'
  | 'not-a-connector-action'
  | 'connector-zone'
  | 'removed'
  | 'token'
  | 'not-a-dashboard-action'
  | 'unidentified'
  | 'not-owner'
  | 'not-a-public-action'
  | 'not-exposed'
  | 'community-only'
  | 'taint'
  | 'not-own-record';

export type Decision = { allow: true } | { allow: false; reason: DenyReason; message: string };

export interface DecisionContext {
  /** Zones of this device (from its own tags). */
  selfZones: readonly Zone[];
  /** Devices removed from the mesh (`fcp device remove`): every request of theirs is denied. */
  isRemoved?: (stableId: string) => boolean;
}

const ALLOW: Decision = { allow: true };
const deny = (reason: DenyReason, message: string): Decision => ({ allow: false, reason, message });

/** `op`: the operation an invoke names, from its manifest (public callers need its exposure). */
export function decide(p: Principal, action: Action, r: Resource, ctx: DecisionContext, op?: OperationFacts): Decision {
  const access = ACCESS[action];
  if (p.kind === 'public') {
    if (!isPublicAction(action)) return deny('not-a-public-action', `a public caller may not ask ${action}`);
    if (access === 'none') return ALLOW;
    if (r.kind !== 'zone') return deny('needs-zone', `${action} needs a zone`);
    return publicMay(p.zone, r.zone, op);
  }
  if (isPublicAction(action)) return deny('not-a-public-action', `${action} is asked through the public gateway only`);
  if (p.kind === 'connector') {
    if (!isConnectorAction(action)) return deny('not-a-connector-action', `connector ${p.connectorId} may not ask ${action}`);
    if (access === 'none') return ALLOW;
    if (r.kind !== 'zone') return deny('needs-zone', `${action} needs a zone`);
    if (r.zone.id !== p.zone.id) return deny('connector-zone', `connector ${p.connectorId} acts in ${p.zone.id} only, not in ${r.zone.id}`);
    return selfMay(access === 'vouch' ? 'write' : access, r.zone, ctx);
  }
  if (p.kind === 'viewer') {
    if (!isDashboardAction(action)) return deny('not-a-dashboard-action', `a dashboard viewer may not ask ${action}`);
    // Someone serve could not name (no login, a forwarded address whois does not know) sees nothing.
    if (p.login === null && p.device === null) return deny('unidentified', 'the dashboard viewer is not identified by tailscale serve');
    if (p.login === null && p.device !== null && p.device.zones.length === 0) return deny('no-zone', `${p.device.hostName} has no fcp zone`);
    if (changesState(action) && !p.owner) return deny('not-owner', `${action} is for the owner's login or an owner device, not ${p.login ?? p.device!.hostName}`);
    if (access === 'none' || p.owner) return ALLOW;
    // A zone's contents (its names): only a viewer whose device may read the zone.
    if (r.kind !== 'zone') return deny('needs-zone', `${action} needs a zone`);
    if (!p.device || !mayHold(p.device.zones, r.zone)) return deny('caller-zone', `${p.login ?? p.device?.hostName ?? 'this viewer'} may not see ${r.zone.id} names`);
    return ALLOW;
  }
  if (isDashboardAction(action)) return deny('not-a-dashboard-action', `${action} is asked by dashboard viewers only`);
  if (p.kind === 'local') {
    if (!isLocalAction(action)) return deny('not-a-peer-action', `${action} is asked by peer devices, not by the local user`);
    if (access === 'none') return ALLOW;
    if (r.kind !== 'zone') return deny('needs-zone', `${action} needs a zone`);
    return selfMay(access === 'vouch' ? 'write' : access, r.zone, ctx);
  }
  // A tailnet device.
  if (ctx.isRemoved?.(p.stableId)) return deny('removed', `${p.hostName} was removed from this mesh; its requests are refused`);
  if (!isPeerAction(action)) return deny('not-a-local-action', `${action} is only for the local user of ${'this device'}, not for ${p.hostName}`);
  if (p.zones.length === 0) return deny('no-zone', `${p.hostName} has no fcp zone`);
  if (access === 'none') return ALLOW;
  if (r.kind !== 'zone') return deny('needs-zone', `${action} needs a zone`);
  const zone = r.zone;
  const callerHolds = access === 'share' ? p.zones.some((z) => z.id === zone.id) : mayHold(p.zones, zone);
  if (!callerHolds) {
    return deny('caller-zone', `${p.hostName} (${p.zones.map((z) => z.id).join(', ')}) may not ${access} ${zone.id} data`);
  }
  if (p.path === 'offline' || !mayUseTransport(zone, p.path)) {
    return deny('transport', `${zone.id} data may not travel to or from ${p.hostName} over its current path (${p.path})`);
  }
  if ((access === 'write' || access === 'vouch') && !p.zones.some((z) => checkWrite(z, zone).allowed)) {
    return deny('integrity', `${p.hostName} has too low an integrity level to write ${zone.id} data`);
  }
  // A head or tombstone speaks for one device: only that device pushes it (its signature is
  // checked after this decision; a push naming no device, or another one, is refused here).
  if (OWN_RECORD_ACTIONS.has(action) && r.author !== p.stableId) {
    return deny('not-own-record', r.author === undefined ? `${action} names the device the record speaks for` : `${p.hostName} may push its own records only, not ${r.author}'s`);
  }
  if (access === 'vouch') return ALLOW;
  // An invoke this device's gateway relays for a public caller: the public rules hold here too.
  if (p.relayedFor && action === 'hub.invoke') {
    const d = publicMay(p.relayedFor.zone, zone, op);
    if (!d.allow) return d;
  }
  return selfMay(access === 'write' ? 'hold' : access, zone, ctx);
}

/**
 * May a public caller (its zone z:public or z:community) invoke `op` of a connector whose home
 * zone is `home`? Only what the manifest exposes, only connectors Funnel may carry (z:community
 * and below), and never what public input may not drive (FCP V2 §6.2): a dangerous operation,
 * or a risky one in a zone of higher integrity than the caller's (that would need elevation,
 * which the gateway never grants).
 */
function publicMay(caller: Zone, home: Zone, op: OperationFacts | undefined): Decision {
  if (!mayUseTransport(home, 'funnel')) return deny('transport', `${home.id} connectors are not reachable through the public gateway (it carries z:community and below)`);
  if (!op) return deny('not-exposed', 'a public invoke names its connector and operation');
  const name = `${op.connector}.${op.operation}`;
  if (!op.exposure) return deny('not-exposed', `${name} is not exposed to public callers`);
  if (op.exposure === 'community' && caller.integrity < COMMUNITY_INTEGRITY) return deny('community-only', `${name} is for community callers: send a community key in X-FCP-API-Key`);
  if (op.risk === 'dangerous') return deny('taint', `${name} is dangerous: public input may not drive it`);
  if (op.risk === 'risky' && home.integrity > caller.integrity) return deny('taint', `${name} is risky in ${home.id}, of higher integrity than ${caller.id} input: that needs an elevation the gateway never grants`);
  return ALLOW;
}

/** What this device itself may do with a zone's data: hold it, or write new objects into it. */
function selfMay(access: 'read' | 'write' | 'share' | 'hold', zone: Zone, ctx: DecisionContext): Decision {
  const own = ctx.selfZones.map((z) => z.id).join(', ') || 'no zone';
  const holds = access === 'share' ? ctx.selfZones.some((z) => z.id === zone.id) : mayHold(ctx.selfZones, zone);
  if (!holds) return deny('self-zone', `this device (${own}) may not hold ${zone.id} data`);
  if (access === 'write' && !ctx.selfZones.some((z) => checkWrite(z, zone).allowed)) {
    return deny('self-zone', `this device (${own}) may not write ${zone.id} data`);
  }
  return ALLOW;
}
