// A log kept as mesh objects, so it survives losing its device: each full tile of 256 entries is
// one bundle object, the entries after the last full tile one tail bundle, and an index object
// names them with the signed checkpoint they make up. Objects are content-addressed, so a full
// tile is stored once however many checkpoints name it. The index's id travels to the witnesses
// with the checkpoint (`audit_cosign`): a device that lost its log asks them for it.
import { decodeStrict, encodeDeterministic } from '../crypto/index.js';
import { parseCheckpoint } from './checkpoint.js';
import { AuditError } from './errors.js';
import { MerkleTree, leafHash } from './merkle.js';
import { parseNote, signatureValid, type VerifierKey } from './note.js';

export const TILE_ENTRIES = 256;
export const BUNDLE_SCHEMA = 'fcp.audit.bundle.v1';
export const INDEX_SCHEMA = 'fcp.audit.index.v1';

/** Whole objects of a zone by hex id (the recorder binds it to the mesh's writer and reader). */
export interface ArchiveIO {
  put(zone: string, bytes: Uint8Array, schema: string): Promise<string>;
  get(zone: string, id: string, schema: string): Promise<Uint8Array>;
}

export interface ArchiveIndex {
  origin: string;
  size: number;
  /** The signed checkpoint of `size` (the log's own signature). */
  note: string;
  /** Bundle ids of the full tiles, in order. */
  tiles: string[];
  /** Bundle of the entries after the last full tile, when there are any. */
  tail?: string;
}

const encodeBundle = (records: Uint8Array[]): Uint8Array => encodeDeterministic(records);

function decodeBundle(bytes: Uint8Array): Uint8Array[] {
  const v = decodeStrict(bytes, 'audit bundle');
  if (!Array.isArray(v) || !v.every((r) => r instanceof Uint8Array)) throw new AuditError('AUDIT_BAD_ARCHIVE', 'an audit bundle is a list of entries');
  return v as Uint8Array[];
}

function encodeIndex(i: ArchiveIndex): Uint8Array {
  return encodeDeterministic({ origin: i.origin, size: i.size, note: i.note, tiles: i.tiles, ...(i.tail ? { tail: i.tail } : {}) });
}

function decodeIndex(bytes: Uint8Array): ArchiveIndex {
  const v = decodeStrict(bytes, 'audit index');
  if (!(v instanceof Map)) throw new AuditError('AUDIT_BAD_ARCHIVE', 'an audit index is a map');
  const origin = v.get('origin');
  const size = v.get('size');
  const note = v.get('note');
  const tiles = v.get('tiles');
  const tail = v.get('tail');
  if (typeof origin !== 'string' || !Number.isSafeInteger(size) || typeof note !== 'string' || !Array.isArray(tiles) || !tiles.every((t) => typeof t === 'string') || (tail !== undefined && typeof tail !== 'string')) {
    throw new AuditError('AUDIT_BAD_ARCHIVE', 'an audit index has origin, size, note and tiles');
  }
  return { origin, size: size as number, note, tiles: tiles as string[], ...(tail ? { tail } : {}) };
}

/** Stores what one checkpoint of one log needs in the mesh; remembers the tiles already stored. */
export class LogArchive {
  private tiles: string[] = [];

  constructor(
    private readonly io: ArchiveIO,
    /** The zone the objects go to. */
    readonly zone: string,
    readonly origin: string,
  ) {}

  /** Stores the bundles and index of the checkpoint of `records.length` entries; returns the index id. */
  async save(records: readonly Uint8Array[], note: string): Promise<string> {
    const full = Math.floor(records.length / TILE_ENTRIES);
    if (this.tiles.length > full) this.tiles = [];
    for (let t = this.tiles.length; t < full; t++) {
      this.tiles.push(await this.io.put(this.zone, encodeBundle(records.slice(t * TILE_ENTRIES, (t + 1) * TILE_ENTRIES)), BUNDLE_SCHEMA));
    }
    const rest = records.slice(full * TILE_ENTRIES);
    const tail = rest.length > 0 ? await this.io.put(this.zone, encodeBundle(rest), BUNDLE_SCHEMA) : undefined;
    return this.io.put(this.zone, encodeIndex({ origin: this.origin, size: records.length, note, tiles: [...this.tiles], ...(tail ? { tail } : {}) }), INDEX_SCHEMA);
  }
}

/**
 * Reads a log back from its index object and checks it against the checkpoint the index carries
 * (signed by `logKey`): every entry is returned only if the entries give that checkpoint's root.
 */
export async function restoreLog(io: ArchiveIO, zone: string, indexId: string, logKey: VerifierKey): Promise<{ records: Uint8Array[]; note: string; size: number }> {
  const index = decodeIndex(await io.get(zone, indexId, INDEX_SCHEMA));
  if (index.origin !== logKey.name) throw new AuditError('AUDIT_BAD_ARCHIVE', `index ${indexId.slice(0, 12)} is of ${index.origin}, not ${logKey.name}`);
  const note = parseNote(index.note);
  if (!note.signatures.some((s) => signatureValid(note.text, s, logKey))) throw new AuditError('AUDIT_BAD_ARCHIVE', `the checkpoint in index ${indexId.slice(0, 12)} is not signed by ${logKey.name}`);
  const cp = parseCheckpoint(note.text);
  const records: Uint8Array[] = [];
  for (const id of [...index.tiles, ...(index.tail ? [index.tail] : [])]) records.push(...decodeBundle(await io.get(zone, id, BUNDLE_SCHEMA)));
  if (records.length !== cp.size || index.size !== cp.size) throw new AuditError('AUDIT_BAD_ARCHIVE', `the archive of ${index.origin} holds ${records.length} entries; its checkpoint says ${cp.size}`);
  const tree = new MerkleTree();
  for (const r of records) tree.append(leafHash(r));
  if (Buffer.compare(tree.root(), cp.root) !== 0) throw new AuditError('AUDIT_BAD_ARCHIVE', `the archived entries of ${index.origin} do not give the root its checkpoint of size ${cp.size} signed`);
  return { records, note: index.note, size: cp.size };
}
