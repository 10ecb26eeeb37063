// The hub registry: which connectors are installed, one signed record per zone (FCP V2 §10.4
// style: a mesh object in that zone, its head committed to a majority of the zone's devices).
// Every device of the zone reads it, so each computes the same placement.
import { loadManifest, type ConnectorManifest } from './manifest.js';
import { HubMeshError } from './mesh-errors.js';
import type { DeviceNeeds } from './placement.js';

export interface RegistryBody {
  connectors: ConnectorManifest[];
}

/** The registry record's body from untrusted JSON: every manifest checked again. */
export function registryFromJson(body: unknown): RegistryBody {
  const b = body as { connectors?: unknown } | null;
  if (!b || !Array.isArray(b.connectors)) throw new HubMeshError('HUB_STATE_DAMAGED', 'registry record has no connector list');
  return { connectors: b.connectors.map((m) => loadManifest(m).manifest) };
}

/** The registry with `manifest` added (or replacing the same id). */
export function withConnector(reg: RegistryBody, manifest: ConnectorManifest): RegistryBody {
  return { connectors: [...reg.connectors.filter((c) => c.id !== manifest.id), manifest].sort((a, b) => (a.id < b.id ? -1 : 1)) };
}

export function withoutConnector(reg: RegistryBody, id: string): RegistryBody {
  if (!reg.connectors.some((c) => c.id === id)) throw new HubMeshError('HUB_UNKNOWN_CONNECTOR', `no connector ${id} is installed`);
  return { connectors: reg.connectors.filter((c) => c.id !== id) };
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
