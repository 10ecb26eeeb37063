// Files of any size for a principal: streaming put into a zone, streaming get, and the objects
// a file references. Authorized with the object actions on the file's zone, like whole objects.
import { inZone, type Authorizer, type Principal } from '../authz/index.js';
import { FILE_SCHEMA, FileReader, FileWriter, ZoneObjects, type FileWriterOptions } from '../files/index.js';
import { abortable } from '../files/abortable.js';
import type { Manifest } from '../crypto/index.js';
import type { MeshNode } from '../mesh/index.js';
import { UnknownZoneError, type Zone } from '../zones/index.js';
import { resolveObjectId } from './object-ids.js';

export interface PutContentResult {
  /** Hex id of the file object. */
  id: string;
  size: number;
  chunks: number;
  /** Bytes of chunks new to the zone. */
  storedBytes: number;
  dedupBytes: number;
}

export interface ContentStream {
  id: string;
  zone: string;
  size: number;
  stream: AsyncIterable<Uint8Array>;
}

type NodeParts = Pick<MeshNode, 'zones' | 'store' | 'keyring' | 'writer' | 'reader'>;

export class ContentService {
  constructor(
    private readonly node: NodeParts,
    private readonly authz: Authorizer,
    private readonly writerOptions: FileWriterOptions = {},
  ) {}

  private zone(id: string): Zone {
    if (!this.node.zones.has(id)) throw new UnknownZoneError(id, this.node.zones.all().map((z) => z.id));
    return this.node.zones.get(id);
  }

  private objects(zone: Zone, tolerate?: number): ZoneObjects {
    const zk = this.node.keyring.requireZoneKey(zone.id);
    return new ZoneObjects(this.node, zone, zk, tolerate !== undefined ? { policy: { tolerate } } : {});
  }

  /** Stores a stream as a file object in `zone`; the chunks the zone already has are not stored again. */
  async putStream(p: Principal, zone: string, source: AsyncIterable<Uint8Array>, opts: { signal?: AbortSignal; tolerate?: number } = {}): Promise<PutContentResult> {
    const z = this.zone(zone);
    this.authz.authorize(p, 'object.put', inZone(z));
    const writer = new FileWriter(this.objects(z, opts.tolerate), this.writerOptions);
    return writer.write(source, opts.signal ? { signal: opts.signal } : {});
  }

  /**
   * A file's bytes as a stream (the size is known before the first byte). An object that is not
   * a file object (a whole object stored by `store()`) streams as its bytes.
   */
  async getStream(p: Principal, idOrPrefix: string, opts: { verify?: boolean; signal?: AbortSignal } = {}): Promise<ContentStream> {
    const { manifest, zone } = await this.find(p, idOrPrefix);
    const objects = this.objects(zone);
    const id = Buffer.from(manifest.objectId).toString('hex');
    const verify = opts.verify ?? false;
    if (manifest.schema !== FILE_SCHEMA) {
      const whole = async function* () {
        yield await objects.get(id, manifest.schema, { verify });
      };
      return { id, zone: zone.id, size: manifest.length, stream: abortable(whole(), opts.signal, 'the get') };
    }
    const reader = new FileReader(objects);
    const file = await reader.open(id, { verify });
    return { id, zone: zone.id, size: file.size, stream: reader.bytes(file, { verify, ...(opts.signal ? { signal: opts.signal } : {}) }) };
  }

  /** Every mesh object id (hex) the file object references: its chunk-list pages and chunks. */
  async references(p: Principal, idOrPrefix: string): Promise<string[]> {
    const { manifest, zone } = await this.find(p, idOrPrefix);
    if (manifest.schema !== FILE_SCHEMA) return [];
    const reader = new FileReader(this.objects(zone));
    const id = Buffer.from(manifest.objectId).toString('hex');
    return reader.references(await reader.open(id));
  }

  private async find(p: Principal, idOrPrefix: string): Promise<{ manifest: Manifest; zone: Zone }> {
    const manifest = await this.node.reader.findManifest(resolveObjectId(this.node.store, idOrPrefix));
    const zone = this.zone(manifest.zone);
    this.authz.authorize(p, 'object.get', inZone(zone));
    return { manifest, zone };
  }
}
