// Health of many objects at once from holders' summaries: one summary_digest per holder (and
// pages only where digests changed) instead of one `have` per object per holder. Objects that
// look short of their policy are left for the per-object path (inspectObject), which asks
// their holders directly; everything else is decided here.
import { objectIdToHex, type Manifest } from '../crypto/index.js';
import type { ZoneRegistry } from '../zones/index.js';
import type { Eligibility } from './eligibility.js';
import type { Holder } from './holder.js';
import { judgeHealth, type ObjectHealth } from './inspect.js';
import type { HolderMarks } from './marks.js';
import type { HolderViews, SummaryCache, ZoneView } from './summaries.js';

export interface SummaryVerdicts {
  /** Objects the summaries show meeting their policy, by hex id. */
  healthy: Map<string, ObjectHealth>;
  /** Objects to check one by one (they look short, or a summary was missing). */
  doubtful: Manifest[];
}

/** The holders of each zone of `manifests` and the zones to ask each holder about. */
export function holdersByZone(manifests: readonly Manifest[], pick: (zoneId: string) => Holder[]): { perZone: Map<string, Holder[]>; wants: Array<{ holder: Holder; zones: string[] }> } {
  const perZone = new Map<string, Holder[]>();
  const wants = new Map<string, { holder: Holder; zones: string[] }>();
  for (const zoneId of new Set(manifests.map((m) => m.zone))) {
    const holders = pick(zoneId);
    perZone.set(zoneId, holders);
    for (const h of holders) {
      const w = wants.get(h.stableId) ?? { holder: h, zones: [] };
      w.zones.push(zoneId);
      wants.set(h.stableId, w);
    }
  }
  return { perZone, wants: [...wants.values()] };
}

/** A holder's view of a zone; null when the holder could not be asked. An omitted zone holds nothing. */
export function zoneViewOf(views: Map<string, HolderViews>, holder: Holder, zoneId: string): ZoneView | null | undefined {
  const v = views.get(holder.stableId);
  if (!v || !v.ok) return null;
  return v.zones.get(zoneId);
}

/**
 * Health of each object as inspectObject would report it, for the objects the summaries show
 * healthy. A holder that cannot be asked counts as holding nothing (as an unreachable holder
 * does for inspectObject), so such objects only ever look worse, and go to the per-object path.
 */
export async function healthFromSummaries(manifests: readonly Manifest[], deps: { zones: ZoneRegistry; eligibility: Eligibility; marks: HolderMarks; summaries: SummaryCache }): Promise<SummaryVerdicts> {
  const known = manifests.filter((m) => deps.zones.has(m.zone));
  const { perZone, wants } = holdersByZone(known, (id) => deps.eligibility.readersFor(deps.zones.get(id)).filter((h) => !deps.marks.isDistrusted(h.stableId)));
  const views = await deps.summaries.refresh(wants);
  const healthy = new Map<string, ObjectHealth>();
  const doubtful: Manifest[] = [];
  for (const m of known) {
    const hex = objectIdToHex(m.objectId);
    const held = perZone.get(m.zone)!.map((h) => ({ hostName: h.hostName, counts: zoneViewOf(views, h, m.zone)?.counts(hex) ?? [] }));
    const verdict = judgeHealth(m, held);
    if (verdict.ok) healthy.set(hex, verdict);
    else doubtful.push(m);
  }
  return { healthy, doubtful };
}
