// Which decisions are quiet (recorder.ts): allowed requests of other devices that are the mesh's
// own traffic (symbols and manifests stored and served, listings, summaries, hub polls, and the
// witnessing of audit logs). They are logged like every decision; they only do not start a
// checkpoint of their own, so the witnessing and archiving of one device's checkpoint never
// makes the witnesses sign and send checkpoints back.
import type { Action, DecisionEvent } from '../authz/index.js';

const QUIET: ReadonlySet<Action> = new Set<Action>([
  'symbols.store',
  'symbols.fetch',
  'symbols.have',
  'manifest.put',
  'manifest.get',
  'object.list',
  'summary.read',
  'node.info',
  'ref.list',
  'tombstone.list',
  'hub.profile',
  'hub.lease',
  'hub.state-read',
  'audit.cosign',
  'audit.cosign-device',
  'audit.checkpoints',
  'audit.checkpoints-device',
]);

export function isQuietDecision(e: Pick<DecisionEvent, 'allow' | 'principalKind' | 'action'>): boolean {
  return e.allow && e.principalKind === 'device' && QUIET.has(e.action);
}
