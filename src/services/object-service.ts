// Whole objects for a principal (the local user today): put, get, inspect and list. Each method
// asks authorize() with the object's zone before the mesh acts.
import { zoneKeyFor, bytesEqual, objectIdToHex, type Manifest } from '../crypto/index.js';
import { describePrincipal, inZone, NODE, type Authorizer, type Principal } from '../authz/index.js';
import type { AuditSink } from '../audit/index.js';
import { judgeFromSummaries, inspectObject, meshUsage, MeshError, type MeshNode, type MeshUsage, type ObjectHealth, type StoreOptions } from '../mesh/index.js';
import type { Zone } from '../zones/index.js';
import { requireZone } from './zone-lookup.js';
import { resolveObjectId } from './object-ids.js';

/** Objects whose health is asked at once when listing: bounds the `have` fan-out. */
const LIST_CONCURRENCY = 8;

/** A listing of objects with their health; entries are built when asked for. */
export interface ObjectListing {
  count: number;
  /** Entry i, in the store's id order (a fresh object each call). */
  at(i: number): ObjectHealth;
  /** The entries below their placement policy, in the same order. */
  degraded(): ObjectHealth[];
}

type NodeParts = Pick<MeshNode, 'zones' | 'store' | 'keyring' | 'writer' | 'reader' | 'eligibility' | 'marks' | 'summaries'>;

export class ObjectService {
  constructor(
    private readonly node: NodeParts,
    private readonly authz: Authorizer,
    /** Stores are audit events of their zone (object id, size). */
    private readonly audit?: AuditSink,
  ) {}

  private zone(id: string): Zone {
    return requireZone(this.node.zones, id);
  }

  async put(p: Principal, data: Uint8Array, zoneId: string, opts: Pick<StoreOptions, 'schema' | 'policy'> = {}): Promise<string> {
    const zone = this.zone(zoneId);
    this.authz.authorize(p, 'object.put', inZone(zone));
    // Only schema and policy come from callers: the ObjectId is always computed here.
    const clean: StoreOptions = { ...(opts.schema !== undefined ? { schema: opts.schema } : {}), ...(opts.policy !== undefined ? { policy: opts.policy } : {}) };
    const id = await this.node.writer.put(data, zone, this.node.keyring.requireZoneKey(zone.id), clean);
    this.audit?.({ kind: 'object.store', zone: zone.id, principal: describePrincipal(p), subject: id, detail: { bytes: data.length } });
    return id;
  }

  /** The manifest of an object by full id or unique prefix of its hex id (local manifests only for prefixes). */
  async manifest(p: Principal, idOrPrefix: string): Promise<Manifest> {
    const m = await this.node.reader.findManifest(this.resolveId(idOrPrefix));
    this.authz.authorize(p, 'object.get', inZone(this.zone(m.zone)));
    return m;
  }

  async get(p: Principal, idOrPrefix: string, opts: { verify?: boolean } = {}): Promise<Uint8Array> {
    const m = await this.manifest(p, idOrPrefix);
    const zone = this.zone(m.zone);
    const zk = this.node.keyring.requireZoneKey(zone.id);
    if (!zoneKeyFor(zk, m.keyId)) {
      throw new MeshError('MESH_NO_ZONE_KEY', `object was sealed under ${zone.id} key epoch ${m.epoch}; this device has epoch ${zk.epoch}`);
    }
    return this.node.reader.read(m, zone, zk, opts);
  }

  async inspect(p: Principal, idOrPrefix: string): Promise<ObjectHealth> {
    const m = await this.node.reader.findManifest(this.resolveId(idOrPrefix));
    const zone = this.zone(m.zone);
    this.authz.authorize(p, 'object.inspect', inZone(zone));
    return inspectObject(m, zone, this.node.eligibility, this.node.marks);
  }

  /**
   * Objects this device knows, with their health; an unknown zone is an error, not an empty list.
   * Health comes from the holders' summaries; only objects that look short of their policy are
   * asked about one by one.
   */
  async list(p: Principal, zoneId?: string): Promise<ObjectHealth[]> {
    const l = await this.listing(p, zoneId);
    return Array.from({ length: l.count }, (_, i) => l.at(i));
  }

  /**
   * The same listing, each entry built when asked for (`at(i)`, a fresh object each call), so a
   * long one can be written out piece by piece instead of held whole.
   */
  async listing(p: Principal, zoneId?: string): Promise<ObjectListing> {
    this.authz.authorize(p, 'object.index', NODE);
    if (zoneId !== undefined) this.zone(zoneId);
    const manifests = this.node.store.listManifests(zoneId).filter((m) => this.node.zones.has(m.zone));
    const judged = await judgeFromSummaries(manifests, this.node);
    const checked = new Map<number, ObjectHealth>();
    let next = 0;
    const lane = async () => {
      while (next < judged.doubtful.length) {
        const i = judged.doubtful[next++]!;
        const m = manifests[i]!;
        checked.set(i, await inspectObject(m, this.node.zones.get(m.zone), this.node.eligibility, this.node.marks));
      }
    };
    await Promise.all(Array.from({ length: LIST_CONCURRENCY }, lane));
    return {
      count: manifests.length,
      at: (i) => {
        const c = checked.get(i);
        return c ? structuredClone(c) : judged.health(i);
      },
      degraded: () => judged.doubtful.map((i) => checked.get(i)!).filter((h) => !h.ok).map((h) => structuredClone(h)),
    };
  }

  /**
   * What `fcp status` shows of health: how many objects this device knows and those below their
   * placement policy, without the listing of every object.
   */
  async health(p: Principal, zoneId?: string): Promise<{ objects: number; degraded: ObjectHealth[] }> {
    const l = await this.listing(p, zoneId);
    return { objects: l.count, degraded: l.degraded() };
  }

  /** Storage per zone and per device (of one zone, or of every zone this device knows). */
  async usage(p: Principal, zoneId?: string): Promise<MeshUsage> {
    this.authz.authorize(p, 'object.index', NODE);
    const zones = zoneId !== undefined ? [this.zone(zoneId)] : this.node.zones.all();
    return meshUsage(zones, this.node.eligibility);
  }

  private resolveId(idOrPrefix: string): string {
    return resolveObjectId(this.node.store, idOrPrefix);
  }
}
