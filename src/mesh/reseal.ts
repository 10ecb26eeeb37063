// Re-sealing after a zone key rotation: in the background, a bounded number of objects a step,
// this device opens the symbols it holds under an older epoch and seals them again under the
// current one (same position, same length), then points its manifests at the new key. Progress
// is saved in the data directory, so a restart resumes after the last object done. When nothing
// here is under an older epoch and the zone's online members say the same, the older keys are
// dropped: from then on only the current epoch opens the zone's symbols.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { bytesEqual, envelopeHeader, objectIdToHex, openSymbol, zoneKeyFor, type SymbolEntry, type ZoneKey } from '../crypto/index.js';
import type { SymbolStore } from '../store/index.js';
import type { Keyring } from './keyring.js';

const FILE = 'reseal.json';

export interface ResealOptions {
  /** Pause between steps (ms); 0 = steps run only when asked (tests). */
  intervalMs: number;
  /** Objects re-sealed per step: bounds the work (and the store writes) of one step. */
  objectsPerStep: number;
  /** Least time between two rounds of asking the members whether they are done (one request each). */
  membersCheckMs: number;
}

export const DEFAULT_RESEAL: ResealOptions = { intervalMs: 250, objectsPerStep: 32, membersCheckMs: 5_000 };

export type ResealState = 'resealing' | 'waiting-for-members' | 'done';

export interface ResealProgress {
  zone: string;
  /** The epoch symbols are being re-sealed to. */
  epoch: number;
  state: ResealState;
  /** Objects of the zone held here, and how many are done. */
  objects: number;
  done: number;
  /** Symbols re-sealed so far. */
  symbols: number;
}

interface Cursor {
  epoch: number;
  /** Hex id of the last object done (objects go in id order). */
  after: string | null;
  done: number;
  symbols: number;
  localDone: boolean;
  dropped: boolean;
}

export interface ResealDeps {
  dataDir: string;
  store: SymbolStore;
  keyring: Keyring;
  seal: (zk: ZoneKey, h: { objectId: Uint8Array; sbn: number; esi: number; k: number }, symbol: Uint8Array) => Uint8Array;
  log: Logger;
}

export class Resealer {
  private cursors = new Map<string, Cursor>();
  private loaded = false;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly askedAt = new Map<string, number>();
  /** Whether the zone's other members hold nothing under older epochs (installed by the services layer). */
  membersDone: (zone: string, epoch: number) => Promise<boolean> = async () => true;

  constructor(
    private readonly d: ResealDeps,
    private readonly opts: ResealOptions = DEFAULT_RESEAL,
  ) {}

  start(): void {
    if (this.opts.intervalMs <= 0) return;
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.step()
          .catch((err: Error) => this.d.log.warn({ err: err.message }, 're-sealing step failed'))
          .finally(() => {
            if (!this.stopped) tick();
          });
      }, this.opts.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Zones with keys of an older epoch still kept here. */
  private zonesToDo(): string[] {
    return this.d.keyring.zoneIds().filter((z) => this.d.keyring.olderKeys(z).length > 0);
  }

  /** True while this device still holds symbols of `zone` under an older epoch. */
  busy(zone: string): boolean {
    if (this.d.keyring.olderKeys(zone).length === 0) return false;
    const c = this.cursors.get(zone);
    return !c || c.epoch !== this.d.keyring.zoneKey(zone)?.epoch || !c.localDone;
  }

  progress(): ResealProgress[] {
    const out: ResealProgress[] = [];
    for (const [zone, c] of [...this.cursors].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const state: ResealState = c.dropped ? 'done' : c.localDone ? 'waiting-for-members' : 'resealing';
      out.push({ zone, epoch: c.epoch, state, objects: this.d.store.listManifests(zone).length, done: c.done, symbols: c.symbols });
    }
    for (const zone of this.zonesToDo()) {
      if (!this.cursors.has(zone)) out.push({ zone, epoch: this.d.keyring.zoneKey(zone)!.epoch, state: 'resealing', objects: this.d.store.listManifests(zone).length, done: 0, symbols: 0 });
    }
    return out;
  }

  /** One bounded step over every zone with older keys (concurrent callers share it). */
  step(): Promise<void> {
    if (!this.running) this.running = this.doStep().finally(() => (this.running = null));
    return this.running;
  }

  /** Steps until no zone has older keys left or `maxSteps` ran; returns whether all finished. */
  async drain(maxSteps = 10_000): Promise<boolean> {
    for (let i = 0; i < maxSteps && this.zonesToDo().length > 0; i++) await this.step();
    return this.zonesToDo().length === 0;
  }

  private async doStep(): Promise<void> {
    await this.load();
    let changed = false;
    for (const zone of this.zonesToDo()) {
      const current = this.d.keyring.zoneKey(zone)!;
      let c = this.cursors.get(zone);
      if (!c || c.epoch !== current.epoch) {
        // A new epoch (or a rotation during re-sealing): start over; done objects are skipped fast.
        c = { epoch: current.epoch, after: null, done: 0, symbols: 0, localDone: false, dropped: false };
        this.cursors.set(zone, c);
        changed = true;
      }
      if (!c.localDone) {
        const manifests = this.d.store.listManifests(zone);
        const todo = manifests.filter((m) => c.after === null || objectIdToHex(m.objectId) > c.after).slice(0, this.opts.objectsPerStep);
        for (const m of todo) {
          c.symbols += await this.resealObject(m.objectId, zone, current);
          const zkNow = this.d.keyring.zoneKey(zone)!;
          const fresh = this.d.store.getManifest(m.objectId);
          if (fresh && !bytesEqual(fresh.keyId, zkNow.keyId)) await this.d.store.putManifest({ ...fresh, keyId: zkNow.keyId, epoch: zkNow.epoch });
          c.after = objectIdToHex(m.objectId);
          c.done++;
        }
        if (todo.length < this.opts.objectsPerStep) {
          c.localDone = true;
          this.d.log.info({ zone, epoch: c.epoch, objects: c.done, symbols: c.symbols }, 'symbols held here re-sealed to the new epoch');
        }
        changed = true;
      }
      const due = Date.now() - (this.askedAt.get(zone) ?? 0) >= this.opts.membersCheckMs;
      if (c.localDone && due && (this.askedAt.set(zone, Date.now()), await this.membersDone(zone, c.epoch).catch(() => false))) {
        const n = await this.d.keyring.dropOlder(zone);
        c.dropped = true;
        changed = true;
        this.d.log.info({ zone, epoch: c.epoch, dropped: n }, 're-sealing finished on the members; older zone keys dropped');
      }
    }
    if (changed) await this.save();
  }

  /** Re-seals the symbols of one object held under an older epoch; returns how many. */
  private async resealObject(objectId: Uint8Array, zone: string, current: ZoneKey): Promise<number> {
    const out: SymbolEntry[] = [];
    for (const s of await this.d.store.getSymbols(objectId)) {
      const h = envelopeHeader(s.env);
      if (bytesEqual(h.keyId, current.keyId)) continue;
      const old = zoneKeyFor(current, h.keyId);
      if (!old) continue; // under no key known here: the scrubber's business, not ours
      let plain: Uint8Array;
      try {
        plain = openSymbol(old, s.env, { objectId, sbn: s.sbn, esi: s.esi, zoneId: zone });
      } catch {
        continue; // a damaged symbol is left for the scrubber to delete and repair to replace
      }
      out.push({ sbn: s.sbn, esi: s.esi, env: this.d.seal(current, { objectId, sbn: s.sbn, esi: s.esi, k: h.k }, plain) });
      plain.fill(0);
    }
    return out.length > 0 ? this.d.store.resealSymbols(objectId, out) : 0;
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    this.loaded = true;
    try {
      const v = JSON.parse(await readFile(join(this.d.dataDir, FILE), 'utf8')) as Record<string, Cursor>;
      for (const [zone, c] of Object.entries(v)) if (c && Number.isSafeInteger(c.epoch)) this.cursors.set(zone, c);
    } catch {
      // none yet (or unreadable): every zone with older keys starts from its first object
    }
  }

  private async save(): Promise<void> {
    const path = join(this.d.dataDir, FILE);
    await writeFile(`${path}.tmp`, `${JSON.stringify(Object.fromEntries(this.cursors), null, 2)}\n`, { mode: 0o600 });
    await rename(`${path}.tmp`, path);
  }
}
