// HubService's stores backed by the hub across devices: the installed connectors are the zones'
// registries in the mesh (so an install on one device is seen by all), and connector state is
// the fenced state of the device holding the connector's lease.
import type { ConnectorPrincipal } from '../authz/index.js';
import type { ConnectorStateStore, InstalledStore } from '../services/index.js';
import type { ConnectorManifest } from './manifest.js';
import type { MeshHub } from './mesh-hub.js';

export class MeshHubInstalledStore implements InstalledStore<ConnectorManifest> {
  constructor(private readonly hub: MeshHub) {}
  load(): Promise<ConnectorManifest[]> {
    return this.hub.loadInstalled();
  }
  save(all: ConnectorManifest[]): Promise<void> {
    return this.hub.saveInstalled(all);
  }
  watch(onChange: (all: ConnectorManifest[]) => void): void {
    this.hub.onInstalledChange(onChange);
  }
}

export class MeshHubStateStore implements ConnectorStateStore {
  constructor(private readonly hub: MeshHub) {}
  async get(p: ConnectorPrincipal): Promise<{ value: unknown; seq: number }> {
    return (await this.hub.hostState(p.connectorId, 'host/state.get', {})) as { value: unknown; seq: number };
  }
  async put(p: ConnectorPrincipal, value: unknown): Promise<{ seq: number }> {
    return (await this.hub.hostState(p.connectorId, 'host/state.put', { value })) as { seq: number };
  }
}
