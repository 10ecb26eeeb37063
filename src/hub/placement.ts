// Where a connector runs (FCP V2 §15.2 execution planner): the eligible online devices, the
// fittest first; among equally fit devices the one it was installed from (its home device, kept
// in the registry: a locality preference, as its files or local tools are usually there), then
// rendezvous (HRW) hashing of (connector id, device stable id). Pure: every device computes the
// same order from the same facts, a device joining takes only the connectors it wins, and one
// leaving moves only the connectors it ran.
import { createHash } from 'node:crypto';
import { mayHold, type Zone } from '../zones/index.js';
import type { DeviceProfile } from './profile.js';

/** What a connector's manifest asks of the device it runs on. */
export interface DeviceNeeds {
  alwaysOn?: boolean;
  interactive?: boolean;
  gpu?: boolean;
  /** Only the device with this profile name (or tailnet host name). */
  device?: string;
}

/** One device as placement sees it. */
export interface Candidate {
  stableId: string;
  hostName: string;
  /** Zones its tags give it. */
  zones: readonly Zone[];
  /** Its advertised profile; a device that has not told its profile is never chosen. */
  profile?: DeviceProfile;
}

/** Why a device cannot run a connector (for `fcp hub placement` and error messages). */
export type Ineligible = 'no-profile' | 'zone' | 'always-on' | 'interactive' | 'gpu' | 'device';

export function ineligibility(c: Candidate, homeZone: Zone, needs: DeviceNeeds): Ineligible | null {
  if (!c.profile) return 'no-profile';
  if (!mayHold(c.zones, homeZone)) return 'zone';
  if (needs.alwaysOn && !c.profile.alwaysOn) return 'always-on';
  if (needs.interactive && !c.profile.interactive) return 'interactive';
  if (needs.gpu && !c.profile.gpu) return 'gpu';
  if (needs.device !== undefined && needs.device !== c.profile.name && needs.device !== c.hostName) return 'device';
  return null;
}

/**
 * How well a device suits long-running work, from declared facts only: a measured figure like
 * free memory changes by the minute, and placement that followed it would move connectors about.
 * Always-on beats not; on mains power beats on battery.
 */
export function fitness(profile: DeviceProfile): number {
  return (profile.alwaysOn ? 2 : 0) + (profile.onBattery ? 0 : 1);
}

/** The rendezvous weight of a device for a connector: 64 bits of SHA-256 over both ids. */
export function hrwWeight(connectorId: string, stableId: string): bigint {
  const h = createHash('sha256').update(connectorId).update('\0').update(stableId).digest();
  return h.readBigUInt64BE(0);
}

/**
 * The eligible candidates, best first: fitness, then the home device (stable id, if given), then
 * HRW weight, then stable id.
 */
export function rank(connectorId: string, candidates: readonly Candidate[], homeZone: Zone, needs: DeviceNeeds, homeDevice?: string): Candidate[] {
  const scored = candidates
    .filter((c) => ineligibility(c, homeZone, needs) === null)
    .map((c) => ({ c, fit: fitness(c.profile!), home: c.stableId === homeDevice ? 1 : 0, w: hrwWeight(connectorId, c.stableId) }));
  scored.sort((a, b) => b.fit - a.fit || b.home - a.home || (a.w === b.w ? (a.c.stableId < b.c.stableId ? -1 : 1) : a.w > b.w ? -1 : 1));
  return scored.map((s) => s.c);
}

/** The device a connector runs on, or null when none is eligible. */
export function place(connectorId: string, candidates: readonly Candidate[], homeZone: Zone, needs: DeviceNeeds, homeDevice?: string): Candidate | null {
  return rank(connectorId, candidates, homeZone, needs, homeDevice)[0] ?? null;
}
