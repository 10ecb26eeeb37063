// One device's audit log of one zone: append-only entries in a file, an RFC 9162 tree over them,
// and checkpoints signed by the device's node key (C2SP signed note) that witnesses cosign.
// Entries are written as they come and made durable at each checkpoint (fdatasync): a crash
// can lose the events since the last checkpoint, never reorder or corrupt the ones before.
import { closeSync, existsSync, fdatasync, fdatasyncSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { signingPublicKey } from '../crypto/index.js';
import { formatCheckpoint } from './checkpoint.js';
import { AuditError } from './errors.js';
import { encodeEntry, type AuditEvent } from './event.js';
import { HASH_SIZE, MerkleTree, leafHash } from './merkle.js';
import { SIG_ED25519, formatNote, parseNote, signNote, verifierKey, type NoteSignature, type VerifierKey } from './note.js';

export const ENTRIES_FILE = 'entries.bin';
export const CHECKPOINT_DIR = 'checkpoints';

/** The origin line (and key name) of a device's log of a zone. */
export function logOrigin(deviceId: string, zone: string): string {
  const origin = `fcp-mesh/${deviceId}/${zone}`;
  if (/[\s+]/u.test(origin)) throw new AuditError('AUDIT_BAD_KEY', `device id and zone may not contain spaces or '+': ${origin}`);
  return origin;
}

export function logKey(origin: string, seed: Uint8Array): VerifierKey {
  return verifierKey(origin, SIG_ED25519, signingPublicKey(seed));
}

/** Splits an entries file into records: [4-byte big-endian length][CBOR entry]. */
export function readRecords(bytes: Uint8Array): { records: Uint8Array[]; brokenAt?: number } {
  const records: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) return { records, brokenAt: records.length };
    const len = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0);
    if (len === 0 || at + 4 + len > bytes.length) return { records, brokenAt: records.length };
    records.push(bytes.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return { records };
}

export const checkpointFile = (dir: string, size: number): string => join(dir, CHECKPOINT_DIR, `${String(size).padStart(12, '0')}.note`);

/** Sizes of the checkpoints stored in a log directory, ascending. */
export function checkpointSizesIn(dir: string): number[] {
  if (!existsSync(join(dir, CHECKPOINT_DIR))) return [];
  return readdirSync(join(dir, CHECKPOINT_DIR))
    .filter((n) => /^\d{12}\.note$/.test(n))
    .map((n) => Number(n.slice(0, 12)))
    .sort((a, b) => a - b);
}

export class ZoneLog {
  private readonly tree = new MerkleTree();
  private fd: number;
  /** Entries known to be on disk (fdatasync done after they were written). */
  private durable: number;
  private closed = false;
  /** Size of the newest checkpoint signed (or found on disk at open). */
  signedSize: number;
  readonly key: VerifierKey;

  private constructor(
    readonly dir: string,
    readonly origin: string,
    private readonly seed: Uint8Array,
    records: Uint8Array[],
  ) {
    this.key = logKey(origin, seed);
    for (const r of records) this.tree.append(leafHash(r));
    this.durable = records.length;
    this.signedSize = checkpointSizesIn(dir).at(-1) ?? 0;
    this.fd = openSync(join(dir, ENTRIES_FILE), 'a', 0o600);
  }

  /** Opens (or creates) the log in `dir`; a damaged entries file is refused, not appended to. */
  static open(dir: string, origin: string, seed: Uint8Array): ZoneLog {
    mkdirSync(join(dir, CHECKPOINT_DIR), { recursive: true, mode: 0o700 });
    const file = join(dir, ENTRIES_FILE);
    const bytes = existsSync(file) ? new Uint8Array(readFileSync(file)) : new Uint8Array(0);
    const { records, brokenAt } = readRecords(bytes);
    if (brokenAt !== undefined) throw new AuditError('AUDIT_LOG_CORRUPT', `${origin}: the entries file is cut or damaged at entry ${brokenAt}; run \`fcp audit verify\``);
    return new ZoneLog(dir, origin, seed, records);
  }

  /** Writes a log back from restored entries and the signed checkpoint they make up, then opens it. */
  static restore(dir: string, origin: string, seed: Uint8Array, records: readonly Uint8Array[], note: string): ZoneLog {
    mkdirSync(join(dir, CHECKPOINT_DIR), { recursive: true, mode: 0o700 });
    const parts = records.map((r) => {
      const rec = new Uint8Array(4 + r.length);
      new DataView(rec.buffer).setUint32(0, r.length);
      rec.set(r, 4);
      return rec;
    });
    const file = join(dir, ENTRIES_FILE);
    writeFileSync(`${file}.tmp`, Buffer.concat(parts), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    const log = ZoneLog.open(dir, origin, seed);
    log.saveCheckpoint(records.length, note);
    log.signedSize = Math.max(log.signedSize, records.length);
    return log;
  }

  get size(): number {
    return this.tree.size;
  }

  root(size = this.size): Uint8Array {
    return this.tree.root(size);
  }

  /** Appends an event; returns its index. */
  append(event: AuditEvent): number {
    const index = this.tree.size;
    const prev = index === 0 ? new Uint8Array(HASH_SIZE) : this.lastLeaf();
    const entry = encodeEntry({ seq: index, prev, event });
    const record = new Uint8Array(4 + entry.length);
    new DataView(record.buffer).setUint32(0, entry.length);
    record.set(entry, 4);
    writeSync(this.fd, record);
    this.tree.append(leafHash(entry));
    return index;
  }

  private lastLeaf(): Uint8Array {
    return this.tree.leaf(this.size - 1);
  }

  /**
   * Makes the first `size` entries durable without blocking the event loop (fdatasync on libuv's
   * thread pool): the periodic checkpoints of a busy daemon would otherwise stall it for as long
   * as the disk takes.
   */
  async flush(size = this.size): Promise<void> {
    if (size <= this.durable || this.closed) return;
    const target = this.size;
    await new Promise<void>((resolve, reject) => fdatasync(this.fd, (err) => (err && !this.closed ? reject(err) : resolve())));
    this.durable = Math.max(this.durable, target);
  }

  /** Signs a checkpoint of the first `size` entries (made durable first if they are not); returns its note text. */
  checkpoint(size = this.size): string {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.size) throw new AuditError('AUDIT_NOT_FOUND', `${this.origin} has ${this.size} entries; no checkpoint of size ${size}`);
    if (size > this.durable) {
      fdatasyncSync(this.fd);
      this.durable = this.size;
    }
    const text = formatCheckpoint({ origin: this.origin, size, root: this.root(size), extensions: [] });
    const note = formatNote({ text, signatures: [signNote(text, this.origin, this.seed)] });
    this.saveCheckpoint(size, note);
    this.signedSize = Math.max(this.signedSize, size);
    return note;
  }

  /** Adds witnesses' cosignatures to the stored checkpoint of `size`. */
  addCosignatures(size: number, sigs: NoteSignature[]): string {
    const note = parseNote(this.checkpointAt(size));
    const known = new Set(note.signatures.map((s) => `${s.name} ${Buffer.from(s.keyId).toString('hex')}`));
    for (const s of sigs) if (!known.has(`${s.name} ${Buffer.from(s.keyId).toString('hex')}`)) note.signatures.push(s);
    const text = formatNote(note);
    this.saveCheckpoint(size, text);
    return text;
  }

  checkpointAt(size: number): string {
    const f = checkpointFile(this.dir, size);
    if (!existsSync(f)) throw new AuditError('AUDIT_NOT_FOUND', `${this.origin} has no checkpoint of size ${size}`);
    return readFileSync(f, 'utf8');
  }

  /** Sizes of the stored checkpoints, ascending. */
  checkpointSizes(): number[] {
    return checkpointSizesIn(this.dir);
  }

  inclusionProof(index: number, size = this.size): Uint8Array[] {
    return this.tree.inclusionProof(index, size);
  }

  consistencyProof(from: number, to = this.size): Uint8Array[] {
    return this.tree.consistencyProof(from, to);
  }

  close(): void {
    if (this.size > this.durable) fdatasyncSync(this.fd);
    this.closed = true;
    closeSync(this.fd);
  }

  private saveCheckpoint(size: number, note: string): void {
    const f = checkpointFile(this.dir, size);
    writeFileSync(`${f}.tmp`, note, { mode: 0o600 });
    renameSync(`${f}.tmp`, f);
  }
}
