// Storage per zone and device (`fcp du`): one summary_digest per device carries its totals for
// every zone asked, so this costs one round trip per device, whatever the number of objects.
import type { Zone } from '../zones/index.js';
import type { Eligibility } from './eligibility.js';
import type { Holder } from './holder.js';

export interface DeviceZoneUsage {
  hostName: string;
  objects: number;
  symbols: number;
  bytes: number;
}

export interface MeshUsage {
  /** Per zone, what each device that answered holds of it (devices holding nothing left out). */
  zones: Array<{ zone: string; symbols: number; bytes: number; devices: DeviceZoneUsage[] }>;
  /** Per device, its totals over the zones asked. */
  devices: Array<{ hostName: string; symbols: number; bytes: number; zones: Record<string, { objects: number; symbols: number; bytes: number }> }>;
  /** Devices that could hold these zones but did not answer. */
  unreachable: string[];
}

export async function meshUsage(zones: readonly Zone[], eligibility: Pick<Eligibility, 'readersFor'>): Promise<MeshUsage> {
  const wants = new Map<string, { holder: Holder; zones: string[] }>();
  for (const z of zones) {
    for (const h of eligibility.readersFor(z)) {
      const w = wants.get(h.stableId) ?? { holder: h, zones: [] };
      w.zones.push(z.id);
      wants.set(h.stableId, w);
    }
  }
  const answers = await Promise.all(
    [...wants.values()].map(async ({ holder, zones: ids }) => {
      try {
        return { holder, digests: await holder.summaryDigests(ids) };
      } catch {
        return { holder, digests: null };
      }
    }),
  );
  const byHost = (a: { hostName: string }, b: { hostName: string }) => (a.hostName < b.hostName ? -1 : a.hostName > b.hostName ? 1 : 0);
  const out: MeshUsage = { zones: [], devices: [], unreachable: [] };
  for (const z of zones) {
    const devices: DeviceZoneUsage[] = [];
    for (const a of answers) {
      const d = a.digests?.find((x) => x.zone === z.id);
      if (d && d.symbols > 0) devices.push({ hostName: a.holder.hostName, objects: d.objects, symbols: d.symbols, bytes: d.bytes });
    }
    devices.sort(byHost);
    out.zones.push({ zone: z.id, symbols: devices.reduce((n, d) => n + d.symbols, 0), bytes: devices.reduce((n, d) => n + d.bytes, 0), devices });
  }
  for (const a of answers) {
    if (!a.digests) {
      out.unreachable.push(a.holder.hostName);
      continue;
    }
    const mine: MeshUsage['devices'][number] = { hostName: a.holder.hostName, symbols: 0, bytes: 0, zones: {} };
    for (const d of a.digests) {
      if (d.symbols === 0) continue;
      mine.zones[d.zone] = { objects: d.objects, symbols: d.symbols, bytes: d.bytes };
      mine.symbols += d.symbols;
      mine.bytes += d.bytes;
    }
    out.devices.push(mine);
  }
  out.devices.sort(byHost);
  out.unreachable.sort();
  return out;
}
