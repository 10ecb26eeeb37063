// The daemon's one Authorizer: decisions against this device's zones, each one an event (a debug
// log line now, the audit log later) and every refusal counted by reason.
import type { Logger } from 'pino';
import { Authorizer, type DecisionEvent, type TokenGate } from '../authz/index.js';
import type { MeshNode } from '../mesh/index.js';

export function createAuthorizer(node: Pick<MeshNode, 'directory' | 'metrics' | 'log' | 'removed'>, onDecision?: (e: DecisionEvent) => void, tokens?: TokenGate): Authorizer {
  const log: Logger = node.log;
  return new Authorizer({
    selfZones: () => node.directory.selfZones,
    isRemoved: (id) => node.removed.has(id),
    ...(tokens ? { tokens } : {}),
    onDecision: (e) => {
      if (!e.allow) {
        node.metrics.refusals.inc({ reason: e.reason ?? 'denied' });
        log.info({ authz: e }, 'request refused');
      } else log.debug({ authz: e }, 'request allowed');
      onDecision?.(e);
    },
  });
}
