// Self-healing: a repair loop that restores each object's placement policy when devices stay
// away past a grace period or leave the tailnet, drops surplus when they return, and a scrubber
// that re-checks stored symbols' AEAD tags and removes corrupt ones (the next repair replaces them).
//
// One device repairs a given object: the eligible holder with the smallest stable id among those
// online. Repair reads about K symbols per block (exactly chosen from what each holder has),
// decodes, makes repair symbols at fresh ESIs above every ESI ever used (a high-water mark kept
// on disk before sending), and writes them to the devices holding fewest. Every pass starts from
// what the devices hold now, so work interrupted by a crash completes on the next pass.
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { RaptorQDecoder } from '../raptorq/index.js';
import { makeSymbols } from './coding.js';
import { CryptoError, objectIdToHex, openSymbol, type Manifest, type SymbolEntry } from '../crypto/index.js';
import { DECODE_MARGIN, policyOf, type PlacementPolicy } from './placement.js';
import { blockMeetsPolicy, planAdditions, planDrops, type Holding } from './health.js';
import { ObjectAssembler } from './objects.js';
import type { Holder, MeshNode } from './node.js';
import { mayHold } from '../zones/index.js';

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
}

export const DEFAULT_REPAIR: RepairOptions = {
  intervalMs: 60_000,
  graceMs: 10 * 60_000,
  bytesPerSecond: 64 * 1024 * 1024,
  scrubIntervalMs: 10_000,
  scrubSymbolsPerStep: 256,
};

export type RepairOutcome = 'healthy' | 'repaired' | 'rebalanced' | 'postponed' | 'not-leader' | 'impossible' | 'no-key';

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
}

const HIGH_WATER_FILE = 'repair-esi.json';

export class RepairLoop {
  readonly stats: RepairStats = { passes: 0, repaired: 0, rebalanced: 0, symbolsAdded: 0, symbolsDropped: 0, bytesRead: 0, bytesWritten: 0, corruptFound: 0, scrubbed: 0 };
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<Map<string, RepairOutcome>> | null = null;
  private rerun = false;
  private highWater: Record<string, number[]> | null = null;
  private scrubCursor = 0;
  /** Devices online in the tailnet whose fcpd stopped answering, and since when. */
  private readonly unreachableSince = new Map<string, number>();
  private stopped = false;

  constructor(
    private readonly node: MeshNode,
    readonly opts: RepairOptions = DEFAULT_REPAIR,
  ) {}

  start(): void {
    if (this.opts.intervalMs > 0) {
      const t = setInterval(() => void this.pass().catch((err: Error) => this.node.log.warn({ err: err.message }, 'repair pass failed')), this.opts.intervalMs);
      t.unref();
      this.timers.push(t);
      // Devices coming and going are seen on the watch stream; react soon, not only on the timer.
      this.node.directory.on('change', this.onChange);
    }
    if (this.opts.scrubIntervalMs > 0) {
      const t = setInterval(() => void this.scrubStep().catch((err: Error) => this.node.log.warn({ err: err.message }, 'scrub failed')), this.opts.scrubIntervalMs);
      t.unref();
      this.timers.push(t);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.node.directory.off('change', this.onChange);
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
    this.running = (async () => {
      let outcomes = new Map<string, RepairOutcome>();
      try {
        do {
          this.rerun = false;
          outcomes = new Map();
          for (const m of this.node.store.listManifests()) {
            if (this.stopped) break;
            outcomes.set(objectIdToHex(m.objectId), await this.repairObject(m).catch((err: Error) => {
              this.node.log.warn({ objectId: objectIdToHex(m.objectId), err: err.message }, 'repair of object failed');
              return 'postponed' as const;
            }));
          }
          this.stats.passes++;
        } while (this.rerun && !this.stopped);
      } finally {
        this.running = null;
      }
      return outcomes;
    })();
    return this.running;
  }

  /** Brings one object back to its policy (or trims its surplus) if this device is its repairer. */
  async repairObject(m: Manifest): Promise<RepairOutcome> {
    const node = this.node;
    if (!node.zones.has(m.zone)) return 'impossible';
    const zone = node.zone(m.zone);
    const zk = node.keyring.zoneKey(zone.id);
    if (!zk) return 'no-key';
    let holders = node.holdersFor(zone);
    if (holders.length === 0) return 'impossible';
    const now = Date.now();
    // Only the eligible holder with the smallest stable id repairs, so two devices never race.
    // A device whose fcpd has not answered for longer than the grace period cannot be it.
    const candidates = holders.filter((h) => now - (this.unreachableSince.get(h.stableId) ?? now) < this.opts.graceMs);
    if (candidates.length === 0) return 'impossible';
    const leader = candidates.reduce((a, b) => (a.stableId < b.stableId ? a : b));
    if (leader.address !== null) {
      // Keep an eye on the repairer: if its fcpd stops answering, the next in line takes over.
      try {
        await node.haveAt(leader, m.objectId);
        this.unreachableSince.delete(leader.stableId);
      } catch {
        if (!this.unreachableSince.has(leader.stableId)) this.unreachableSince.set(leader.stableId, now);
      }
      return 'not-leader';
    }
    // Devices offline within their grace period still count: wait for them.
    const waiting = node.directory.all().some((i) => !i.peer.online && i.offlineSince !== undefined && now - i.offlineSince < this.opts.graceMs && mayHold(i.zones, zone));
    const policy = policyOf(m.placement);
    const layout = new RaptorQDecoder(m.oti);
    const have = new Map<string, Array<[number, number]>>();
    const answers = await Promise.allSettled(holders.map((h) => node.haveAt(h, m.objectId)));
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
      const add = planAdditions(k, blockHoldings(sbn), policy);
      if (!add) return 'impossible';
      if (add.size > 0) plans.push({ sbn, k, add });
    }
    const data = await this.readExactly(m, zone, holders, have, layout);
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
          list.push({ sbn, esi, env: node.seal(zk, { objectId: m.objectId, sbn, esi, k }, symbol) });
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
        await node.sendSymbols(h, m.objectId, zone.id, symbols);
        written += symbols.reduce((a, s) => a + s.env.length, 0);
        this.stats.symbolsAdded += symbols.length;
      }),
    );
    this.stats.bytesWritten += written;
    this.stats.repaired++;
    node.log.info({ objectId: idHex, symbols: [...perHolder.values()].reduce((a, l) => a + l.length, 0) }, 'object repaired');
    await this.throttle(written + data.length);
    return 'repaired';
  }

  /** Fetches K + margin symbols of every block, source symbols first, each from a holder that has it. */
  private async readExactly(m: Manifest, zone: ReturnType<MeshNode['zone']>, holders: Holder[], have: Map<string, Array<[number, number]>>, layout: RaptorQDecoder): Promise<Uint8Array> {
    const node = this.node;
    const zk = node.keyring.requireZoneKey(zone.id);
    const assembler = new ObjectAssembler(m, zk);
    const wants = new Map<string, Array<[number, number]>>();
    for (let sbn = 0; sbn < layout.blockCount; sbn++) {
      const need = layout.sourceSymbolCount(sbn) + DECODE_MARGIN;
      const offers: Array<{ device: string; esi: number }> = [];
      for (const h of holders) for (const [b, e] of have.get(h.stableId)!) if (b === sbn) offers.push({ device: h.stableId, esi: e });
      // Local symbols cost nothing on the network; then lowest ESIs (source symbols decode fastest).
      offers.sort((a, b) => Number(b.device === node.self.stableId) - Number(a.device === node.self.stableId) || a.esi - b.esi);
      for (const o of offers.slice(0, need)) {
        const list = wants.get(o.device) ?? [];
        list.push([sbn, o.esi]);
        wants.set(o.device, list);
      }
    }
    const local = wants.get(node.self.stableId);
    if (local) for (const s of await node.store.getSymbols(m.objectId, local)) assembler.add(s);
    const targets = holders.filter((h) => h.address !== null && wants.has(h.stableId)).map((h) => ({ address: h.address!, hostName: h.hostName, want: wants.get(h.stableId)! }));
    if (!assembler.satisfied) await node.fetchFrom(m, zone, assembler, targets);
    if (!assembler.done) await assembler.solve();
    this.stats.bytesRead += assembler.bytesIn;
    // Rare: K + margin symbols that do not decode. Fall back to reading whatever is reachable.
    return assembler.done ?? node.get(objectIdToHex(m.objectId));
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
    await Promise.all([...doomed].map(([device, keys]) => this.node.dropAt(holders.find((h) => h.stableId === device)!, m.objectId, keys)));
    this.stats.symbolsDropped += [...doomed.values()].reduce((a, l) => a + l.length, 0);
    this.stats.rebalanced++;
    return true;
  }

  /** Checks the next few stored symbols' AEAD tags; deletes corrupt ones so repair replaces them. */
  async scrubStep(budget = this.opts.scrubSymbolsPerStep): Promise<number> {
    const node = this.node;
    const manifests = node.store.listManifests();
    if (manifests.length === 0) return 0;
    let checked = 0;
    let corrupt = 0;
    for (let visited = 0; visited < manifests.length && checked < budget; visited++) {
      const m = manifests[this.scrubCursor++ % manifests.length]!;
      const zk = node.keyring.zoneKey(m.zone);
      if (!zk) continue;
      const bad: Array<[number, number]> = [];
      for (const s of await node.store.getSymbols(m.objectId)) {
        checked++;
        try {
          openSymbol(zk, s.env, { objectId: m.objectId, sbn: s.sbn, esi: s.esi, zoneId: m.zone });
        } catch (err) {
          if (err instanceof CryptoError) bad.push([s.sbn, s.esi]);
          else throw err;
        }
      }
      if (bad.length > 0) {
        await node.store.deleteSymbols(m.objectId, bad);
        corrupt += bad.length;
        node.log.warn({ objectId: objectIdToHex(m.objectId), corrupt: bad.length }, 'scrubber removed corrupt symbols');
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
      this.highWater = JSON.parse(await readFile(join(this.node.opts.dataDir, HIGH_WATER_FILE), 'utf8')) as Record<string, number[]>;
    } catch {
      this.highWater = {};
    }
    return this.highWater;
  }

  private async saveHighWater(): Promise<void> {
    const path = join(this.node.opts.dataDir, HIGH_WATER_FILE);
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
