// The daemon's own zone checks (the second layer, beside the generated ACLs): who may hold,
// read and write which zone's data, over which path, and which devices may hold a zone's symbols.
import { checkWrite, mayConnect, mayHold, mayUsePeer, type Zone, type ZoneRegistry } from '../zones/index.js';
import { MeshError } from './errors.js';
import type { MeshMetrics } from './metrics.js';
import type { PeerDirectory, PeerInfo } from './peers.js';
import type { Caller } from './server.js';

export class ZoneGuard {
  constructor(
    private readonly zones: ZoneRegistry,
    private readonly directory: PeerDirectory,
    private readonly metrics: MeshMetrics,
  ) {}

  zonesOf(ids: string[]): Zone[] {
    return ids.filter((id) => this.zones.has(id)).map((id) => this.zones.get(id));
  }

  zone(id: string): Zone {
    if (!this.zones.has(id)) throw new MeshError('MESH_REFUSED', `unknown zone ${id}`);
    return this.zones.get(id);
  }

  /** May `zone` data travel between this device and the peer now, and may we open a connection to it? */
  reachable(info: PeerInfo, zone: Zone): boolean {
    if (!info.peer.online || info.zones.length === 0) return false;
    if (!mayHold(info.zones, zone) || !mayUsePeer(zone, info.peer)) return false;
    return this.directory.selfZones.some((a) => info.zones.some((b) => mayConnect(a, b)));
  }

  /**
   * A device may hold `zone` symbols if, besides the zone rules, the zone's own devices can reach
   * it through the generated ACLs; otherwise the zone's members could not read back their data.
   */
  zoneReaches(holderZones: Zone[], zone: Zone): boolean {
    return holderZones.some((h) => mayConnect(zone, h));
  }

  eligibleHolder(info: PeerInfo, zone: Zone): boolean {
    return this.reachable(info, zone) && this.zoneReaches(info.zones, zone);
  }

  /** May this device hold (and so write) `zone` data itself? */
  selfMayHold(zone: Zone): boolean {
    return mayHold(this.directory.selfZones, zone);
  }

  selfMayWrite(zone: Zone): boolean {
    return this.selfMayHold(zone) && this.directory.selfZones.some((z) => checkWrite(z, zone).allowed);
  }

  /** Refuses a request about `zone` data from `caller` unless it may hold it and its path may carry it. */
  checkCaller(caller: Caller, zone: Zone, op: string): void {
    if (!mayHold(this.zonesOf(caller.zoneIds), zone)) {
      this.metrics.refusals.inc({ reason: 'zone' });
      throw new MeshError('MESH_REFUSED', `${caller.hostName} (${caller.zoneIds.join(', ')}) may not ${op} ${zone.id} data`);
    }
    const info = this.directory.byStableId(caller.stableId);
    if (!info || !mayUsePeer(zone, info.peer)) {
      this.metrics.refusals.inc({ reason: 'transport' });
      throw new MeshError('MESH_REFUSED', `${zone.id} data may not travel to or from ${caller.hostName} over its current path (${info?.peer.path ?? 'unknown'})`);
    }
  }

  checkWriter(caller: Caller, zone: Zone): void {
    this.checkCaller(caller, zone, 'write');
    if (!this.zonesOf(caller.zoneIds).some((z) => checkWrite(z, zone).allowed)) {
      this.metrics.refusals.inc({ reason: 'integrity' });
      throw new MeshError('MESH_REFUSED', `${caller.hostName} has too low an integrity level to write ${zone.id} data`);
    }
  }

  checkSelfHolds(zone: Zone, op = 'hold'): void {
    if (!this.selfMayHold(zone)) {
      this.metrics.refusals.inc({ reason: 'zone' });
      const own = this.directory.selfZones.map((z) => z.id).join(', ') || 'no zone';
      throw new MeshError('MESH_REFUSED', `this device (${own}) may not ${op} ${zone.id} data`);
    }
  }
}
