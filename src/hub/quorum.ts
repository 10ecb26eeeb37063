// The devices of a zone as one quorum: who they are (every device that may hold the zone, online
// or not, so a majority is counted over all of them and two partitions never both have one),
// and rounds of requests to all of them: lease requests, reading the newest head, committing a
// head to a majority. This device answers itself without the network.
import type { DevicePrincipal } from '../authz/index.js';
import { MeshError, type MeshNode, type Outgoing } from '../mesh/index.js';
import type { Message } from '../wire/index.js';
import { mayHold, mayUsePeer, type Zone } from '../zones/index.js';
import { majorityOf, type ClaimTransport, type LeaseReply, type LeaseRequest } from './lease.js';
import { HubMeshError } from './mesh-errors.js';
import { remoteError } from './router.js';
import { newestHead, type Head } from './state.js';

export interface QuorumDeps {
  node: Pick<MeshNode, 'self' | 'directory' | 'call'>;
  /** This device's own answer to a hub request (the peer door, asked as itself). */
  serveSelf: (p: DevicePrincipal, msg: Message) => Promise<Outgoing | null>;
  /** How long one grantor may take to answer (ms). */
  timeoutMs: number;
  now: () => number;
}

export class ZoneQuorum {
  constructor(private readonly deps: QuorumDeps) {}

  private get selfId(): string {
    return this.deps.node.self.stableId;
  }

  /** Every device that may hold the zone, online or not, this one included when it may. */
  devices(zone: Zone): string[] {
    const ids = this.deps.node.directory
      .all()
      .filter((i) => mayHold(i.zones, zone))
      .map((i) => i.peer.stableId);
    if (mayHold(this.deps.node.directory.selfZones, zone)) ids.push(this.selfId);
    return ids.sort();
  }

  private selfPrincipal(): DevicePrincipal {
    const n = this.deps.node;
    return { kind: 'device', stableId: n.self.stableId, hostName: n.self.hostName, address: n.self.address, tags: n.directory.self.tags, zones: n.directory.selfZones, path: 'direct' };
  }

  /**
   * One request to a device of `zone`: this device answers itself; a peer that is offline or
   * whose path may not carry the zone's traffic is not asked at all (it would refuse).
   */
  async ask(stableId: string, msg: Outgoing, zone: Zone): Promise<Message> {
    if (stableId === this.selfId) {
      const reply = await this.deps.serveSelf(this.selfPrincipal(), { v: 1, id: 0, ...msg } as Message);
      if (!reply) throw new HubMeshError('HUB_BAD_INVOKE', `${msg.t} is not a hub message`);
      return { v: 1, id: 0, ...reply } as Message;
    }
    const info = this.deps.node.directory.byStableId(stableId);
    if (!info || !info.peer.online || !mayUsePeer(zone, info.peer)) throw new HubMeshError('HUB_TOO_FEW_DEVICES', `${stableId} cannot be asked about ${zone.id} now`);
    return this.deps.node.call(stableId, msg, this.deps.timeoutMs);
  }

  /** What a LeaseClaim of a connector in `zone` sends its rounds through. */
  claimTransport(zone: Zone): ClaimTransport {
    return {
      self: this.selfId,
      grantors: () => this.devices(zone),
      now: this.deps.now,
      ask: async (g: string, req: LeaseRequest): Promise<LeaseReply> => {
        const r = await this.ask(g, { t: 'lease', subject: req.subject, zone: zone.id, op: req.op, seq: req.seq, durationMs: req.durationMs }, zone);
        if (r.t !== 'lease_result') throw new MeshError('MESH_PEER_ERROR', `lease answered with ${r.t}`);
        return { granted: r.granted, ...(r.holder !== undefined ? { holder: r.holder } : {}), seq: r.seq, remainingMs: r.remainingMs };
      },
    };
  }

  /** The newest head of a key among the zone's devices; null when fewer than a majority answered. */
  async readHead(zone: Zone, key: string): Promise<Head | undefined | null> {
    const devices = this.devices(zone);
    const answers: Array<Head | undefined> = [];
    await Promise.all(
      devices.map(async (g) => {
        try {
          const r = await this.ask(g, { t: 'head_get', key, zone: zone.id }, zone);
          if (r.t === 'head_result') answers.push(r.head);
        } catch {
          // unanswered
        }
      }),
    );
    if (answers.length < majorityOf(devices.length)) return null;
    return newestHead(answers);
  }

  /**
   * Commits a head to a majority of the zone's devices. A majority that took it is enough: a
   * stale refusal from a minority is a grantor that saw a claim which never got its majority, and
   * since two majorities always share a device, a write under a superseded lease never gets one.
   * Short of a majority: HUB_LEASE_STALE if a device said so, else HUB_HEAD_CONFLICT or
   * HUB_TOO_FEW_DEVICES.
   */
  async commitHead(zone: Zone, key: string, head: Head): Promise<void> {
    const devices = this.devices(zone);
    let ok = 0;
    let stale: Error | null = null;
    let conflict: Error | null = null;
    await Promise.all(
      devices.map(async (g) => {
        try {
          await this.ask(g, { t: 'head_commit', key, zone: zone.id, head }, zone);
          ok++;
        } catch (err) {
          const e = remoteError(err) as Error & { code?: string };
          if (e.code === 'HUB_LEASE_STALE') stale = e;
          if (e.code === 'HUB_HEAD_CONFLICT') conflict = e;
        }
      }),
    );
    if (ok >= majorityOf(devices.length)) return;
    if (stale) throw stale;
    if (conflict) throw conflict;
    throw new HubMeshError('HUB_TOO_FEW_DEVICES', `${key}: only ${ok} of ${devices.length} devices of ${zone.id} took the write (need ${majorityOf(devices.length)})`);
  }
}
