// Health of many objects at once from holders' summaries: one summary_digest per holder (and
// pages only where digests changed) instead of one `have` per object per holder. Objects that
// look short of their policy are left for the per-object path (inspectObject), which asks
// their holders directly; everything else is decided here.
import { objectIdToHex, type Manifest } from '../crypto/index.js';
import type { ZoneRegistry } from '../zones/index.js';
import type { Eligibility } from './eligibility.js';
import type { Holder } from './holder.js';
import { healthOf, verdictOf, type ObjectHealth } from './inspect.js';
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

/** What the summaries show of each object of a listing, in the listing's order. */
export interface SummaryJudgement {
  /** Hex id of each manifest. */
  hex: string[];
  /** Whether the summaries show it meeting its policy (false: to be asked about one by one). */
  ok: boolean[];
  /** Its spare symbols by the summaries (meaningful where ok). */
  spare: number[];
  /** Indexes of the objects that are not ok. */
  doubtful: number[];
  /** The ObjectHealth of an object shown ok, built on demand (a fresh object on each call). */
  health(i: number): ObjectHealth;
}

/**
 * The verdict of the summaries on every manifest (manifests of zones not in the registry must
 * be left out by the caller). A holder that cannot be asked counts as holding nothing (as an
 * unreachable holder does for inspectObject), so such objects only ever look worse, and go to
 * the per-object path. Nothing is built per object but its hex id and verdict: the ObjectHealth
 * of each is made when asked for, so a long listing can be written out piece by piece.
 */
export async function judgeFromSummaries(manifests: readonly Manifest[], deps: { zones: ZoneRegistry; eligibility: Eligibility; marks: HolderMarks; summaries: SummaryCache }): Promise<SummaryJudgement> {
  const { perZone, wants } = holdersByZone(manifests, (id) => deps.eligibility.readersFor(deps.zones.get(id)).filter((h) => !deps.marks.isDistrusted(h.stableId)));
  const views = await deps.summaries.refresh(wants);
  // Per zone, once: each holder's host name and view (null: holds nothing that can be counted).
  const zoneHolders = new Map<string, Array<{ hostName: string; view: ZoneView | null }>>();
  for (const [zoneId, holders] of perZone) zoneHolders.set(zoneId, holders.map((h) => ({ hostName: h.hostName, view: zoneViewOf(views, h, zoneId) ?? null })));
  const none: readonly number[] = [];
  const heldOf = (m: Manifest, hex: string) => zoneHolders.get(m.zone)!.map((h) => ({ hostName: h.hostName, counts: h.view?.counts(hex) ?? none }));
  const n = manifests.length;
  const hex = new Array<string>(n);
  const ok = new Array<boolean>(n);
  const spare = new Array<number>(n);
  const doubtful: number[] = [];
  for (let i = 0; i < n; i++) {
    const m = manifests[i]!;
    const id = objectIdToHex(m.objectId);
    hex[i] = id;
    const v = verdictOf(m, heldOf(m, id));
    ok[i] = v.ok;
    spare[i] = v.spare;
    if (!v.ok) doubtful.push(i);
  }
  return {
    hex,
    ok,
    spare,
    doubtful,
    health: (i) => {
      const m = manifests[i]!;
      return healthOf(m, hex[i]!, heldOf(m, hex[i]!), ok[i]!, spare[i]!);
    },
  };
}

/**
 * Health of each object as inspectObject would report it, for the objects the summaries show
 * healthy. A holder that cannot be asked counts as holding nothing (as an unreachable holder
 * does for inspectObject), so such objects only ever look worse, and go to the per-object path.
 */
export async function healthFromSummaries(manifests: readonly Manifest[], deps: { zones: ZoneRegistry; eligibility: Eligibility; marks: HolderMarks; summaries: SummaryCache }): Promise<SummaryVerdicts> {
  const known = manifests.filter((m) => deps.zones.has(m.zone));
  const j = await judgeFromSummaries(known, deps);
  const healthy = new Map<string, ObjectHealth>();
  const doubtful: Manifest[] = [];
  for (let i = 0; i < known.length; i++) {
    if (j.ok[i]) healthy.set(j.hex[i]!, j.health(i));
    else doubtful.push(known[i]!);
  }
  return { healthy, doubtful };
}
