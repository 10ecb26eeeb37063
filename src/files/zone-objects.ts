// Mesh objects of one zone, as the files layer uses them: put bytes under a schema (telling
// whether they were new to the zone) and read them back by id, checking zone and schema.
import { zoneKeyFor, bytesEqual, computeObjectId, objectIdToHex, type ZoneKey } from '../crypto/index.js';
import { MeshError, type NameRecords, type ObjectReader, type ObjectWriter, type Pins, type StoreOptions } from '../mesh/index.js';
import type { SymbolStore } from '../store/index.js';
import type { Zone } from '../zones/index.js';
import { FilesError } from './errors.js';

export interface ZoneObjectsDeps {
  writer: Pick<ObjectWriter, 'put'>;
  reader: Pick<ObjectReader, 'findManifest' | 'read'>;
  store: Pick<SymbolStore, 'getManifest'>;
  records: Pick<NameRecords, 'isDead' | 'isHeld' | 'release' | 'tombstonesFresh'>;
}

export interface PutObjectResult {
  id: string;
  /** False when the zone already held these bytes under this schema (content-addressed dedup). */
  created: boolean;
}

export class ZoneObjects {
  /** Stores of the same id under way: a chunk repeated within a file is placed once. */
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly d: ZoneObjectsDeps,
    readonly zone: Zone,
    private readonly zk: ZoneKey,
    private readonly opts: Pick<StoreOptions, 'policy'> & { pins?: Pins } = {},
  ) {}

  async put(bytes: Uint8Array, schema: string): Promise<PutObjectResult> {
    // A device back from an absence (or cut off for a while) may hold the stale share of
    // something collected meanwhile: the tombstones it missed are learnt (and such shares
    // dropped) before the pin below would keep one alive and the check after it take it for
    // the whole object.
    await this.d.records.tombstonesFresh(this.zone);
    const oid = await computeObjectId(this.zk.objectIdKey, this.zone.id, schema, bytes);
    const id = objectIdToHex(oid);
    // Pinned before the check: a collection pass that tombstones it from now on is answered
    // with a revival (NameRecords), so the commit naming it never names a collected object.
    this.opts.pins?.pin(oid, this.zone);
    // This device holds a share of every object it stores in its zones, so its manifests say
    // what the zone already has (the writer makes the same check before placing); a collected
    // one is stored again by the writer, which revives it.
    if (this.d.store.getManifest(oid) && !this.d.records.isDead(oid)) {
      // Held back after a long absence: this put wants it, so it is released (repair spreads it again).
      if (this.d.records.isHeld(oid)) this.d.records.release(oid);
      return { id, created: false };
    }
    const running = this.inflight.get(id);
    if (running) return { id: await running, created: false };
    const p = this.d.writer.put(bytes, this.zone, this.zk, { schema, objectId: oid, ...(this.opts.policy ? { policy: this.opts.policy } : {}) });
    this.inflight.set(id, p);
    try {
      return { id: await p, created: true };
    } finally {
      this.inflight.delete(id);
    }
  }

  /**
   * The bytes of object `id`, which must be of `schema` in this zone (and `length` long, if
   * given); with `into`, rebuilt in the buffer it gives for the object's length.
   */
  async get(id: string, schema: string, opts: { verify?: boolean; length?: number; into?: (length: number) => Uint8Array } = {}): Promise<Uint8Array> {
    const m = await this.d.reader.findManifest(id);
    if (m.zone !== this.zone.id || m.schema !== schema) {
      throw new FilesError('FILES_BAD_OBJECT', `object ${id.slice(0, 16)}… is ${m.schema} in ${m.zone}, expected ${schema} in ${this.zone.id}`);
    }
    if (opts.length !== undefined && m.length !== opts.length) {
      throw new FilesError('FILES_BAD_OBJECT', `chunk ${id.slice(0, 16)}… is ${m.length} bytes; the file lists ${opts.length}`);
    }
    if (!zoneKeyFor(this.zk, m.keyId)) {
      throw new MeshError('MESH_NO_ZONE_KEY', `object was sealed under ${this.zone.id} key epoch ${m.epoch}; this device has epoch ${this.zk.epoch}`);
    }
    return this.d.reader.read(m, this.zone, this.zk, { verify: opts.verify ?? false, ...(opts.into ? { output: opts.into(m.length) } : {}) });
  }
}
