// The small records of a zone's namespace, replicated to the zone's devices: each device's head
// (a ref, single writer: the device itself) and tombstones of collected objects. Both are
// pushed to every online holder of the zone when written and pulled from them when read, so a
// device that was away learns what happened; a stored record is replaced only by a newer one
// (higher seq; later decision), which makes every exchange idempotent and order-free.
import type { Logger } from 'pino';
import { objectIdToHex, type RefRecord, type Tombstone } from '../crypto/index.js';
import type { SymbolStore } from '../store/index.js';
import type { Zone } from '../zones/index.js';
import type { Eligibility } from './eligibility.js';
import type { Holder } from './holder.js';

export interface NameRecordsDeps {
  store: SymbolStore;
  eligibility: Pick<Eligibility, 'holdersFor'>;
  log: Logger;
}

export interface PullReport<T> {
  records: T[];
  /** Holders asked and those that did not answer (their news, if any, comes later). */
  asked: number;
  unreachable: string[];
}

export class NameRecords {
  constructor(private readonly d: NameRecordsDeps) {}

  private remotes(zone: Zone): Holder[] {
    return this.d.eligibility.holdersFor(zone).filter((h) => !h.local);
  }

  /** Every device's head of `zone`: pulled from the online holders, newer ones kept here. */
  async pullRefs(zone: Zone): Promise<PullReport<RefRecord>> {
    const remotes = this.remotes(zone);
    const answers = await Promise.allSettled(remotes.map((h) => h.listRefs(zone.id)));
    const unreachable: string[] = [];
    for (const [i, a] of answers.entries()) {
      if (a.status === 'rejected') {
        unreachable.push(remotes[i]!.hostName);
        continue;
      }
      for (const ref of a.value) if (ref.zone === zone.id) await this.d.store.putRef(ref);
    }
    return { records: this.d.store.listRefs(zone.id), asked: remotes.length, unreachable };
  }

  /** Keeps this device's new head and offers it to every online holder of the zone. */
  async publishRef(zone: Zone, ref: RefRecord): Promise<void> {
    await this.d.store.putRef(ref);
    const remotes = this.remotes(zone);
    const sent = await Promise.allSettled(remotes.map((h) => h.putRef(ref)));
    sent.forEach((r, i) => {
      if (r.status === 'rejected') this.d.log.info({ device: remotes[i]!.hostName, err: (r.reason as Error).message }, 'head not sent to a device; it pulls it later');
    });
  }

  /** Tombstones of `zone`: pulled from the online holders, later decisions kept here. */
  async pullTombstones(zone: Zone): Promise<PullReport<Tombstone>> {
    const remotes = this.remotes(zone);
    const answers = await Promise.allSettled(remotes.map((h) => h.listTombstones(zone.id)));
    const unreachable: string[] = [];
    for (const [i, a] of answers.entries()) {
      if (a.status === 'rejected') {
        unreachable.push(remotes[i]!.hostName);
        continue;
      }
      for (const t of a.value) if (t.zone === zone.id) await this.keepTombstone(t);
    }
    return { records: this.d.store.listTombstones(zone.id), asked: remotes.length, unreachable };
  }

  /**
   * Keeps a tombstone if it is a later decision; a dead one also erases the copy held here at
   * once, so nothing on this device (a dedup check, a read, repair) takes the stale share for
   * the object. Returns whether it was kept.
   */
  async keepTombstone(t: Tombstone): Promise<boolean> {
    const kept = await this.d.store.putTombstone(t);
    if (!kept || !t.dead) return kept;
    const m = this.d.store.getManifest(t.objectId);
    if (m && m.zone !== t.zone) return kept; // a tombstone names its object's zone, or erases nothing
    await this.d.store.deleteObject(t.objectId);
    return kept;
  }

  /** Keeps tombstones here and offers them to every online holder of the zone. */
  async spreadTombstones(zone: Zone, tombstones: Tombstone[]): Promise<void> {
    if (tombstones.length === 0) return;
    for (const t of tombstones) await this.keepTombstone(t);
    const remotes = this.remotes(zone);
    await Promise.allSettled(remotes.map((h) => h.putTombstones(tombstones)));
  }

  /** Whether the object was collected (and not stored again since, as far as this device knows). */
  isDead(objectId: Uint8Array): boolean {
    return this.d.store.getTombstone(objectId)?.dead === true;
  }

  /**
   * Storing content that was collected: an alive record, later than the tombstone, goes to the
   * zone's holders first, so they take its symbols again (and repair may carry it).
   */
  async revive(objectId: Uint8Array, zone: Zone, force = false): Promise<void> {
    if (!force && !this.isDead(objectId)) return;
    // Forced (a device refused the content as collected): learn its tombstone first, so the
    // revival is later than it even if this device never had it or its clock is behind.
    if (force) await this.pullTombstones(zone).catch(() => undefined);
    const prior = this.d.store.getTombstone(objectId);
    const at = Math.max(Date.now(), (prior?.at ?? 0) + 1);
    this.d.log.info({ objectId: objectIdToHex(objectId), zone: zone.id }, 'collected object stored again');
    await this.spreadTombstones(zone, [{ objectId, zone: zone.id, at, dead: false }]);
  }
}
