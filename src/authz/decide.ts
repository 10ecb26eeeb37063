// The one decision: may this principal do this action on this resource, on this device?
// Pure: everything it depends on is passed in, so the table test can walk every case.
import { checkWrite, mayHold, mayUseTransport, type Zone } from '../zones/index.js';
import { ACCESS, changesState, isConnectorAction, isDashboardAction, isLocalAction, isPeerAction, type Action, type Resource } from './actions.js';
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
  | 'not-owner';

export type Decision = { allow: true } | { allow: false; reason: DenyReason; message: string };

export interface DecisionContext {
  /** Zones of this device (from its own tags). */
  selfZones: readonly Zone[];
  /** Devices removed from the mesh (`fcp device remove`): every request of theirs is denied. */
  isRemoved?: (stableId: string) => boolean;
}

const ALLOW: Decision = { allow: true };
const deny = (reason: DenyReason, message: string): Decision => ({ allow: false, reason, message });

export function decide(p: Principal, action: Action, r: Resource, ctx: DecisionContext): Decision {
  const access = ACCESS[action];
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
  if (access === 'vouch') return ALLOW;
  return selfMay(access === 'write' ? 'hold' : access, zone, ctx);
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
