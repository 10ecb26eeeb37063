// The small records of a zone's namespace, replicated to the zone's devices: each device's head
// (a ref, single writer: the device itself) and tombstones of collected objects. Both are
// pushed to every online holder of the zone when written and pulled from them when read, so a
// device that was away learns what happened; a stored record is replaced only by a newer one
// (higher seq; later decision), which makes every exchange idempotent and order-free.
//
// A collected object is not erased at once: its copies stay for a quarantine period. A put that
// found an object already stored and relies on it (deduplication) pins it until its commit is
// published; a tombstone of a pinned object, arriving while the put runs, is answered at once
// with a later alive record, and the copies kept through the quarantine make the object whole
// again. This closes the race between a collection pass and a put reusing what it collects,
// which restic closes with an exclusive lock that a mesh of devices that come and go cannot take.
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
  /** How long the copies of a collected object are kept before they are erased (ms). */
  quarantineMs?: number;
  now?: () => number;
}

/** Long enough for a tombstone to reach a device with a put under way and its answer to come back. */
export const DEFAULT_GC_QUARANTINE_MS = 10 * 60_000;

/** Objects one put relies on; released once the put's commit is published (or it fails). */
export interface Pins {
  pin(objectId: Uint8Array, zone: Zone): void;
  release(): void;
}

export interface PullReport<T> {
  records: T[];
  /** Holders asked and those that did not answer (their news, if any, comes later). */
  asked: number;
  unreachable: string[];
}

export class NameRecords {
  /** Pinned object ids (hex) → how many puts under way rely on each, and its zone. */
  private readonly pinned = new Map<string, { count: number; zone: Zone }>();

  constructor(private readonly d: NameRecordsDeps) {}

  get quarantineMs(): number {
    return this.d.quarantineMs ?? DEFAULT_GC_QUARANTINE_MS;
  }

  /** A set of pins for one put: objects it found stored and names in its commit. */
  pins(): Pins {
    const held: string[] = [];
    return {
      pin: (objectId, zone) => {
        const id = objectIdToHex(objectId);
        const p = this.pinned.get(id);
        if (p) p.count++;
        else this.pinned.set(id, { count: 1, zone });
        held.push(id);
      },
      release: () => {
        for (const id of held.splice(0)) {
          const p = this.pinned.get(id);
          if (p && --p.count === 0) this.pinned.delete(id);
        }
      },
    };
  }

  /** Whether a collected object's quarantine is over, so its copy here may go. */
  erasable(objectId: Uint8Array): boolean {
    const t = this.d.store.getTombstone(objectId);
    return t?.dead === true && (this.d.now ?? Date.now)() - t.at >= this.quarantineMs;
  }

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
   * Keeps a tombstone if it is a later decision. A dead one for an object a put here relies on
   * is answered with a later alive record at once; otherwise it erases the copy held here once
   * the quarantine is over (at once with a quarantine of 0; later, the repair pass). Nothing on
   * this device (a dedup check, repair) takes a dead object's copy for live meanwhile. Returns
   * whether it was kept.
   */
  async keepTombstone(t: Tombstone): Promise<boolean> {
    const kept = await this.d.store.putTombstone(t);
    if (!kept || !t.dead) return kept;
    const m = this.d.store.getManifest(t.objectId);
    if (m && m.zone !== t.zone) return kept; // a tombstone names its object's zone, or erases nothing
    const pin = this.pinned.get(objectIdToHex(t.objectId));
    if (pin) {
      this.d.log.info({ objectId: objectIdToHex(t.objectId), zone: t.zone }, 'a put under way relies on a collected object: it is kept');
      await this.revive(t.objectId, pin.zone);
      return kept;
    }
    if (this.erasable(t.objectId)) await this.d.store.deleteObject(t.objectId);
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
