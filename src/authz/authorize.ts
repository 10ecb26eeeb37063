// The authorization point every front door's service calls. Each decision, allow or deny, goes
// out as a structured event (logged now; persisted by the audit log later).
import { FcpError } from '../errors/index.js';
import type { Action, Resource } from './actions.js';
import { decide, type Decision, type DecisionContext, type DenyReason } from './decide.js';
import { describePrincipal, type Principal } from './principal.js';

export class AuthzError extends FcpError {
  constructor(
    message: string,
    readonly reason: DenyReason,
  ) {
    super('AUTHZ_DENIED', message);
  }
}

export interface DecisionEvent {
  at: number;
  principal: string;
  principalKind: Principal['kind'];
  /** The device's stable id for device principals, the connector id for connectors. */
  principalId?: string;
  action: Action;
  zone?: string;
  /** What the request is about, where the caller names it (a secret, a connector operation). */
  subject?: string;
  allow: boolean;
  reason?: DenyReason;
}

export type DecisionSink = (e: DecisionEvent) => void;

export interface AuthorizerDeps {
  /** This device's zones now (they come from its tags and may change). */
  selfZones: () => DecisionContext['selfZones'];
  /** Devices removed from the mesh (their requests are denied). */
  isRemoved?: (stableId: string) => boolean;
  onDecision?: DecisionSink;
}

export class Authorizer {
  constructor(private readonly deps: AuthorizerDeps) {}

  /** The decision, emitted as an event; never throws. */
  check(principal: Principal, action: Action, resource: Resource, subject?: string): Decision {
    const d = decide(principal, action, resource, { selfZones: this.deps.selfZones(), ...(this.deps.isRemoved ? { isRemoved: this.deps.isRemoved } : {}) });
    this.deps.onDecision?.({
      at: Date.now(),
      principal: describePrincipal(principal),
      principalKind: principal.kind,
      ...(principal.kind === 'device' ? { principalId: principal.stableId } : principal.kind === 'connector' ? { principalId: principal.connectorId } : principal.kind === 'viewer' && principal.device ? { principalId: principal.device.stableId } : {}),
      action,
      ...(resource.kind === 'zone' ? { zone: resource.zone.id } : {}),
      ...(subject ? { subject: subject.slice(0, 512) } : {}),
      allow: d.allow,
      ...(d.allow ? {} : { reason: d.reason }),
    });
    return d;
  }

  /** Throws AuthzError (AUTHZ_DENIED) unless allowed. */
  authorize(principal: Principal, action: Action, resource: Resource, subject?: string): void {
    const d = this.check(principal, action, resource, subject);
    if (!d.allow) throw new AuthzError(d.message, d.reason);
  }
}
