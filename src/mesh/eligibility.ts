// Which devices to send a zone's symbols to and read them from. This is placement's choice, not
// a security check: every receiving device decides for itself through authorize(). The rules
// are the zone rules (zones/), so the choice agrees with what the receivers will accept.
import { COMMUNITY_CONFIDENTIALITY, mayConnect, mayHold, mayUsePeer, mayUseTransport, type Zone, type ZoneRegistry } from '../zones/index.js';
import { MeshError } from './errors.js';
import { LocalHolder, RemoteHolder, type Holder } from './holder.js';
import type { PeerDirectory, PeerInfo } from './peers.js';
import type { ConnectionPool } from './pool.js';

export class Eligibility {
  private readonly remotes = new Map<string, RemoteHolder>();

  constructor(
    private readonly zones: ZoneRegistry,
    private readonly directory: PeerDirectory,
    private readonly pool: ConnectionPool,
    readonly local: LocalHolder,
  ) {}

  zone(id: string): Zone {
    if (!this.zones.has(id)) throw new MeshError('MESH_REFUSED', `unknown zone ${id}`);
    return this.zones.get(id);
  }

  /** May `zone` data travel between this device and the peer now, and may we connect to it? */
  reachable(info: PeerInfo, zone: Zone): boolean {
    if (!info.peer.online || info.zones.length === 0 || info.peer.tailscaleIps.length === 0) return false;
    if (!mayHold(info.zones, zone) || !mayUsePeer(zone, info.peer)) return false;
    return this.directory.selfZones.some((a) => info.zones.some((b) => mayConnect(a, b)));
  }

  /** The zone's own devices must reach a holder through the generated ACLs, or they could not read back. */
  private zoneReaches(holderZones: Zone[], zone: Zone): boolean {
    // Devices of z:community and below have no tailnet way in or out (they are reached through
    // Funnel only): their data is read back by the devices that hold it, so any device that may
    // hold it, and that this device reaches, will do.
    if (zone.confidentiality <= COMMUNITY_CONFIDENTIALITY) return true;
    return holderZones.some((h) => mayConnect(zone, h));
  }

  private selfMayHold(zone: Zone): boolean {
    return mayHold(this.directory.selfZones, zone);
  }

  /**
   * Before traffic of a zone that may not cross a relay: peers that look relayed may just be
   * idle (tailscaled reports no CurAddr for idle direct peers), so their path is re-checked.
   */
  async confirmPaths(zone: Zone): Promise<void> {
    if (mayUseTransport(zone, 'derp')) return;
    const doubtful = this.directory.ranked((i) => i.peer.path === 'derp' && i.zones.length > 0 && mayHold(i.zones, zone));
    await Promise.all(doubtful.map((i) => this.directory.confirmPath(i.peer.stableId).catch(() => undefined)));
  }

  /** Devices that may hold `zone` symbols now: this device first (if eligible), then peers best first. */
  holdersFor(zone: Zone): Holder[] {
    const out: Holder[] = [];
    if (this.selfMayHold(zone) && this.zoneReaches(this.directory.selfZones, zone)) out.push(this.local);
    for (const info of this.directory.ranked((i) => this.reachable(i, zone) && this.zoneReaches(i.zones, zone))) out.push(this.remote(info));
    return out;
  }

  /** Devices to read `zone` symbols from: this device (if it may hold them), then reachable peers best first. */
  readersFor(zone: Zone): Holder[] {
    const out: Holder[] = this.selfMayHold(zone) ? [this.local] : [];
    for (const info of this.directory.ranked((i) => this.reachable(i, zone))) out.push(this.remote(info));
    return out;
  }

  /** Every online fcp peer (for finding a manifest whose zone is not known yet). */
  anyPeers(): Holder[] {
    return this.directory.ranked((i) => i.zones.length > 0 && i.peer.tailscaleIps.length > 0).map((i) => this.remote(i));
  }

  /** Could this device (online or not) hold `zone` symbols? Repair waits for such a device within its grace period. */
  couldHold(info: PeerInfo, zone: Zone): boolean {
    return mayHold(info.zones, zone);
  }

  /** Online peers that are members of exactly `zone` on a path its traffic may use (secret shares). */
  shareMembers(zone: Zone): PeerInfo[] {
    return this.directory.ranked((i) => i.zones.some((z) => z.id === zone.id) && mayUsePeer(zone, i.peer));
  }

  /** Online peers with an fcp zone. */
  members(): PeerInfo[] {
    return this.directory.ranked((i) => i.zones.length > 0);
  }

  private remote(info: PeerInfo): RemoteHolder {
    const address = info.peer.tailscaleIps[0]!;
    const known = this.remotes.get(info.peer.stableId);
    if (known && known.address === address && known.hostName === info.peer.hostName) return known;
    const fresh = new RemoteHolder(info.peer.stableId, info.peer.hostName, address, this.pool);
    this.remotes.set(info.peer.stableId, fresh);
    return fresh;
  }
}
