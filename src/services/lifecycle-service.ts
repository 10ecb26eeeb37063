// The device lifecycle: removing a device from the mesh and rotating zone keys, for the local user
// (`fcp device remove`, `fcp zone rotate`) and for peers (removals and new key epochs spread
// between members, and pulled by a member that was away). Every method authorizes first.
import { timingSafeEqual } from 'node:crypto';
import { closest, distance } from 'fastest-levenshtein';
import { bytesEqual, openSealed, parseZoneKey, sealTo, serializeZoneKey, zoneKeyRequestProof, type ZoneKey } from '../crypto/index.js';
import { grantBindsDevice, inZone, NODE, type Authorizer, type DevicePrincipal, type OwnerAuthority, type Principal } from '../authz/index.js';
import type { AuditSink } from '../audit/index.js';
import { DeviceError, expectReply, keyFingerprint, MeshError, type MeshNode, type PeerInfo, type Removal } from '../mesh/index.js';
import { mayHold, type Zone } from '../zones/index.js';
import { devicePrincipal } from './device-principal.js';
import { requireZone } from './zone-lookup.js';

/** Associated data binding a sealed zone key epoch to the device it was sealed for. */
export function zoneKeyAad(stableId: string): Uint8Array {
  return new TextEncoder().encode(`fcp-zone-key:${stableId}`);
}

type NodeParts = Pick<MeshNode, 'self' | 'directory' | 'zones' | 'keyring' | 'removed' | 'resealer' | 'removeDevices' | 'call' | 'boxKeyOf' | 'log' | 'repair' | 'signers'>;

/** What `fcp device trust` shows before it asks: the key pinned for the device and the one it presents now. */
export interface TrustPlan {
  stableId: string;
  hostName: string;
  zones: string[];
  /** Fingerprint of the key pinned here (null: none pinned yet). */
  pinned: string | null;
  /** Fingerprint of the key the device itself presents now (FCP `info`). */
  presented: string;
  /** The device presents the key already pinned: nothing to change. */
  same: boolean;
}

export interface TrustResult extends TrustPlan {
  /** False when the key presented was pinned already. */
  changed: boolean;
}

export interface Delivery {
  /** Members told now. */
  told: string[];
  /** Members that could not be told (offline, or no fcpd): they learn it when they ask. */
  notReached: string[];
}

export interface RotateResult extends Delivery {
  zone: string;
  epoch: number;
}

export interface RemoveResult extends Delivery {
  removed: Removal;
  /** False when the device was already removed (nothing changed). */
  changed: boolean;
  /** Zones whose key moved to a new epoch because the device held them. */
  rotated: RotateResult[];
}

/** A device as the local user may name it: host name, MagicDNS name (with or without the tailnet), or stable id. */
interface Candidate {
  stableId: string;
  hostName: string;
  names: string[];
  zones: Zone[];
}

export class LifecycleService {
  constructor(
    private readonly node: NodeParts,
    private readonly authz: Authorizer,
  ) {
    node.resealer.membersDone = (zone, epoch) => this.membersDone(zone, epoch);
  }

  // ---- the local user ----

  /** The device `name` names, or DEVICE_NOT_FOUND with a "did you mean". */
  private resolve(name: string): Candidate {
    const wanted = name.trim().toLowerCase().replace(/\.$/, '');
    const candidates: Candidate[] = this.node.directory.all().map((i) => ({
      stableId: i.peer.stableId,
      hostName: i.peer.hostName,
      names: [i.peer.hostName, i.peer.dnsName.replace(/\.$/, ''), i.peer.dnsName.split('.')[0] ?? '', i.peer.stableId].filter(Boolean).map((n) => n.toLowerCase()),
      zones: i.zones,
    }));
    const self = this.node.self;
    candidates.push({ stableId: self.stableId, hostName: self.hostName, names: [self.hostName.toLowerCase(), self.stableId.toLowerCase()], zones: this.node.directory.selfZones });
    for (const r of this.node.removed.list()) {
      candidates.push({ stableId: r.stableId, hostName: r.hostName, names: [r.hostName.toLowerCase(), r.stableId.toLowerCase()], zones: r.zones.filter((z) => this.node.zones.has(z)).map((z) => this.node.zones.get(z)) });
    }
    const hit = candidates.find((c) => c.names.includes(wanted));
    if (hit) return hit;
    const known = [...new Set(candidates.filter((c) => c.stableId !== self.stableId).map((c) => c.hostName))].sort();
    const best = known.length ? closest(wanted, known) : null;
    const hint = best && distance(wanted, best.toLowerCase()) <= Math.max(2, Math.floor(best.length / 3)) ? `; did you mean ${best}?` : '';
    throw new DeviceError('DEVICE_NOT_FOUND', `no device named "${name}" in this tailnet${hint} Devices: ${known.join(', ') || 'none'}`);
  }

  /** What removing `name` would do, without doing it (for the confirmation prompt). */
  planRemoval(p: Principal, name: string): { stableId: string; hostName: string; zones: string[]; alreadyRemoved: boolean; rotate: string[] } {
    const c = this.checkRemoval(p, name);
    return { stableId: c.stableId, hostName: c.hostName, zones: c.zones.map((z) => z.id), alreadyRemoved: this.node.removed.has(c.stableId), rotate: this.zonesHeldBy(c.zones) };
  }

  private checkRemoval(p: Principal, name: string): Candidate {
    const c = this.resolve(name);
    if (c.stableId === this.node.self.stableId) throw new DeviceError('DEVICE_IS_SELF', `${c.hostName} is this device; remove it from another member`);
    if (c.zones.length === 0) throw new DeviceError('DEVICE_NOT_A_MEMBER', `${c.hostName} has no fcp zone tag: it was never a member of the mesh`);
    // Removing a device takes the right to write every zone it held.
    for (const z of c.zones) this.authz.authorize(p, 'device.remove', inZone(z), c.hostName);
    const isOwner = (zones: readonly Zone[]) => zones.some((z) => z.id === 'z:owner');
    if (isOwner(c.zones) && !this.node.removed.has(c.stableId)) {
      const owners = [...(isOwner(this.node.directory.selfZones) ? [this.node.self.stableId] : []), ...this.node.directory.all().filter((i) => isOwner(i.zones)).map((i) => i.peer.stableId)];
      if (owners.every((id) => id === c.stableId)) throw new DeviceError('DEVICE_LAST_OWNER', `${c.hostName} is the last z:owner device; add another owner device first`);
    }
    return c;
  }

  /** Zones this device keeps a key of that the removed device could hold: their keys move to a new epoch. */
  private zonesHeldBy(zones: readonly Zone[]): string[] {
    return this.node.keyring.zoneIds().filter((id) => this.node.zones.has(id) && mayHold(zones, this.node.zones.get(id)));
  }

  async removeDevice(p: Principal, name: string): Promise<RemoveResult> {
    const c = this.checkRemoval(p, name);
    const entry: Removal = { stableId: c.stableId, hostName: c.hostName, zones: c.zones.map((z) => z.id), at: Date.now(), by: this.node.self.stableId };
    const known = this.node.removed.get(c.stableId);
    const added = await this.node.removeDevices([entry]);
    const removed = added[0] ?? known ?? entry;
    // Tell the online members (the removed device is no longer among them); the others ask later.
    const delivery = await this.tellMembers((id) => this.node.call(id, { t: 'removed_put', removed: this.node.removed.list() }, 5_000).then((r) => void expectReply(r, 'ok')));
    const rotated: RotateResult[] = [];
    if (added.length > 0) {
      for (const zone of this.zonesHeldBy(c.zones)) rotated.push(await this.rotateKey(this.node.zones.get(zone)));
    }
    // Its symbols count as lost now: a repair pass starts at once (`fcp repair` shows how it ends).
    void this.node.repair.pass().catch((err: Error) => this.node.log.warn({ err: err.message }, 'repair after a removal failed'));
    return { removed, changed: added.length > 0, ...delivery, rotated };
  }

  // ---- trusting a device's node key again (`fcp device trust`) ----

  private checkTrust(p: Principal, name: string): Candidate {
    const c = this.resolve(name);
    if (c.stableId === this.node.self.stableId) throw new DeviceError('DEVICE_IS_SELF', `${c.hostName} is this device; its own key comes from its keyring`);
    if (this.node.removed.has(c.stableId)) throw new DeviceError('DEVICE_REMOVED', `${c.hostName} was removed from the mesh (fcp device remove); a removed device is never trusted again: reset it and join it as a new device`);
    if (c.zones.length === 0) throw new DeviceError('DEVICE_NOT_A_MEMBER', `${c.hostName} has no fcp zone tag: it is no member of the mesh`);
    // Its heads and tombstones will be believed in every zone it holds: this device must write them all.
    for (const z of c.zones) this.authz.authorize(p, 'device.trust', inZone(z), c.hostName);
    return c;
  }

  /** Asks the device itself for its key, over its own tailnet connection (never a third device). */
  private async presentedKey(c: Candidate): Promise<Uint8Array> {
    try {
      return (await this.node.signers.presented(c.stableId)).key;
    } catch (err) {
      throw new DeviceError('DEVICE_KEY_UNKNOWN', `${c.hostName} could not be asked for its node key (${(err as Error).message}); it must be online and running fcpd`);
    }
  }

  private trustPlanOf(c: Candidate, key: Uint8Array): TrustPlan {
    const pinned = this.node.signers.pinned(c.stableId);
    return { stableId: c.stableId, hostName: c.hostName, zones: c.zones.map((z) => z.id), pinned: pinned ? keyFingerprint(pinned) : null, presented: keyFingerprint(key), same: pinned !== undefined && bytesEqual(pinned, key) };
  }

  /** What `fcp device trust NAME` would pin (the prompt shows both fingerprints). */
  async planTrust(p: Principal, name: string): Promise<TrustPlan> {
    const c = this.checkTrust(p, name);
    return this.trustPlanOf(c, await this.presentedKey(c));
  }

  /**
   * Pins the key the device presents now in place of the one pinned (a reset device). With
   * `expect` (the fingerprint the user confirmed), a device that presents another key by now is
   * refused (DEVICE_KEY_MISMATCH): what is pinned is what was shown.
   */
  async trustDevice(p: Principal, name: string, expect?: string): Promise<TrustResult> {
    const c = this.checkTrust(p, name);
    const key = await this.presentedKey(c);
    const plan = this.trustPlanOf(c, key);
    if (expect !== undefined && expect !== plan.presented) throw new DeviceError('DEVICE_KEY_MISMATCH', `${c.hostName} now presents key ${plan.presented}, not the ${expect} confirmed; nothing changed, run fcp device trust again`);
    if (plan.same) return { ...plan, changed: false };
    // Logged, and an audit event (device.key-renewed, through the signers' onRenewed).
    this.node.signers.replace(c.stableId, key, 'local-user');
    return { ...plan, changed: true };
  }

  /** `fcp zone rotate`: a new epoch of the zone key, sent to the members, re-sealing started. */
  async rotateZone(p: Principal, zoneId: string): Promise<RotateResult> {
    const zone = requireZone(this.node.zones, zoneId);
    this.authz.authorize(p, 'zone.rotate', inZone(zone));
    this.node.keyring.requireZoneKey(zone.id);
    return this.rotateKey(zone);
  }

  private async rotateKey(zone: Zone): Promise<RotateResult> {
    const zk = await this.node.keyring.rotate(zone.id);
    this.node.log.info({ zone: zone.id, epoch: zk.epoch }, 'zone key rotated');
    const delivery = await this.tellMembers((id) => this.sendKey(id, zk), (i) => mayHold(i.zones, zone));
    void this.node.resealer.step().catch(() => undefined);
    return { zone: zone.id, epoch: zk.epoch, ...delivery };
  }

  private async sendKey(stableId: string, zk: ZoneKey): Promise<void> {
    const box = await this.node.boxKeyOf(stableId);
    const sealed = sealTo(box, serializeZoneKey(zk), zoneKeyAad(stableId));
    expectReply(await this.node.call(stableId, { t: 'zone_key_put', keys: [sealed] }, 5_000), 'ok');
  }

  /** Runs `send` for every online member (passing `filter`), in parallel; who got it and who not. */
  private async tellMembers(send: (stableId: string) => Promise<void>, filter: (i: PeerInfo) => boolean = () => true): Promise<Delivery> {
    const told: string[] = [];
    const notReached: string[] = [];
    const members = this.node.directory.all().filter((i) => i.zones.length > 0 && filter(i));
    await Promise.all(
      members.map(async (i) => {
        if (!i.peer.online) return void notReached.push(i.peer.hostName);
        try {
          await send(i.peer.stableId);
          told.push(i.peer.hostName);
        } catch (err) {
          this.node.log.info({ peer: i.peer.hostName, err: (err as Error).message }, 'member not told now; it learns when it asks');
          notReached.push(i.peer.hostName);
        }
      }),
    );
    return { told: told.sort(), notReached: notReached.sort() };
  }

  // ---- peers ----

  /** Removals spread by a member; the entries new here are kept (the set only grows). */
  async putRemovals(p: DevicePrincipal, entries: Removal[]): Promise<Removal[]> {
    const allowed: Removal[] = [];
    for (const e of entries) {
      if (this.node.removed.has(e.stableId) || e.stableId === this.node.self.stableId) continue;
      const zones = e.zones.filter((z) => this.node.zones.has(z));
      if (zones.length === 0) this.authz.authorize(p, 'removal.put', NODE, e.hostName); // denied: needs a zone
      for (const z of zones) this.authz.authorize(p, 'removal.put', inZone(this.node.zones.get(z)), e.hostName);
      allowed.push(e);
    }
    return this.node.removeDevices(allowed);
  }

  listRemovals(p: DevicePrincipal): Removal[] {
    this.authz.authorize(p, 'removal.list', NODE);
    return this.node.removed.list();
  }

  /** New epochs of zones this device holds, sealed to it by a member; returns the zones that moved. */
  async putZoneKeys(p: DevicePrincipal, sealed: Uint8Array[]): Promise<string[]> {
    const moved: string[] = [];
    for (const box of sealed) {
      let zk: ZoneKey;
      try {
        zk = parseZoneKey(openSealed(this.node.keyring.node.encryptionSecretKey, box, zoneKeyAad(this.node.self.stableId)));
      } catch {
        throw new MeshError('MESH_REFUSED', `a zone key from ${p.hostName} was not sealed to this device`);
      }
      if (!this.node.zones.has(zk.zoneId)) throw new MeshError('MESH_REFUSED', `unknown zone ${zk.zoneId}`);
      this.authz.authorize(p, 'zone-key.put', inZone(this.node.zones.get(zk.zoneId)));
      if (await this.node.keyring.accept(zk)) {
        moved.push(zk.zoneId);
        this.node.log.info({ zone: zk.zoneId, epoch: zk.epoch, from: p.hostName }, 'new zone key epoch taken');
      }
    }
    if (moved.length > 0) void this.node.resealer.step().catch(() => undefined);
    return moved;
  }

  /** A member asks for an epoch newer than its own; it proves it holds the zone's ObjectIdKey. */
  getZoneKey(p: DevicePrincipal, zoneId: string, epoch: number, boxPublicKey: Uint8Array, proof: Uint8Array): { epoch: number; resealing: boolean; keys: Uint8Array[] } {
    if (!this.node.zones.has(zoneId)) throw new MeshError('MESH_REFUSED', `unknown zone ${zoneId}`);
    this.authz.authorize(p, 'zone-key.get', inZone(this.node.zones.get(zoneId)));
    const zk = this.node.keyring.zoneKey(zoneId);
    if (!zk) throw new MeshError('MESH_NO_ZONE_KEY', `${this.node.self.hostName} holds no ${zoneId} key`);
    const want = zoneKeyRequestProof(zk.objectIdKey, p.stableId, boxPublicKey);
    if (proof.length !== want.length || !timingSafeEqual(proof, want)) {
      throw new MeshError('MESH_REFUSED', `${p.hostName} did not prove it is a member of ${zoneId}; a new device joins with \`fcp join\``);
    }
    const keys = zk.epoch > epoch ? [sealTo(boxPublicKey, serializeZoneKey(zk), zoneKeyAad(p.stableId))] : [];
    return { epoch: zk.epoch, resealing: this.node.resealer.busy(zoneId), keys };
  }

  // ---- catching up (a member that was away) ----

  private principalOf(i: PeerInfo): DevicePrincipal {
    return devicePrincipal(this.node, { stableId: i.peer.stableId, hostName: i.peer.hostName, address: i.peer.tailscaleIps[0] ?? '', tags: i.peer.tags, zoneIds: i.zones.map((z) => z.id) });
  }

  /**
   * Asks the online members for their removals and for newer epochs of the zones held here, and
   * takes them as if they had been sent (same authorization). One round trip per member, plus
   * one per zone it may hold. Never throws.
   */
  async catchUp(): Promise<{ removed: number; zones: string[] }> {
    let removed = 0;
    const zones = new Set<string>();
    const members = this.node.directory.ranked((i) => i.zones.length > 0);
    await Promise.all(
      members.map(async (i) => {
        const p = this.principalOf(i);
        try {
          const r = expectReply(await this.node.call(i.peer.stableId, { t: 'removed_list' }, 5_000), 'removed_list_result');
          const fresh = r.removed.filter((e) => !this.node.removed.has(e.stableId));
          if (fresh.length > 0) removed += (await this.putRemovals(p, fresh)).length;
        } catch (err) {
          this.node.log.debug({ peer: i.peer.hostName, err: (err as Error).message }, 'removals not pulled');
        }
        for (const zoneId of this.node.keyring.zoneIds()) {
          if (!this.node.zones.has(zoneId) || !mayHold(i.zones, this.node.zones.get(zoneId))) continue;
          try {
            const r = await this.askKey(i.peer.stableId, zoneId);
            if (r.keys.length > 0) for (const z of await this.putZoneKeys(p, r.keys)) zones.add(z);
          } catch (err) {
            this.node.log.debug({ peer: i.peer.hostName, zone: zoneId, err: (err as Error).message }, 'zone key epoch not asked');
          }
        }
      }),
    );
    return { removed, zones: [...zones].sort() };
  }

  private async askKey(stableId: string, zoneId: string): Promise<{ epoch: number; resealing: boolean; keys: Uint8Array[] }> {
    const zk = this.node.keyring.requireZoneKey(zoneId);
    const box = this.node.keyring.node.encryptionPublicKey;
    const proof = zoneKeyRequestProof(zk.objectIdKey, this.node.self.stableId, box);
    return expectReply(await this.node.call(stableId, { t: 'zone_key_get', zone: zoneId, epoch: zk.epoch, boxPublicKey: box, proof }, 5_000), 'zone_key_result');
  }

  /**
   * Whether the online members of a zone are on `epoch` with nothing left to re-seal (then this
   * device may drop its older keys). A member still on an older epoch is sent the key. Members
   * that are offline or run no fcpd do not hold it up: they re-seal with their own older key
   * when they are back.
   */
  async membersDone(zoneId: string, epoch: number): Promise<boolean> {
    if (!this.node.zones.has(zoneId)) return true;
    const zone = this.node.zones.get(zoneId);
    const members = this.node.directory.ranked((i) => i.zones.length > 0 && mayHold(i.zones, zone));
    const answers = await Promise.all(
      members.map(async (i) => {
        let r: { epoch: number; resealing: boolean };
        try {
          r = await this.askKey(i.peer.stableId, zoneId);
        } catch {
          return true;
        }
        if (r.epoch < epoch) {
          await this.sendKey(i.peer.stableId, this.node.keyring.requireZoneKey(zoneId)).catch(() => undefined);
          return false;
        }
        return r.epoch > epoch || !r.resealing;
      }),
    );
    return answers.every(Boolean);
  }
}

/**
 * Renewal of a reset device's pinned key by the owner key: a device presenting a new node key
 * with an owner grant naming its stable id and that key (valid now, not revoked, the device not
 * removed) is trusted at once; every renewal becomes an audit event.
 */
export function renewSignersByGrant(
  node: Pick<MeshNode, 'signers' | 'removed' | 'directory' | 'log'>,
  owner: Pick<OwnerAuthority, 'publicKey'>,
  isRevoked: (tokenId: string) => boolean,
  audit?: AuditSink,
  nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
): void {
  node.signers.vouchWith((stableId, key, grant) => {
    const ownerKey = owner.publicKey();
    if (!ownerKey || node.removed.has(stableId)) return false;
    const r = grantBindsDevice(grant, ownerKey, stableId, key, nowSeconds());
    if (!r.ok) {
      node.log.info({ device: stableId, why: r.why }, 'the owner grant a device presented with a new key does not vouch for it');
      return false;
    }
    return !isRevoked(r.jti);
  });
  node.signers.onRenewed = (r) =>
    audit?.({
      kind: 'device.key-renewed',
      zone: 'device',
      principal: r.by === 'owner-grant' ? `${node.directory.byStableId(r.stableId)?.peer.hostName ?? r.stableId} (owner grant)` : 'local user',
      subject: r.stableId,
      detail: { old: r.oldFingerprint, new: r.newFingerprint, by: r.by },
    });
}
