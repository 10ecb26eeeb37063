// Self-healing: a repair loop that restores each object's placement policy when devices stay
// away past a grace period or leave the tailnet, drops surplus when they return, and a scrubber
// that re-checks stored symbols' AEAD tags and removes corrupt ones (the next repair replaces them).
//
// One device repairs a given object: the eligible holder with the smallest stable id among those
// online that has its manifest. It first challenges every holder for one random symbol it
// claims (a holder that cannot produce it is not counted). Repair reads about K symbols per block (exactly chosen from what each holder has),
// decodes, makes repair symbols at fresh ESIs above every ESI ever used (a high-water mark kept
// on disk before sending), and writes them, with the manifest, to the devices holding fewest. Every pass starts from
// what the devices hold now, so work interrupted by a crash completes on the next pass.
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { RaptorQDecoder } from '../raptorq/index.js';
import { makeSymbols } from './coding.js';
import { CryptoError, bytesEqual, zoneKeyFor, objectIdToHex, objectIdFromHex, openSymbol, type Manifest, type SymbolEntry, type ZoneKey } from '../crypto/index.js';
import type { SymbolStore } from '../store/index.js';
import type { Zone, ZoneRegistry } from '../zones/index.js';
import { DECODE_MARGIN, policyOf, type PlacementPolicy } from './placement.js';
import { achievablePolicy, blockMeetsPolicy, planAdditions, planDrops, type Holding } from './health.js';
import type { Eligibility } from './eligibility.js';
import type { Holder } from './holder.js';
import { monotonic, type Clock, type HolderMarks } from './marks.js';
import type { PeerDirectory } from './peers.js';
import type { ObjectReader } from './reader.js';
import type { SummaryCache, ZoneView } from './summaries.js';
import { holdersByZone, zoneViewOf } from './summary-health.js';
import type { NameRecords } from './name-records.js';
import { blockSizes, policyOfCached } from './inspect.js';

/** The narrow parts repair works with. */
export interface RepairDeps {
  dataDir: string;
  store: SymbolStore;
  zones: ZoneRegistry;
  zoneKey: (zoneId: string) => ZoneKey | undefined;
  eligibility: Eligibility;
  reader: ObjectReader;
  directory: Pick<PeerDirectory, 'all' | 'on' | 'off'>;
  marks: HolderMarks;
  /** Holders' summaries: a pass decides from them which objects need no per-object look. */
  summaries?: SummaryCache;
  /** Tombstones: a collected object is never carried, re-spread or adopted, and copies go. */
  records?: Pick<NameRecords, 'pullTombstones' | 'isDead' | 'erasable' | 'expireTombstones' | 'isHeld' | 'sync' | 'startCatchUp'>;
  seal: (zk: ZoneKey, h: { objectId: Uint8Array; sbn: number; esi: number; k: number }, symbol: Uint8Array) => Uint8Array;
  log: Logger;
  /** Monotonic milliseconds; every interval and grace period is measured on it. */
  clock?: Clock;
}

export interface RepairOptions {
  /** Time between repair passes (ms); 0 disables the loop. */
  intervalMs: number;
  /** How long a device may be offline before its symbols are replaced (ms). */
  graceMs: number;
  /** Cap on repair traffic (bytes read + written per second). */
  bytesPerSecond: number;
  /** Time between scrub steps (ms); 0 disables the scrubber. */
  scrubIntervalMs: number;
  /** Symbols checked per scrub step. */
  scrubSymbolsPerStep: number;
  /** Objects whose holders are challenged per scrub step (one random holder and symbol each). */
  verifyObjectsPerStep: number;
  /** Symbols of an object without a manifest (an interrupted store) are collected after this (ms). */
  orphanGraceMs: number;
}

export const DEFAULT_REPAIR: RepairOptions = {
  intervalMs: 60_000,
  graceMs: 10 * 60_000,
  bytesPerSecond: 64 * 1024 * 1024,
  scrubIntervalMs: 10_000,
  scrubSymbolsPerStep: 256,
  verifyObjectsPerStep: 8,
  orphanGraceMs: 60 * 60_000,
};

/** `degraded`: below its policy, but as safe as the devices there are allow (nothing to add). */
export type RepairOutcome = 'healthy' | 'repaired' | 'rebalanced' | 'degraded' | 'postponed' | 'not-leader' | 'impossible' | 'no-key' | 'collected' | 'quarantined' | 'unreconciled';

/**
 * The names of a zone, for reconciling after a long absence (the files layer's mark): the object
 * ids (hex) a live name or kept snapshot still needs. Throws when the names cannot be read now.
 */
export type NamedCheck = (zoneId: string) => Promise<Set<string>>;

export interface RepairStats {
  passes: number;
  repaired: number;
  rebalanced: number;
  symbolsAdded: number;
  symbolsDropped: number;
  bytesRead: number;
  bytesWritten: number;
  corruptFound: number;
  scrubbed: number;
  /** Symbol challenges sent to holders, and how many a holder failed. */
  challenges: number;
  challengesFailed: number;
  /** Objects of interrupted stores whose symbols were collected, and manifests adopted instead. */
  orphansCollected: number;
  manifestsAdopted: number;
  /** Objects erased here and on the holders because a tombstone says they were collected. */
  tombstonedErased: number;
}

const HIGH_WATER_FILE = 'repair-esi.json';

export class RepairLoop {
  readonly stats: RepairStats = { passes: 0, repaired: 0, rebalanced: 0, symbolsAdded: 0, symbolsDropped: 0, bytesRead: 0, bytesWritten: 0, corruptFound: 0, scrubbed: 0, challenges: 0, challengesFailed: 0, orphansCollected: 0, manifestsAdopted: 0, tombstonedErased: 0 };
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<Map<string, RepairOutcome>> | null = null;
  private rerun = false;
  private highWater: Record<string, number[]> | null = null;
  private readonly scrubCursor: ManifestCursor;
  private readonly verifyCursor: ManifestCursor;
  /** Devices online in the tailnet whose fcpd stopped answering, and since when. */
  private readonly unreachableSince = new Map<string, number>();
  private stopped = false;

  /** When this loop first saw each device offline (monotonic). */
  private readonly offlineSeen = new Map<string, number>();
  private readonly now: Clock;

  constructor(
    private readonly d: RepairDeps,
    readonly opts: RepairOptions = DEFAULT_REPAIR,
  ) {
    this.now = d.clock ?? monotonic;
    this.scrubCursor = new ManifestCursor(d.store);
    this.verifyCursor = new ManifestCursor(d.store);
  }

  start(): void {
    // A device that was away learns what was collected meanwhile before anything is stored or
    // repaired from its stale copies (the first pass asks again).
    // Puts wait for it (NameRecords.tombstonesFresh) before taking a copy held here for stored.
    const learning = this.learnTombstones();
    this.d.records?.startCatchUp(learning);
    void learning.catch(() => undefined);
    if (this.opts.intervalMs > 0) {
      const t = setInterval(() => void this.pass().catch((err: Error) => this.d.log.warn({ err: err.message }, 'repair pass failed')), this.opts.intervalMs);
      t.unref();
      this.timers.push(t);
      // Devices coming and going are seen on the watch stream; react soon, not only on the timer.
      this.d.directory.on('change', this.onChange);
    }
    if (this.opts.scrubIntervalMs > 0) {
      const t = setInterval(() => {
        void this.scrubStep().catch((err: Error) => this.d.log.warn({ err: err.message }, 'scrub failed'));
        void this.verifyStep().catch((err: Error) => this.d.log.warn({ err: err.message }, 'verify failed'));
      }, this.opts.scrubIntervalMs);
      t.unref();
      this.timers.push(t);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.d.directory.off('change', this.onChange);
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.running?.catch(() => undefined);
  }

  private readonly onChange = (): void => {
    const t = setTimeout(() => void this.pass().catch(() => undefined), 250);
    t.unref();
  };

  /** One sweep over every object this device knows; concurrent callers share it (and queue one more). */
  pass(): Promise<Map<string, RepairOutcome>> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    // Assigned before the sweep starts: a sweep that finishes synchronously (an empty store)
    // must still clear `running`, or no pass would ever run again.
    let finish!: (v: Map<string, RepairOutcome>) => void;
    let fail!: (e: unknown) => void;
    const running = new Promise<Map<string, RepairOutcome>>((res, rej) => ((finish = res), (fail = rej)));
    this.running = running;
    void (async () => {
      let outcomes = new Map<string, RepairOutcome>();
      try {
        do {
          this.rerun = false;
          outcomes = new Map();
          this.noteOffline();
          await this.learnTombstones();
          await this.reconcile().catch((err: Error) => this.d.log.warn({ err: err.message }, 'reconciliation after a long absence failed; tried again next pass'));
          const manifests = this.d.store.listManifests();
          const clean = await this.cleanFromSummaries(manifests).catch((err: Error) => {
            this.d.log.warn({ err: err.message }, 'holdings summaries unavailable; every object is looked at');
            return new Set<string>();
          });
          for (const m of manifests) {
            if (this.stopped) break;
            const hex = objectIdToHex(m.objectId);
            // Held back after an absence longer than the tombstone TTL: neither repaired nor re-spread.
            if (this.d.records?.isHeld(m.objectId) && !this.d.records.isDead(m.objectId)) {
              outcomes.set(hex, 'unreconciled');
              continue;
            }
            // A collected object goes through repairObject, which erases it; summaries would call it healthy.
            if (clean.has(hex) && !this.d.records?.isDead(m.objectId)) {
              outcomes.set(hex, 'healthy');
              continue;
            }
            outcomes.set(hex, await this.repairObject(m).catch((err: Error) => {
              this.d.log.warn({ objectId: hex, err: err.message }, 'repair of object failed');
              return 'postponed' as const;
            }));
          }
          if (!this.stopped) await this.collectOrphans().catch((err: Error) => this.d.log.warn({ err: err.message }, 'orphan collection failed'));
          this.stats.passes++;
        } while (this.rerun && !this.stopped);
        this.running = null;
        finish(outcomes);
      } catch (err) {
        this.running = null;
        fail(err);
      }
    })();
    return running;
  }

  /** Set by the files layer: which objects the names of a zone still need (reconciling, tomb-sync.ts). */
  namedCheck: NamedCheck | null = null;

  /**
   * Zones unreconciled after an absence longer than the tombstone TTL (tomb-sync.ts): the objects
   * held here that no other device of the zone holds are held back. Once every device of the zone
   * has answered and the names could be read, those a name needs are released (repair restores
   * them) and the zone is reconciled; the rest stay held back (never re-spread): they are what was
   * collected while this device was away, and the collection pass tombstones them again.
   */
  private async reconcile(): Promise<void> {
    const r = this.d.records;
    if (!r) return;
    // Held objects that are gone here (collected again, erased) are not held any more.
    for (const hex of r.sync.allHeld()) if (!this.d.store.getManifest(objectIdFromHex(hex))) r.sync.release(hex);
    for (const id of r.sync.unreconciledZones()) {
      if (!this.d.zones.has(id)) continue;
      const zone = this.d.zones.get(id);
      const remotes = this.d.eligibility.holdersFor(zone).filter((h) => !h.local);
      const answers = await Promise.allSettled(remotes.map((h) => h.listManifests(zone.id)));
      const elsewhere = new Set<string>();
      for (const a of answers) if (a.status === 'fulfilled') for (const m of a.value) if (m.zone === zone.id) elsewhere.add(objectIdToHex(m.objectId));
      const mine = this.d.store.listManifests(zone.id).filter((m) => !r.isDead(m.objectId)).map((m) => objectIdToHex(m.objectId));
      for (const hex of mine) if (elsewhere.has(hex)) r.sync.release(hex);
      const alone = mine.filter((hex) => !elsewhere.has(hex));
      r.sync.hold(zone.id, alone);
      const complete = answers.every((a) => a.status === 'fulfilled') && this.d.directory.all().every((i) => i.peer.online || !this.d.eligibility.couldHold(i, zone));
      if (!complete || !this.namedCheck) {
        this.d.log.info({ zone: zone.id, held: r.sync.held(zone.id).length, complete }, 'zone not reconciled yet: objects only this device holds stay held back');
        continue;
      }
      const named = await this.namedCheck(zone.id);
      let released = 0;
      for (const hex of r.sync.held(zone.id)) if (named.has(hex) && r.sync.release(hex)) released++;
      const kept = r.sync.held(zone.id);
      r.sync.reconciled(zone.id);
      // What no name needs and no other device holds stays held back (not spread) until collected.
      if (kept.length > 0) r.sync.hold(zone.id, kept);
      this.d.log.warn({ zone: zone.id, released, heldBack: kept.length }, 'zone reconciled after a long absence');
    }
  }

  /** Tombstones of the zones this device holds objects of, from the online holders (one ask each). */
  private async learnTombstones(): Promise<void> {
    if (!this.d.records) return;
    await this.d.records.expireTombstones().catch((err: Error) => this.d.log.warn({ err: err.message }, 'expired tombstones not forgotten'));
    const zones = new Set(this.d.store.listManifests().map((m) => m.zone));
    for (const id of zones) {
      if (!this.d.zones.has(id)) continue;
      await this.d.records.pullTombstones(this.d.zones.get(id)).catch((err: Error) => this.d.log.warn({ zone: id, err: err.message }, 'tombstones not pulled'));
    }
  }

  /**
   * Symbols of objects that still have no manifest here after the orphan grace period: if a
   * peer knows the manifest (this device missed it), it is adopted; otherwise the symbols are
   * what an interrupted store left behind, and they go.
   */
  private async collectOrphans(maxObjects = 64): Promise<void> {
    const grace = this.opts.orphanGraceMs;
    for (const o of this.d.store.listOrphans(grace, Date.now(), maxObjects)) {
      if (this.d.records?.isDead(o.objectId)) continue; // collected: never adopted back
      try {
        const m = await this.d.reader.findManifest(objectIdToHex(o.objectId));
        const zk = this.d.zoneKey(m.zone);
        if (zk && zoneKeyFor(zk, m.keyId) && bytesEqual(m.objectId, o.objectId)) {
          await this.d.store.putManifest(m);
          this.stats.manifestsAdopted++;
        }
      } catch {
        // no device knows it: an interrupted store
      }
    }
    const r = await this.d.store.collectOrphans(grace, Date.now(), maxObjects);
    if (r.objects.length > 0) {
      this.stats.orphansCollected += r.objects.length;
      this.d.log.info({ objects: r.objects.length, symbols: r.symbols, bytes: r.bytes }, 'symbols of interrupted stores collected');
    }
  }

  /**
   * Objects a pass need not touch: every eligible holder's summary shows each block meeting the
   * policy, with no surplus to drop (or surplus kept while a device is away). These holders are
   * not challenged here; the verifier keeps sampling them (verifyStep). Everything else, and
   * every object of a zone whose holders could not all be asked, gets the per-object look.
   */
  private async cleanFromSummaries(manifests: Manifest[]): Promise<Set<string>> {
    const clean = new Set<string>();
    if (!this.d.summaries) return clean;
    const now = this.now();
    const known = manifests.filter((m) => this.d.zones.has(m.zone) && this.d.zoneKey(m.zone));
    const { perZone, wants } = holdersByZone(known, (id) => this.d.eligibility.holdersFor(this.d.zones.get(id)));
    const views = await this.d.summaries.refresh(wants);
    for (const [id, v] of views) if (v.ok) this.unreachableSince.delete(id);
    // What decides every object of a zone is the same for all of them: worked out once per zone.
    const perZoneState = new Map<string, { holders: Holder[]; views: ZoneView[]; waiting: boolean } | null>();
    for (const m of known) {
      let z = perZoneState.get(m.zone);
      if (z === undefined) {
        const holders = perZone.get(m.zone)!;
        const zoneViews = holders.map((h) => zoneViewOf(views, h, m.zone));
        const usable = holders.length > 0 && !holders.some((h) => this.d.marks.isDistrusted(h.stableId)) && !zoneViews.some((v) => !v);
        z = usable ? { holders, views: zoneViews as ZoneView[], waiting: this.waitingFor(this.d.zones.get(m.zone), now) } : null;
        perZoneState.set(m.zone, z);
      }
      if (!z) continue;
      const hex = objectIdToHex(m.objectId);
      const policy = policyOfCached(m.placement);
      const ks = blockSizes(m.oti);
      const counts = z.views.map((v) => v.counts(hex));
      let ok = true;
      let surplus = false;
      for (let sbn = 0; sbn < ks.length && ok; sbn++) {
        const k = ks[sbn]!;
        const holdings = z.holders.map((h, i) => ({ device: h.stableId, symbols: counts[i]?.[sbn] ?? 0 }));
        if (!blockMeetsPolicy(k, holdings, policy)) ok = false;
        else if (planDrops(k, holdings, policy).size > 0) surplus = true;
      }
      if (ok && (!surplus || z.waiting)) clean.add(hex);
    }
    return clean;
  }

  /** Whether a device that could hold `zone` is offline but still within its grace period. */
  private waitingFor(zone: Zone, now: number): boolean {
    return this.d.directory.all().some((i) => !i.peer.online && now - (this.offlineSeen.get(i.peer.stableId) ?? now) < this.opts.graceMs && this.d.eligibility.couldHold(i, zone));
  }

  /** Tracks, on the monotonic clock, since when each device has been offline. */
  private noteOffline(): void {
    const now = this.now();
    const offline = new Set<string>();
    for (const i of this.d.directory.all()) {
      if (i.peer.online) continue;
      offline.add(i.peer.stableId);
      if (!this.offlineSeen.has(i.peer.stableId)) this.offlineSeen.set(i.peer.stableId, now);
    }
    for (const id of [...this.offlineSeen.keys()]) if (!offline.has(id)) this.offlineSeen.delete(id);
  }

  /** Brings one object back to its policy (or trims its surplus) if this device is its repairer. */
  async repairObject(m: Manifest): Promise<RepairOutcome> {
    if (!this.d.zones.has(m.zone)) return 'impossible';
    const zone = this.d.zones.get(m.zone);
    if (this.d.records?.isDead(m.objectId)) return this.eraseCollected(m, zone);
    const zk = this.d.zoneKey(zone.id);
    if (!zk) return 'no-key';
    let holders = this.d.eligibility.holdersFor(zone);
    if (holders.length === 0) return 'impossible';
    const now = this.now();
    const lead = await this.leads(m, holders, now);
    if (lead !== 'lead') return lead;
    // Devices offline within their grace period still count: wait for them.
    const waiting = this.waitingFor(zone, now);
    const policy = policyOf(m.placement);
    const layout = new RaptorQDecoder(m.oti);
    const have = new Map<string, Array<[number, number]>>();
    const answers = await Promise.allSettled(holders.map((h) => h.have(m.objectId)));
    let unsure = false;
    holders = holders.filter((h, i) => {
      const a = answers[i]!;
      if (a.status === 'fulfilled') {
        have.set(h.stableId, a.value);
        this.unreachableSince.delete(h.stableId);
        return true;
      }
      // Online in the tailnet but its fcpd does not answer: like an offline device, it counts
      // until the grace period is over, then its symbols are written off.
      const since = this.unreachableSince.get(h.stableId) ?? now;
      this.unreachableSince.set(h.stableId, since);
      if (now - since < this.opts.graceMs) unsure = true;
      return false;
    });
    if (unsure) return 'postponed';
    // A holder that claims symbols must produce one, chosen at random, that opens under the zone key.
    const verdicts = await Promise.all(holders.map((h) => this.challenge(h, m, zk, have.get(h.stableId)!)));
    holders = holders.filter((h, i) => {
      if (verdicts[i]) return true;
      this.d.marks.distrust(h.stableId);
      this.stats.challengesFailed++;
      this.d.log.warn({ device: h.hostName, objectId: objectIdToHex(m.objectId) }, 'holder failed a symbol challenge; its symbols are not counted');
      return false;
    });
    if (holders.length === 0) return 'impossible';
    const blockHoldings = (sbn: number): Holding[] => holders.map((h) => ({ device: h.stableId, symbols: have.get(h.stableId)!.filter(([b]) => b === sbn).length }));

    let healthy = true;
    for (let sbn = 0; sbn < layout.blockCount; sbn++) {
      if (!blockMeetsPolicy(layout.sourceSymbolCount(sbn), blockHoldings(sbn), policy)) healthy = false;
    }
    if (healthy) {
      if (waiting) return 'healthy';
      return (await this.trimSurplus(m, holders, have, layout, policy)) ? 'rebalanced' : 'healthy';
    }
    if (waiting) return 'postponed';

    const plans: Array<{ sbn: number; k: number; add: Map<string, number> }> = [];
    for (let sbn = 0; sbn < layout.blockCount; sbn++) {
      const k = layout.sourceSymbolCount(sbn);
      const holdings = blockHoldings(sbn);
      // Too few devices left for the policy: still make the object as safe as they allow.
      const add = planAdditions(k, holdings, policy) ?? planAdditions(k, holdings, achievablePolicy(policy, holdings.length));
      if (!add) return 'impossible';
      if (add.size > 0) plans.push({ sbn, k, add });
    }
    if (plans.length === 0) return 'degraded';
    const data = await this.readExactly(m, zone, zk, holders, have, layout);
    const idHex = objectIdToHex(m.objectId);
    const marks = await this.loadHighWater();
    const reserved: number[] = [...(marks[idHex] ?? [])];
    const requests = plans.map(({ sbn, k, add }) => {
      const maxSeen = Math.max(-1, ...[...have.values()].flat().filter(([b]) => b === sbn).map(([, e]) => e));
      const firstEsi = Math.max(k, maxSeen + 1, reserved[sbn] ?? 0);
      const count = [...add.values()].reduce((a, b) => a + b, 0);
      reserved[sbn] = firstEsi + count;
      return { sbn, firstEsi, count };
    });
    // Coded off the event loop for large objects (the coding worker).
    const coded = await makeSymbols(m.length === 0 ? new Uint8Array(1) : data, m.oti, requests);
    const perHolder = new Map<string, SymbolEntry[]>();
    let i = 0;
    plans.forEach(({ sbn, k, add }) => {
      for (const [device, n] of add) {
        const list = perHolder.get(device) ?? [];
        for (let j = 0; j < n; j++, i++) {
          const esi = coded.esis[i]!;
          const symbol = coded.bytes.subarray(i * coded.symbolSize, (i + 1) * coded.symbolSize);
          list.push({ sbn, esi, env: this.d.seal(zk, { objectId: m.objectId, sbn, esi, k }, symbol) });
        }
        perHolder.set(device, list);
      }
    });
    // The ESIs are spent before any symbol leaves: a crash here never leads to an ESI used twice.
    marks[idHex] = reserved;
    await this.saveHighWater();
    let written = 0;
    await Promise.all(
      [...perHolder].map(async ([device, symbols]) => {
        const h = holders.find((x) => x.stableId === device)!;
        await h.putSymbols(m.objectId, zone.id, symbols);
        // Repair carries the manifest: a holder that missed the put now lists and serves the object.
        await h.putManifest(m);
        written += symbols.reduce((a, s) => a + s.env.length, 0);
        this.stats.symbolsAdded += symbols.length;
      }),
    );
    this.stats.bytesWritten += written;
    this.stats.repaired++;
    this.d.log.info({ objectId: idHex, symbols: [...perHolder.values()].reduce((a, l) => a + l.length, 0) }, 'object repaired');
    await this.throttle(written + data.length);
    return 'repaired';
  }

  /**
   * A tombstoned object still held here (this device was away when it was collected, or an
   * erase did not reach a holder): its copy goes here and on every holder online.
   */
  private async eraseCollected(m: Manifest, zone: Zone): Promise<RepairOutcome> {
    // Collected, but its copies stay through the quarantine (a put under way may revive it).
    if (!this.d.records?.erasable(m.objectId)) return 'quarantined';
    await this.d.store.deleteObject(m.objectId);
    await Promise.allSettled(this.d.eligibility.holdersFor(zone).filter((h) => !h.local).map((h) => h.erase(m.objectId)));
    this.stats.tombstonedErased++;
    this.d.log.info({ objectId: objectIdToHex(m.objectId), zone: zone.id }, 'collected object erased (tombstone)');
    return 'collected';
  }

  /**
   * Whether this device repairs the object: the candidate with the smallest stable id that has
   * the manifest leads (a device that missed the put cannot). A candidate whose fcpd has not
   * answered for longer than the grace period cannot lead either.
   */
  private async leads(m: Manifest, holders: Holder[], now: number): Promise<'lead' | 'not-leader' | 'impossible'> {
    const candidates = holders
      .filter((h) => now - (this.unreachableSince.get(h.stableId) ?? now) < this.opts.graceMs && !this.d.marks.isDistrusted(h.stableId))
      .sort((a, b) => (a.stableId < b.stableId ? -1 : a.stableId > b.stableId ? 1 : 0));
    if (candidates.length === 0) return 'impossible';
    for (const c of candidates) {
      if (c.local) return 'lead';
      try {
        const known = await c.getManifest(m.objectId);
        this.unreachableSince.delete(c.stableId);
        if (known) return 'not-leader';
        // It missed the manifest: the next candidate leads, and carries the manifest to it.
      } catch {
        // Keep an eye on the repairer: if its fcpd stops answering, the next in line takes over.
        if (!this.unreachableSince.has(c.stableId)) this.unreachableSince.set(c.stableId, now);
        return 'not-leader';
      }
    }
    return 'not-leader';
  }

  /**
   * The verifier: for the next few objects, one random remote holder is asked for one random
   * symbol it claims, whoever leads their repair. A holder that cannot produce it is distrusted
   * (not counted, not a repairer) for a while. Returns how many holders failed.
   */
  async verifyStep(objects = this.opts.verifyObjectsPerStep): Promise<number> {
    let failed = 0;
    for (const m of this.verifyCursor.next(objects)) {
      if (!this.d.zones.has(m.zone)) continue;
      const zk = this.d.zoneKey(m.zone);
      if (!zk) continue;
      const remotes = this.d.eligibility.readersFor(this.d.zones.get(m.zone)).filter((h) => !h.local && !this.d.marks.isDistrusted(h.stableId));
      const h = remotes[Math.floor(Math.random() * remotes.length)];
      if (!h) continue;
      let claimed: Array<[number, number]>;
      try {
        claimed = await h.have(m.objectId);
      } catch {
        continue;
      }
      if (await this.challenge(h, m, zk, claimed)) continue;
      failed++;
      this.stats.challengesFailed++;
      this.d.marks.distrust(h.stableId);
      this.d.log.warn({ device: h.hostName, objectId: objectIdToHex(m.objectId) }, 'holder failed a symbol challenge; it is not counted until it passes again');
    }
    return failed;
  }

  /**
   * Asks a holder for one of the symbols it claims, chosen at random, and checks its tag. A
   * symbol that is gone when asked for but also no longer claimed (surplus just dropped) is no
   * lie: another one is asked for. A holder that passes is trusted again.
   */
  private async challenge(h: Holder, m: Manifest, zk: ZoneKey, claimed: Array<[number, number]>): Promise<boolean> {
    for (let attempt = 0; attempt < 3 && claimed.length > 0; attempt++) {
      const [sbn, esi] = claimed[Math.floor(Math.random() * claimed.length)]!;
      let got: SymbolEntry | undefined;
      try {
        const s = h.fetch(m.objectId, m.zone, [[sbn, esi]], (batch) => (got ??= batch.find((x) => x.sbn === sbn && x.esi === esi)));
        await s.done;
        this.stats.challenges++;
        if (!got) {
          const now = await h.have(m.objectId);
          if (now.some(([b, e]) => b === sbn && e === esi)) return false;
          claimed = now;
          continue;
        }
      } catch {
        return true; // unreachable now, not caught lying: the have/grace logic handles it
      }
      try {
        openSymbol(zk, got.env, { objectId: m.objectId, sbn, esi, zoneId: m.zone });
        this.d.marks.trust(h.stableId);
        return true;
      } catch (err) {
        if (err instanceof CryptoError) return false;
        throw err;
      }
    }
    return true;
  }

  /** Fetches K + margin symbols of every block, source symbols first, each from a holder that has it. */
  private async readExactly(m: Manifest, zone: Zone, zk: ZoneKey, holders: Holder[], have: Map<string, Array<[number, number]>>, layout: RaptorQDecoder): Promise<Uint8Array> {
    const wants = new Map<string, Array<[number, number]>>();
    for (let sbn = 0; sbn < layout.blockCount; sbn++) {
      const need = layout.sourceSymbolCount(sbn) + DECODE_MARGIN;
      const offers: Array<{ device: string; local: boolean; esi: number }> = [];
      for (const h of holders) for (const [b, e] of have.get(h.stableId)!) if (b === sbn) offers.push({ device: h.stableId, local: h.local, esi: e });
      // Local symbols cost nothing on the network; then lowest ESIs (source symbols decode fastest).
      offers.sort((a, b) => Number(b.local) - Number(a.local) || a.esi - b.esi);
      for (const o of offers.slice(0, need)) {
        const list = wants.get(o.device) ?? [];
        list.push([sbn, o.esi]);
        wants.set(o.device, list);
      }
    }
    for (const h of holders) if (!wants.has(h.stableId)) wants.set(h.stableId, []);
    const assembler = await this.d.reader.assemble(m, zone, zk, holders, wants);
    this.stats.bytesRead += assembler.bytesIn;
    // Rare: the exact symbols did not decode and nothing else arrived. Read whatever is reachable.
    return assembler.done ?? this.d.reader.read(m, zone, zk);
  }

  /** Drops surplus symbols (highest ESIs first) once every eligible device is back. */
  private async trimSurplus(m: Manifest, holders: Holder[], have: Map<string, Array<[number, number]>>, layout: RaptorQDecoder, policy: PlacementPolicy): Promise<boolean> {
    const doomed = new Map<string, Array<[number, number]>>();
    for (let sbn = 0; sbn < layout.blockCount; sbn++) {
      const holdings = holders.map((h) => ({ device: h.stableId, symbols: have.get(h.stableId)!.filter(([b]) => b === sbn).length }));
      for (const [device, n] of planDrops(layout.sourceSymbolCount(sbn), holdings, policy)) {
        const mine = have.get(device)!.filter(([b]) => b === sbn).sort((a, b) => b[1] - a[1]);
        const list = doomed.get(device) ?? [];
        list.push(...mine.slice(0, n));
        doomed.set(device, list);
      }
    }
    if (doomed.size === 0) return false;
    await Promise.all([...doomed].map(([device, keys]) => holders.find((h) => h.stableId === device)!.drop(m.objectId, keys)));
    this.stats.symbolsDropped += [...doomed.values()].reduce((a, l) => a + l.length, 0);
    this.stats.rebalanced++;
    return true;
  }

  /** Checks the next few stored symbols' AEAD tags; deletes corrupt ones so repair replaces them. */
  async scrubStep(budget = this.opts.scrubSymbolsPerStep): Promise<number> {
    const held = this.d.store.manifestCount();
    let checked = 0;
    let corrupt = 0;
    // One object at a time from where the last step stopped, at most once round the store.
    for (let visited = 0; visited < held && checked < budget; visited++) {
      const m = this.scrubCursor.next(1)[0];
      if (!m) break;
      const zk = this.d.zoneKey(m.zone);
      if (!zk) continue;
      const bad: Array<[number, number]> = [];
      for (const s of await this.d.store.getSymbols(m.objectId)) {
        checked++;
        try {
          openSymbol(zk, s.env, { objectId: m.objectId, sbn: s.sbn, esi: s.esi, zoneId: m.zone });
        } catch (err) {
          if (err instanceof CryptoError) bad.push([s.sbn, s.esi]);
          else throw err;
        }
      }
      if (bad.length > 0) {
        await this.d.store.deleteSymbols(m.objectId, bad);
        corrupt += bad.length;
        this.d.log.warn({ objectId: objectIdToHex(m.objectId), corrupt: bad.length }, 'scrubber removed corrupt symbols');
      }
    }
    this.stats.scrubbed += checked;
    this.stats.corruptFound += corrupt;
    if (corrupt > 0) this.onChange();
    return corrupt;
  }

  private async throttle(bytes: number): Promise<void> {
    const ms = (bytes / this.opts.bytesPerSecond) * 1000;
    if (ms >= 1) await new Promise((r) => setTimeout(r, Math.min(ms, 5_000)));
  }

  private async loadHighWater(): Promise<Record<string, number[]>> {
    if (this.highWater) return this.highWater;
    try {
      this.highWater = JSON.parse(await readFile(join(this.d.dataDir, HIGH_WATER_FILE), 'utf8')) as Record<string, number[]>;
    } catch {
      this.highWater = {};
    }
    return this.highWater;
  }

  private async saveHighWater(): Promise<void> {
    const path = join(this.d.dataDir, HIGH_WATER_FILE);
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(this.highWater ?? {}));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  }
}

/**
 * Walks the store's manifests in id order a few at a time, going on from the start at the end:
 * a scrub or verify step costs what it looks at, not a decode of every manifest held.
 */
class ManifestCursor {
  private after: Uint8Array | undefined;

  constructor(private readonly store: SymbolStore) {}

  /** Up to `n` manifests after the last one handed out (the walk wraps round, once per call). */
  next(n: number): Manifest[] {
    const out = this.store.manifestsAfter(this.after, n);
    if (out.length < n && this.after !== undefined) {
      const first = out[0]?.objectId;
      for (const m of this.store.manifestsAfter(undefined, n - out.length)) {
        if (first && bytesEqual(m.objectId, first)) break; // round the whole store already
        out.push(m);
      }
    }
    this.after = out.at(-1)?.objectId;
    return out;
  }
}
