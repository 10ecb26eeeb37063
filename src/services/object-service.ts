// Whole objects for a principal (the local user today): put, get, inspect and list. Each method
// asks authorize() with the object's zone before the mesh acts.
import { bytesEqual, type Manifest } from '../crypto/index.js';
import { inZone, NODE, type Authorizer, type Principal } from '../authz/index.js';
import { inspectObject, MeshError, type MeshNode, type ObjectHealth, type StoreOptions } from '../mesh/index.js';
import { UnknownZoneError, type Zone } from '../zones/index.js';
import { resolveObjectId } from './object-ids.js';

/** Objects whose health is asked at once when listing: bounds the `have` fan-out. */
const LIST_CONCURRENCY = 8;

type NodeParts = Pick<MeshNode, 'zones' | 'store' | 'keyring' | 'writer' | 'reader' | 'eligibility' | 'marks'>;

export class ObjectService {
  constructor(
    private readonly node: NodeParts,
    private readonly authz: Authorizer,
  ) {}

  private zone(id: string): Zone {
    if (!this.node.zones.has(id)) throw new UnknownZoneError(id, this.node.zones.all().map((z) => z.id));
    return this.node.zones.get(id);
  }

  async put(p: Principal, data: Uint8Array, zoneId: string, opts: StoreOptions = {}): Promise<string> {
    const zone = this.zone(zoneId);
    this.authz.authorize(p, 'object.put', inZone(zone));
    return this.node.writer.put(data, zone, this.node.keyring.requireZoneKey(zone.id), opts);
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
    if (!bytesEqual(zk.keyId, m.keyId)) {
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

  /** Objects this device knows, with their health; an unknown zone is an error, not an empty list. */
  async list(p: Principal, zoneId?: string): Promise<ObjectHealth[]> {
    this.authz.authorize(p, 'object.index', NODE);
    if (zoneId !== undefined) this.zone(zoneId);
    const manifests = this.node.store.listManifests(zoneId).filter((m) => this.node.zones.has(m.zone));
    const out: ObjectHealth[] = new Array(manifests.length);
    let next = 0;
    const lane = async () => {
      while (next < manifests.length) {
        const i = next++;
        const m = manifests[i]!;
        out[i] = await inspectObject(m, this.node.zones.get(m.zone), this.node.eligibility, this.node.marks);
      }
    };
    await Promise.all(Array.from({ length: LIST_CONCURRENCY }, lane));
    return out;
  }

  private resolveId(idOrPrefix: string): string {
    return resolveObjectId(this.node.store, idOrPrefix);
  }
}
