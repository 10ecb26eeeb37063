// The hub registry: which connectors are installed, one signed record per zone (FCP V2 §10.4
// style: a mesh object in that zone, its head committed to a majority of the zone's devices).
// Every device of the zone reads it, so each computes the same placement.
import { loadManifest, type ConnectorManifest } from './manifest.js';
import { HubMeshError } from './mesh-errors.js';
import type { DeviceNeeds } from './placement.js';

export interface RegistryBody {
  connectors: ConnectorManifest[];
  /** The device (stable id) each connector was installed from: placement's tiebreak. */
  homes?: Record<string, string>;
}

/** The registry record's body from untrusted JSON: every manifest checked again. */
export function registryFromJson(body: unknown): RegistryBody {
  const b = body as { connectors?: unknown; homes?: unknown } | null;
  if (!b || !Array.isArray(b.connectors)) throw new HubMeshError('HUB_STATE_DAMAGED', 'registry record has no connector list');
  const homes: Record<string, string> = {};
  if (b.homes !== undefined) {
    if (typeof b.homes !== 'object' || b.homes === null || Array.isArray(b.homes)) throw new HubMeshError('HUB_STATE_DAMAGED', 'registry homes must be a map');
    for (const [id, home] of Object.entries(b.homes)) if (typeof home === 'string') homes[id] = home;
  }
  return { connectors: b.connectors.map((m) => loadManifest(m).manifest), homes };
}

/** The registry with `manifest` added (or replacing the same id). */
/** The registry with `manifest` added (or replacing the same id); a new one's home is `home`. */
export function withConnector(reg: RegistryBody, manifest: ConnectorManifest, home: string): RegistryBody {
  const homes = { ...(reg.homes ?? {}) };
  homes[manifest.id] ??= home;
  return { connectors: [...reg.connectors.filter((c) => c.id !== manifest.id), manifest].sort((a, b) => (a.id < b.id ? -1 : 1)), homes };
}

export function withoutConnector(reg: RegistryBody, id: string): RegistryBody {
  if (!reg.connectors.some((c) => c.id === id)) throw new HubMeshError('HUB_UNKNOWN_CONNECTOR', `no connector ${id} is installed`);
  const homes = { ...(reg.homes ?? {}) };
  delete homes[id];
  return { connectors: reg.connectors.filter((c) => c.id !== id), homes };
}

/** The registry holding exactly `want` (HubService's list for one zone); new ones get `home`. */
export function withExactly(reg: RegistryBody, want: ConnectorManifest[], home: string): RegistryBody {
  const homes: Record<string, string> = {};
  for (const m of want) homes[m.id] = reg.homes?.[m.id] ?? home;
  return { connectors: [...want].sort((a, b) => (a.id < b.id ? -1 : 1)), homes };
}

/** The manifest's placement section in placement's terms. */
export function needsOf(m: ConnectorManifest): DeviceNeeds {
  const p = m.placement ?? {};
  return {
    ...(p.always_on ? { alwaysOn: true } : {}),
    ...(p.interactive ? { interactive: true } : {}),
    ...(p.gpu ? { gpu: true } : {}),
    ...(p.device !== undefined ? { device: p.device } : {}),
  };
}
