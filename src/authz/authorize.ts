// The authorization point every front door's service calls. Each decision, allow or deny, goes
// out as a structured event (logged now; persisted by the audit log later).
import { FcpError } from '../errors/index.js';
import type { Action, OperationFacts, Resource } from './actions.js';
import { decide, type Decision, type DecisionContext, type DenyReason } from './decide.js';
import { describePrincipal, type Principal } from './principal.js';
import { TokenError } from './token.js';
import type { InvokeSubject, TokenGate } from './token-gate.js';

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
  /** The capability check of hub invokes (tokens), once the owner key exists. */
  tokens?: TokenGate;
  onDecision?: DecisionSink;
}

export class Authorizer {
  constructor(private readonly deps: AuthorizerDeps) {}

  /** The decision, emitted as an event; never throws. */
  check(principal: Principal, action: Action, resource: Resource, subject?: string, op?: OperationFacts): Decision {
    const d = decide(principal, action, resource, this.context(), op);
    this.emit(principal, action, resource, subject, d);
    return d;
  }

  private context(): DecisionContext {
    return { selfZones: this.deps.selfZones(), ...(this.deps.isRemoved ? { isRemoved: this.deps.isRemoved } : {}) };
  }

  private emit(principal: Principal, action: Action, resource: Resource, subject: string | undefined, d: Decision): void {
    this.deps.onDecision?.({
      at: Date.now(),
      principal: describePrincipal(principal),
      principalKind: principal.kind,
      ...(principal.kind === 'device' ? { principalId: principal.stableId } : principal.kind === 'connector' ? { principalId: principal.connectorId } : principal.kind === 'viewer' && principal.device ? { principalId: principal.device.stableId } : principal.kind === 'public' ? { principalId: principal.keyId ?? principal.device?.stableId ?? principal.source } : {}),
      action,
      ...(resource.kind === 'zone' ? { zone: resource.zone.id } : {}),
      ...(subject ? { subject: subject.slice(0, 512) } : {}),
      allow: d.allow,
      ...(d.allow ? {} : { reason: d.reason }),
    });
  }

  /**
   * The decision without an event: for filtering a listing whose request was itself authorized
   * (and recorded), so a public caller listing the gateway does not write an audit entry per
   * operation (which anyone on the internet could then make grow at will).
   */
  permits(principal: Principal, action: Action, resource: Resource, op?: OperationFacts): boolean {
    return decide(principal, action, resource, this.context(), op).allow;
  }

  /**
   * Whether the capability `p` presents grants `connector.operation` in a zone (what MCP
   * `tools/list` shows; the zone rules are `check`ed first, once per connector). No proof: listing
   * is not an invoke.
   */
  capabilityGrants(principal: Principal, resource: Resource, connector: string, operation: string): boolean {
    if (!this.deps.tokens?.enforcing || resource.kind !== 'zone') return true;
    return this.deps.tokens.grants(principal, connector, operation, resource.zone.id);
  }

  /**
   * Throws AuthzError (AUTHZ_DENIED) unless the zone rules allow; a hub invoke (`invoke` given)
   * then also needs its capability token (TokenError with its FCP_ERR_* code), once the owner key
   * exists.
   */
  authorize(principal: Principal, action: Action, resource: Resource, subject?: string, invoke?: InvokeSubject): void {
    const d = decide(principal, action, resource, this.context(), invoke);
    if (d.allow && action === 'hub.invoke' && this.deps.tokens?.enforcing) {
      try {
        if (!invoke || resource.kind !== 'zone') throw new TokenError('FCP_ERR_CAPABILITY_DENIED', 'an invoke names its connector, operation and zone');
        this.deps.tokens.require(principal, invoke, resource.zone.id);
      } catch (err) {
        this.emit(principal, action, resource, subject, { allow: false, reason: 'token', message: (err as Error).message });
        throw err;
      }
    }
    this.emit(principal, action, resource, subject, d);
    if (!d.allow) throw new AuthzError(d.message, d.reason);
  }
}
