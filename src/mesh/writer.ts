// Writing an object: code and seal it, send every holder its symbols, and only when all are
// durable write the manifest on the holders. A store either completes or is listed nowhere.
import type { Logger } from 'pino';
import { computeObjectId, objectIdToHex, type Manifest, type SymbolEntry, type SymbolSealer, type ZoneKey } from '../crypto/index.js';
import type { SymbolStore } from '../store/index.js';
import type { Zone } from '../zones/index.js';
import { MeshError } from './errors.js';
import type { Eligibility } from './eligibility.js';
import type { Holder } from './holder.js';
import type { HolderMarks } from './marks.js';
import type { MeshMetrics } from './metrics.js';
import type { NameRecords } from './name-records.js';
import { encodeAndSeal, type EncodedObject } from './objects.js';
import { releaseEnvelopes } from './coding.js';
import type { PeerDirectory } from './peers.js';
import { DEFAULT_POLICY, assign, placementOf, resolvePolicy, symbolCount, type PlacementPolicy } from './placement.js';

export const DEFAULT_SCHEMA = 'fcp.blob.v1';

export interface StoreOptions {
  schema?: string;
  policy?: Partial<PlacementPolicy>;
  /**
   * The ObjectId of these bytes (zone key's ObjectIdKey, zone, schema) when the caller has just
   * computed it, so a chunk is hashed once, not twice. Only for callers in this process.
   */
  objectId?: Uint8Array;
}

export interface WriterDeps {
  selfId: () => string;
  store: SymbolStore;
  eligibility: Eligibility;
  directory: PeerDirectory;
  marks: HolderMarks;
  sealer: SymbolSealer;
  log: Logger;
  metrics: MeshMetrics;
  /** Tombstones: storing collected content again first revives it on the zone's devices. */
  records?: Pick<NameRecords, 'revive' | 'isDead' | 'isHeld' | 'release' | 'tombstonesFresh'>;
  policy?: Partial<PlacementPolicy>;
  /** How long one directory refresh and path check serves the puts of a zone (ms). */
  prepareFreshMs?: number;
}

/**
 * The ipn-bus watch keeps the directory current between refreshes; asking tailscaled again for
 * each of a file's chunks (tens of ms under load) only slowed large puts down.
 */
const DEFAULT_PREPARE_FRESH_MS = 1000;

type Failure = { holder: Holder; reason: string; code: string | undefined };

export class ObjectWriter {
  /** The last refresh and path check per zone: when it started, and its promise (shared while fresh). */
  private readonly prepared = new Map<string, { at: number; done: Promise<void> }>();

  constructor(private readonly d: WriterDeps) {}

  /** Stores `data` in `zone` under key `zk`; resolves with the hex ObjectId once symbols and manifest are durable. */
  async put(data: Uint8Array, zone: Zone, zk: ZoneKey, opts: StoreOptions = {}): Promise<string> {
    const started = performance.now();
    const policy = resolvePolicy({ ...DEFAULT_POLICY, ...this.d.policy, ...opts.policy });
    const schema = opts.schema ?? DEFAULT_SCHEMA;
    const objectId = opts.objectId ?? (await computeObjectId(zk.objectIdKey, zone.id, schema, data));
    // What was collected while this device was away or cut off is learnt before a copy here counts as stored.
    await this.d.records?.tombstonesFresh(zone);
    if (this.d.records?.isDead(objectId)) {
      // Collected: revive it on the zone's devices, and drop what is left of the old copy here
      // (a share of its symbols, not enough to rebuild it) before storing it whole again.
      await this.d.records.revive(objectId, zone);
      await this.d.store.deleteObject(objectId);
    }
    // Put again here: an object held back after a long absence is wanted (repair spreads it again).
    if (this.d.records?.isHeld(objectId)) this.d.records.release(objectId);
    // Content-addressed: the same bytes in the same zone and schema are already stored.
    if (this.d.store.getManifest(objectId)) return objectIdToHex(objectId);

    this.d.directory.requireRunning();
    await this.prepare(zone);
    // RFC 6330 has no empty objects; an empty one is coded as one zero byte and its manifest says 0.
    const coded = data.length === 0 ? new Uint8Array(1) : data;
    const excluded = new Set<string>();
    for (let attempt = 1; ; attempt++) {
      const holders = this.choose(zone, data.length, policy, excluded);
      const encoded = await encodeAndSeal(coded, (k) => symbolCount(k, holders.length, policy), { zk, sealer: this.d.sealer, objectId });
      const manifest: Manifest = {
        objectId,
        zone: zone.id,
        schema,
        oti: encoded.oti,
        length: data.length,
        keyId: zk.keyId,
        epoch: zk.epoch,
        created: Date.now(),
        writer: this.d.selfId(),
        placement: placementOf(policy),
      };
      const failed = await this.place(zone, holders, encoded, manifest);
      if (failed.length === 0) {
        // Every holder answered that its symbols are durable: no write of them is pending
        // anywhere, so their buffer can be reused. After a failure some may still be queued
        // on a socket; that buffer is left to the collector.
        releaseEnvelopes(encoded.envelopes);
        break;
      }
      // A device that still holds a tombstone of this content (it missed the revival) refuses
      // it: revive everywhere and place again with it.
      const tombstoned = failed.filter((f) => f.code === 'MESH_TOMBSTONED');
      if (tombstoned.length > 0 && tombstoned.length === failed.length && attempt < 3) {
        await this.d.records?.revive(objectId, zone, true);
        continue;
      }
      // Nothing reports the object as stored: no holder kept its manifest. Try again without
      // the devices that failed (full, gone, frozen), as long as the policy can still be met.
      for (const f of failed) excluded.add(f.holder.stableId);
      if (attempt >= 3) {
        throw new MeshError('MESH_STORE_FAILED', `storing failed on ${failed.map((f) => f.holder.hostName).join(', ')}: ${failed[0]!.reason}`);
      }
      this.d.log.warn({ failed: failed.map((f) => ({ device: f.holder.hostName, reason: f.reason })) }, 'store failed on some devices; placing again without them');
    }
    this.d.metrics.storeSeconds.observe((performance.now() - started) / 1000);
    this.d.log.info({ objectId: objectIdToHex(objectId), zone: zone.id, bytes: data.length }, 'object stored');
    return objectIdToHex(objectId);
  }

  /** Refreshes the directory and confirms doubtful paths, at most once per `prepareFreshMs` per zone. */
  private prepare(zone: Zone): Promise<void> {
    const now = performance.now();
    const last = this.prepared.get(zone.id);
    if (last && now - last.at < (this.d.prepareFreshMs ?? DEFAULT_PREPARE_FRESH_MS)) return last.done;
    const done = (async () => {
      await this.d.directory.refresh().catch(() => undefined);
      await this.d.eligibility.confirmPaths(zone);
    })();
    this.prepared.set(zone.id, { at: now, done });
    // A failed check is not reused: the next put asks again.
    done.catch(() => this.prepared.delete(zone.id));
    return done;
  }

  /**
   * The holders for this store: eligible, not excluded, with room for their share; devices that
   * did not answer in time lately are left out while enough others remain.
   */
  private choose(zone: Zone, length: number, policy: PlacementPolicy, excluded: Set<string>): Holder[] {
    const candidates = this.d.eligibility.holdersFor(zone).filter((h) => !excluded.has(h.stableId));
    const share = Math.ceil(((length + 65536) * policy.overhead * 1.1) / Math.max(1, candidates.length));
    const roomy = candidates.filter((h) => h.local || (this.d.directory.byStableId(h.stableId)?.freeBytes ?? Number.MAX_SAFE_INTEGER) >= share);
    const brisk = roomy.filter((h) => !this.d.marks.isSlow(h.stableId));
    return brisk.length > policy.tolerate && brisk.length >= policy.minDevices ? brisk : roomy;
  }

  /**
   * Sends every holder its symbols, then (only if all are durable) the manifest to the holders.
   * Returns the holders that failed; after a failure nothing of the object is left anywhere.
   */
  private async place(zone: Zone, holders: Holder[], encoded: EncodedObject, manifest: Manifest): Promise<Failure[]> {
    const perHolder: SymbolEntry[][] = holders.map(() => []);
    for (const block of encoded.blocks) {
      assign(block.symbols.length, holders.length).forEach((esis, d) => {
        for (const esi of esis) perHolder[d]!.push(block.symbols[esi]!);
      });
    }
    const used = holders.filter((_, d) => perHolder[d]!.length > 0);
    const sent = await Promise.allSettled(holders.map((h, d) => (perHolder[d]!.length > 0 ? h.putSymbols(manifest.objectId, zone.id, perHolder[d]!) : Promise.resolve())));
    const failed = sent.flatMap((r, d) => (r.status === 'rejected' ? [{ holder: holders[d]!, reason: (r.reason as Error).message, code: (r.reason as { code?: string }).code }] : []));
    sent.forEach((r, d) => {
      if (r.status === 'rejected' && (r.reason as { code?: string }).code === 'MESH_TIMEOUT') this.d.marks.markSlow(holders[d]!.stableId);
    });
    if (failed.length > 0) {
      // Clean up what landed, unless an earlier complete store of the same content exists
      // somewhere: then what we wrote are valid extra symbols (repair trims surplus), and
      // deleting would destroy that copy.
      const known = await Promise.all(used.map((h) => h.getManifest(manifest.objectId).then(Boolean, () => false)));
      if (!known.some(Boolean)) await Promise.allSettled(used.map((h) => h.erase(manifest.objectId)));
      return failed;
    }
    // The manifest goes last: its presence means every symbol is durable. A holder that misses
    // it (it just went away) does not make the object less whole; repair carries it there later.
    const results = await Promise.allSettled(used.map((h) => h.putManifest(manifest)));
    const written = results.filter((r) => r.status === 'fulfilled').length;
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.d.log.warn({ device: used[i]!.hostName, err: (r.reason as Error).message }, 'manifest not written on a device');
    });
    if (written === 0) return holders.map((holder) => ({ holder, reason: 'no device accepted the manifest', code: undefined }));
    return [];
  }
}
