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
//
// Every record is signed by the device it speaks for (record-signing.ts): a head by its device,
// a tombstone by the device that decided. A record from elsewhere (a put, or any record a pull
// brings) is kept only once its signature verifies against that device's pinned key, or a former
// key of it (a reset device's) that was still its key at the record's time (signer-keys.ts); a
// refused one leaves nothing behind. Records this device made, or already
// holds, are not checked again.
import type { Logger } from 'pino';
import { bytesEqual, objectIdToHex, type RefRecord, type Tombstone } from '../crypto/index.js';
import { refReplaces, tombstoneReplaces, type SymbolStore } from '../store/index.js';
import type { Zone } from '../zones/index.js';
import type { Eligibility } from './eligibility.js';
import { MeshError } from './errors.js';
import type { Holder } from './holder.js';
import { TombSync } from './tomb-sync.js';
import { refSignatureValid, signRef, signTombstone, tombstoneSignatureValid, type UnsignedRef, type UnsignedTombstone } from './record-signing.js';

export interface NameRecordsDeps {
  store: SymbolStore;
  eligibility: Pick<Eligibility, 'holdersFor'>;
  log: Logger;
  /** This device: it signs its own heads and the tombstones it decides. */
  signer: { stableId: string; signingSecretKey: Uint8Array };
  /** The pinned node signing key of a device (learned from it on first use: signer-keys.ts). */
  keyOf: (stableId: string) => Promise<Uint8Array>;
  /**
   * A record failed its check under the pinned key: asks the device again (it may have been reset
   * and present an owner grant for its new key) and returns the key pinned then (signer-keys.ts).
   */
  recheck?: (stableId: string) => Promise<Uint8Array | undefined>;
  /**
   * Keys the device had before its pin that were still its key at `signedAt` (signer-keys.ts):
   * a record it signed before it was reset verifies under them (this device's own included).
   */
  formerKeysAt?: (stableId: string, signedAt: number) => Uint8Array[];
  /** How long the copies of a collected object are kept before they are erased (ms). */
  quarantineMs?: number;
  /** How long a tombstone is kept (ms; default 90 days): past it, it is forgotten everywhere. */
  tombstoneTtlMs?: number;
  /** Last tombstone sync per zone and peer, and what is held back after a long absence (tomb-sync.ts). */
  sync?: TombSync;
  /**
   * Whether no other device of the tailnet, online or not, may hold the zone: a device alone in a
   * zone has no tombstones to miss, so each pull counts as a sync (it is not "away").
   */
  alone?: (zone: Zone) => boolean;
  now?: () => number;
}

/** The sync record of a device alone in a zone (no other device could hold it). */
const ALONE = '(alone)';

/** Tombstones are forgotten after this long (a device away longer holds back, tomb-sync.ts). */
export const DEFAULT_TOMBSTONE_TTL_MS = 90 * 86_400_000;

/** Long enough for a tombstone to reach a device with a put under way and its answer to come back. */
export const DEFAULT_GC_QUARANTINE_MS = 10 * 60_000;
/** Tombstones synced this recently count as current for a put, whatever the quarantine. */
const MIN_FRESH_MS = 60_000;

/** Objects one put relies on; released once the put's commit is published (or it fails). */
export interface Pins {
  pin(objectId: Uint8Array, zone: Zone): void;
  release(): void;
}

export interface PullReport<T> {
  records: T[];
  /** Holders asked and those that did not answer (their news, if any, comes later). */
  asked: number;
  /** Tombstones only: this device's previous sync of the zone was longer ago than the TTL (it is unreconciled now). */
  stale?: boolean;
  unreachable: string[];
  /** Records a holder listed that were refused (bad signature, signer not known yet). */
  refused: number;
}

/** What start-up did with records stored before heads and tombstones were signed. */
export interface LegacyReport {
  resigned: number;
  dropped: number;
}

export class NameRecords {
  /** Pinned object ids (hex) → how many puts under way rely on each, and its zone. */
  private readonly pinned = new Map<string, { count: number; zone: Zone }>();

  /** Last tombstone syncs and objects held back (kept in memory when no file is given). */
  readonly sync: TombSync;
  /** The start-up tombstone pull (startCatchUp), and each zone's pull made for a put (tombstonesFresh). */
  private caughtUp: Promise<void> = Promise.resolve();
  private readonly freshening = new Map<string, Promise<void>>();
  /** Zones whose heads a pull got from another holder since this process started (refsSynced). */
  private readonly synced = new Set<string>();

  constructor(private readonly d: NameRecordsDeps) {
    this.sync = d.sync ?? new TombSync(null, () => this.now());
  }

  get quarantineMs(): number {
    return this.d.quarantineMs ?? DEFAULT_GC_QUARANTINE_MS;
  }

  get tombstoneTtlMs(): number {
    return this.d.tombstoneTtlMs ?? DEFAULT_TOMBSTONE_TTL_MS;
  }

  /** The wall clock tombstones are dated and expired by (injected in tests). */
  now(): number {
    return (this.d.now ?? Date.now)();
  }

  /** A tombstone past its TTL: forgotten here, never taken from elsewhere, never served. */
  expired(t: Tombstone): boolean {
    return this.now() - t.at > this.tombstoneTtlMs;
  }

  /** Forgets the tombstones past their TTL; how many. */
  async expireTombstones(): Promise<number> {
    const n = await this.d.store.expireTombstones(this.now() - this.tombstoneTtlMs);
    if (n > 0) this.d.log.info({ tombstones: n, ttlMs: this.tombstoneTtlMs }, 'tombstones past their TTL forgotten');
    return n;
  }

  /** Held back after an absence longer than the TTL (no other device holds it; tomb-sync.ts). */
  isHeld(objectId: Uint8Array): boolean {
    return this.sync.isHeld(objectIdToHex(objectId));
  }

  /** Another device stores it again, or a put here wants it: no longer held back. */
  release(objectId: Uint8Array): void {
    if (this.sync.release(objectIdToHex(objectId))) this.d.log.info({ objectId: objectIdToHex(objectId) }, 'held-back object released: it is stored again');
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
    return t?.dead === true && this.now() - t.at >= this.quarantineMs;
  }

  private remotes(zone: Zone): Holder[] {
    return this.d.eligibility.holdersFor(zone).filter((h) => !h.local);
  }

  /**
   * Whether this device's view of the zone's heads has ever been synced: a pull reached another
   * holder, or heads are stored here (kept from earlier runs), or no other device could hold the
   * zone. A device just reset has none of these until its first pull reaches a peer: an empty
   * listing then would look like data loss.
   */
  refsSynced(zone: Zone): boolean {
    if (this.synced.has(zone.id) || this.d.store.listRefs(zone.id).length > 0) return true;
    return this.remotes(zone).length === 0 && this.d.alone?.(zone) === true;
  }

  /**
   * Waits (at most `boundMs`, pulling every 200 ms) until the zone's heads are synced as
   * `refsSynced` says; whether they are. A device that has synced once never waits here.
   */
  async awaitRefsSynced(zone: Zone, boundMs: number): Promise<boolean> {
    const deadline = Date.now() + boundMs;
    for (;;) {
      if (this.refsSynced(zone)) return true;
      await this.pullRefs(zone);
      if (this.refsSynced(zone)) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, Math.min(200, Math.max(0, deadline - Date.now()))));
    }
  }

  /** Every device's head of `zone`: pulled from the online holders, newer ones kept here. */
  async pullRefs(zone: Zone): Promise<PullReport<RefRecord>> {
    const remotes = this.remotes(zone);
    const answers = await Promise.allSettled(remotes.map((h) => h.listRefs(zone.id)));
    if (answers.some((a) => a.status === 'fulfilled')) this.synced.add(zone.id);
    const unreachable: string[] = [];
    let refused = 0;
    let lost: RefRecord | undefined;
    for (const [i, a] of answers.entries()) {
      if (a.status === 'rejected') {
        unreachable.push(remotes[i]!.hostName);
        continue;
      }
      for (const ref of a.value) {
        if (ref.zone !== zone.id) continue;
        if (ref.device === this.d.signer.stableId) {
          // This device's own head, held by another: newer than any held here only after a reset.
          if (refReplaces(ref, this.d.store.listRefs(zone.id).find((r) => r.device === ref.device)) && (!lost || ref.seq > lost.seq)) lost = ref;
          continue;
        }
        try {
          await this.acceptRef(ref);
        } catch (err) {
          refused++;
          this.refusedLog(remotes[i]!.hostName, 'head', ref.device, err);
        }
      }
    }
    if (lost) await this.recoverOwnHead(zone, lost);
    return { records: this.d.store.listRefs(zone.id), asked: remotes.length, unreachable, refused };
  }

  /**
   * The zone's devices hold a head of this device newer than any held here: this device was reset
   * (a new data dir) and its old head, signed by its old key, survived on them. Its next head must
   * be above that seq, or every device keeps the old one and refuses the new. The old head is
   * re-signed with this device's key at the next seq and published (its commit and cut, if this
   * device has no head of its own yet; else its own head moved up): once the devices trust the new
   * key (an owner grant, or `fcp device trust`), they take it. The old record is not verified
   * (the old key is gone); the devices that serve it are members of the zone, which may write
   * heads of their own with any commit anyway, so re-signing it gives them nothing more.
   */
  private async recoverOwnHead(zone: Zone, lost: RefRecord): Promise<void> {
    const mine = this.d.store.listRefs(zone.id).find((r) => r.device === this.d.signer.stableId);
    const base = mine ?? lost;
    const time = Math.max(Date.now(), lost.time, mine?.time ?? 0);
    this.d.log.warn({ zone: zone.id, seq: lost.seq, own: mine?.seq ?? null }, 'the devices hold a newer head of this device than it has (a reset?): re-signed with this device\'s key and published above it');
    await this.publishRef(zone, { zone: zone.id, device: this.d.signer.stableId, seq: lost.seq + 1, commit: base.commit, forgotten: base.forgotten, time });
  }

  private refusedLog(from: string, what: string, signer: string, err: unknown): void {
    const code = (err as { code?: string }).code;
    // A signer not reached yet is ordinary (its records are taken later); a bad signature is not.
    const level = code === 'MESH_SIGNER_UNKNOWN' ? 'debug' : 'warn';
    this.d.log[level]({ from, signer, code, err: (err as Error).message }, `${what} listed by a device refused`);
  }

  /** Throws MESH_BAD_SIGNATURE unless `ref` is signed by the device it names (its pinned key). */
  async verifyRef(ref: RefRecord): Promise<void> {
    const key = await this.d.keyOf(ref.device);
    const valid = (k: Uint8Array) => refSignatureValid(ref, k);
    if (!valid(key) && !this.validUnderFormerKey(ref.device, ref.time, valid) && !(await this.validUnderRenewedKey(ref.device, key, valid))) throw new MeshError('MESH_BAD_SIGNATURE', `the head of ${ref.device} in ${ref.zone} (seq ${ref.seq}) is not signed by ${ref.device}'s node key; it is refused`);
  }

  /** Whether the record verifies under a key the device had before its pin, still its key when the record was made. */
  private validUnderFormerKey(device: string, signedAt: number, valid: (key: Uint8Array) => boolean): boolean {
    return (this.d.formerKeysAt?.(device, signedAt) ?? []).some(valid);
  }

  /** Whether the device's pin was renewed (asked again) and the record verifies under the new one. */
  private async validUnderRenewedKey(device: string, was: Uint8Array, valid: (key: Uint8Array) => boolean): Promise<boolean> {
    if (device === this.d.signer.stableId || !this.d.recheck) return false;
    const now = await this.d.recheck(device);
    return now !== undefined && !bytesEqual(now, was) && valid(now);
  }

  /**
   * A head from elsewhere: kept if it is newer than the one held and its signature verifies
   * (a head that changes nothing is not checked: most offers repeat what is held). Returns
   * whether it was kept.
   */
  async acceptRef(ref: RefRecord): Promise<boolean> {
    const held = this.d.store.listRefs(ref.zone).find((r) => r.device === ref.device);
    if (!refReplaces(ref, held)) return false;
    await this.verifyRef(ref);
    return this.d.store.putRef(ref);
  }

  /** Signs this device's new head, keeps it and offers it to every online holder of the zone. */
  async publishRef(zone: Zone, unsigned: UnsignedRef): Promise<void> {
    if (unsigned.device !== this.d.signer.stableId) throw new MeshError('MESH_REFUSED', `this device publishes its own head only, not ${unsigned.device}'s`);
    const ref = signRef(unsigned, this.d.signer.signingSecretKey);
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
    const synced: string[] = [];
    let refused = 0;
    for (const [i, a] of answers.entries()) {
      if (a.status === 'rejected') {
        unreachable.push(remotes[i]!.hostName);
        continue;
      }
      synced.push(remotes[i]!.stableId);
      for (const t of a.value) {
        if (t.zone !== zone.id || this.expired(t) || !this.wouldReplace(t)) continue;
        try {
          await this.verifyTombstone(t);
        } catch (err) {
          refused++;
          this.refusedLog(remotes[i]!.hostName, 'tombstone', t.by ?? '(none)', err);
          continue;
        }
        await this.keepTombstone(t);
      }
    }
    // Recorded once the lists are in (and taken): the sync that ends an absence longer than the TTL
    // leaves the zone unreconciled until the repair pass has reconciled it.
    const previous = this.sync.lastSync(zone.id);
    // Alone in the zone, there is nothing to have missed, however long it has been.
    const alone = remotes.length === 0 && this.d.alone?.(zone) === true;
    const stale = this.sync.noteSync(zone.id, alone ? [ALONE] : synced, alone ? Infinity : this.tombstoneTtlMs);
    if (stale) this.d.log.warn({ zone: zone.id, lastSync: new Date(previous).toISOString() }, 'tombstones synced after an absence longer than their TTL: objects only this device holds are held back until reconciled');
    return { records: this.d.store.listTombstones(zone.id), asked: remotes.length, unreachable, refused, stale };
  }

  /** Whether a tombstone would change what is held (only those are worth a signature check). */
  private wouldReplace(t: Tombstone): boolean {
    let held: Tombstone | undefined;
    try {
      held = this.d.store.getTombstone(t.objectId);
    } catch {
      held = undefined;
    }
    return tombstoneReplaces(t, held);
  }

  /** Throws MESH_BAD_SIGNATURE unless `t` is signed by the device it names as deciding it. */
  async verifyTombstone(t: Tombstone): Promise<void> {
    if (t.by === undefined) throw new MeshError('MESH_BAD_SIGNATURE', `a tombstone of ${objectIdToHex(t.objectId)} names no deciding device; it is refused`);
    const key = await this.d.keyOf(t.by);
    const valid = (k: Uint8Array) => tombstoneSignatureValid(t, k);
    if (!valid(key) && !this.validUnderFormerKey(t.by, t.at, valid) && !(await this.validUnderRenewedKey(t.by, key, valid))) throw new MeshError('MESH_BAD_SIGNATURE', `the tombstone of ${objectIdToHex(t.objectId)} is not signed by ${t.by}'s node key; it is refused`);
  }

  /**
   * Tombstones from elsewhere: every one that would change what is held is checked first, and
   * one refused refuses them all (nothing of the batch is kept); then each is kept.
   */
  async acceptTombstones(tombstones: Tombstone[]): Promise<void> {
    // An expired one is forgotten everywhere: taking it back would keep it alive for ever.
    const news = tombstones.filter((t) => !this.expired(t) && this.wouldReplace(t));
    for (const t of news) await this.verifyTombstone(t);
    for (const t of news) await this.keepTombstone(t);
  }

  /**
   * Keeps a tombstone if it is a later decision. A dead one for an object a put here relies on
   * is answered with a later alive record at once; otherwise it erases the copy held here once
   * the quarantine is over (at once with a quarantine of 0; later, the repair pass). Nothing on
   * this device (a dedup check, repair) takes a dead object's copy for live meanwhile. Returns
   * whether it was kept.
   */
  // Trusted: made here or checked by the caller (acceptTombstones, pullTombstones).
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

  /** Signs this device's decisions, keeps them here and offers them to every online holder of the zone. */
  async spreadTombstones(zone: Zone, decisions: UnsignedTombstone[]): Promise<void> {
    if (decisions.length === 0) return;
    const tombstones = decisions.map((t) => signTombstone(t, this.d.signer.stableId, this.d.signer.signingSecretKey));
    for (const t of tombstones) await this.keepTombstone(t);
    const remotes = this.remotes(zone);
    await Promise.allSettled(remotes.map((h) => h.putTombstones(tombstones)));
  }

  /**
   * The tombstone pull made at start (repair's first ask): until it is done, a copy held here may
   * be the stale share of something collected while this device was away, which a put must not
   * take for the whole object (the other holders may have erased theirs).
   */
  startCatchUp(pull: Promise<void>): void {
    this.caughtUp = pull.catch(() => undefined);
  }

  /**
   * Before a put takes a copy held here for stored. Collected copies stay on their holders
   * through the quarantine, so a revival within it finds them whole; a tombstone learnt later
   * may come when they are gone and only this device's share is left. So the start-up pull must
   * be done and the zone's tombstones synced within half the quarantine (at least a minute), or
   * they are pulled first (one pull per zone at a time): a device back from an absence, or one
   * cut off from its peers for longer without a restart.
   */
  async tombstonesFresh(zone: Zone): Promise<void> {
    await this.caughtUp;
    if (this.now() - this.sync.lastSync(zone.id) <= Math.max(this.quarantineMs / 2, MIN_FRESH_MS)) return;
    let pull = this.freshening.get(zone.id);
    if (!pull) {
      pull = this.pullTombstones(zone)
        .then(() => undefined, () => undefined)
        .finally(() => this.freshening.delete(zone.id));
      this.freshening.set(zone.id, pull);
    }
    await pull;
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
    const at = Math.max(this.now(), (prior?.at ?? 0) + 1);
    this.d.log.info({ objectId: objectIdToHex(objectId), zone: zone.id }, 'collected object stored again');
    await this.spreadTombstones(zone, [{ objectId, zone: zone.id, at, dead: false }]);
  }

  /**
   * Records stored before heads and tombstones were signed (an older data dir), at start: this
   * device's own heads are signed now (same seq: the signed copy replaces the unsigned one
   * everywhere); other devices' unsigned heads are forgotten and pulled again, signed, from
   * their devices (a head held only unsigned cannot be told from a forged one). Unsigned
   * tombstones were accepted by this device before: it signs them as its own decisions (same
   * instant, same verdict), rather than forget collections and let copies come back.
   */
  async adoptLegacy(): Promise<LegacyReport> {
    const report: LegacyReport = { resigned: 0, dropped: 0 };
    const self = this.d.signer;
    for (const ref of this.d.store.listRefs()) {
      if (ref.sig !== undefined) continue;
      if (ref.device === self.stableId) {
        if (await this.d.store.putRef(signRef(ref, self.signingSecretKey))) report.resigned++;
      } else if (await this.d.store.deleteRef(ref.zone, ref.device)) report.dropped++;
    }
    for (const t of this.d.store.listTombstones()) {
      if (t.sig !== undefined) continue;
      if (await this.d.store.putTombstone(signTombstone(t, self.stableId, self.signingSecretKey))) report.resigned++;
    }
    if (report.resigned + report.dropped > 0) this.d.log.info(report, 'unsigned heads and tombstones from an older version: own ones signed, other devices\' heads dropped (pulled again)');
    return report;
  }
}
