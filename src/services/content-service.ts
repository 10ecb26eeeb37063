// Files of any size for a principal: streaming put into a zone, streaming get, and the objects
// a file references. Authorized with the object actions on the file's zone, like whole objects.
import { inZone, type Authorizer, type Principal } from '../authz/index.js';
import { CHUNK_PARAMS, FILE_SCHEMA, FileReader, FileWriter, ZoneObjects, type FileWriterOptions } from '../files/index.js';
import { abortable } from '../files/abortable.js';
import { FilesError } from '../files/errors.js';
import type { Manifest } from '../crypto/index.js';
import type { MeshNode, Pins } from '../mesh/index.js';
import { SharedBufferPool } from '../mesh/shared-buffers.js';
import type { Zone } from '../zones/index.js';
import { requireZone } from './zone-lookup.js';
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
  /**
   * Hands a chunk of `stream` back once nothing refers to it any more (its bytes were written
   * out), so the next chunk is rebuilt in its buffer; a chunk never handed back is collected.
   * Only for streams opened with `reuse`; a no-op otherwise.
   */
  release(chunk: Uint8Array): void;
}

// Chunks of streamed gets are rebuilt in reused buffers: fresh ones cost a page fault per 4 KiB,
// and dead ones wait for a full collection, which V8 starts only every 64 MB of them (the same
// reasons as the store path's, mesh/shared-buffers.ts).
const readBuffers = new SharedBufferPool(4 * CHUNK_PARAMS.max);
const takeReadBuffer = (n: number) => readBuffers.take(n);
const giveReadBuffer = (chunk: Uint8Array) => readBuffers.give(chunk);
const keep = () => undefined;

type NodeParts = Pick<MeshNode, 'zones' | 'store' | 'keyring' | 'writer' | 'reader' | 'records'>;

/** An upload session unused this long is ended: what it stored is then protected by the grace period only. */
export const UPLOAD_SESSION_IDLE_MS = 60 * 60_000;
const SESSION_ID = /^[A-Za-z0-9_-]{8,64}$/;

export class ContentService {
  /**
   * Upload sessions: the objects of every file a multi-request put (the CLI's recursive put)
   * stored or reused stay pinned until its names are committed (`endSession`), so a collection
   * pass meanwhile cannot take them, however long the put runs.
   */
  private readonly sessions = new Map<string, { pins: Pins; timer: NodeJS.Timeout }>();

  constructor(
    private readonly node: NodeParts,
    private readonly authz: Authorizer,
    private readonly writerOptions: FileWriterOptions = {},
  ) {}

  private zone(id: string): Zone {
    return requireZone(this.node.zones, id);
  }

  private objects(zone: Zone, tolerate?: number, pins?: Pins): ZoneObjects {
    const zk = this.node.keyring.requireZoneKey(zone.id);
    return new ZoneObjects(this.node, zone, zk, { ...(tolerate !== undefined ? { policy: { tolerate } } : {}), ...(pins ? { pins } : {}) });
  }

  /**
   * Stores a stream as a file object in `zone`; the chunks the zone already has are not stored
   * again. With `pins`, every object the file is made of stays pinned (safe from a collection
   * pass) until the caller releases them, once a commit names the file.
   */
  async putStream(p: Principal, zone: string, source: AsyncIterable<Uint8Array>, opts: { signal?: AbortSignal; tolerate?: number; pins?: Pins; session?: string } = {}): Promise<PutContentResult> {
    const z = this.zone(zone);
    this.authz.authorize(p, 'object.put', inZone(z));
    const pins = opts.pins ?? (opts.session !== undefined ? this.session(opts.session) : undefined);
    const writer = new FileWriter(this.objects(z, opts.tolerate, pins), this.writerOptions);
    return writer.write(source, opts.signal ? { signal: opts.signal } : {});
  }

  /**
   * A file's bytes as a stream (the size is known before the first byte). An object that is not
   * a file object (a whole object stored by `store()`) streams as its bytes.
   */
  async getStream(p: Principal, idOrPrefix: string, opts: { verify?: boolean; signal?: AbortSignal; reuse?: boolean } = {}): Promise<ContentStream> {
    const { manifest, zone } = await this.find(p, idOrPrefix);
    const objects = this.objects(zone);
    const id = Buffer.from(manifest.objectId).toString('hex');
    const verify = opts.verify ?? false;
    if (manifest.schema !== FILE_SCHEMA) {
      const whole = async function* () {
        yield await objects.get(id, manifest.schema, { verify });
      };
      return { id, zone: zone.id, size: manifest.length, stream: abortable(whole(), opts.signal, 'the get'), release: keep };
    }
    const reader = new FileReader(objects);
    const file = await reader.open(id, { verify });
    const stream = reader.bytes(file, { verify, ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.reuse ? { into: takeReadBuffer } : {}) });
    return { id, zone: zone.id, size: file.size, stream, release: opts.reuse ? giveReadBuffer : keep };
  }

  /** The pins of upload session `id` (made on first use); each use keeps it open another idle period. */
  private session(id: string): Pins {
    if (!SESSION_ID.test(id)) throw new FilesError('FILES_BAD_ENTRY', 'an upload session id is 8-64 letters, digits, - or _');
    const s = this.sessions.get(id);
    if (s) {
      s.timer.refresh();
      return s.pins;
    }
    const timer = setTimeout(() => this.endSession(id), UPLOAD_SESSION_IDLE_MS);
    timer.unref();
    const pins = this.node.records.pins();
    this.sessions.set(id, { pins, timer });
    return pins;
  }

  /** Ends an upload session (its names are committed, or it failed): its objects are no longer pinned. */
  endSession(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    clearTimeout(s.timer);
    s.pins.release();
    this.sessions.delete(id);
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
