// This device's audit logs: one ZoneLog per zone (and one, `device`, for decisions about the
// device as a whole) under <dataDir>/audit/. Events are appended as they happen; a checkpoint is
// signed a second after a new event, or at once after 1,000 entries. Each checkpoint is then
// archived in the mesh (when an archive is given) and sent to the zone's witnesses.
// "Quiet" entries (allowed peer traffic: symbols stored and served, witnessing itself) are
// appended like any other but do not start the one-second timer: they ride along in the next
// checkpoint. Otherwise every checkpoint's own witnessing and archiving would, on the witnesses,
// make new entries, new checkpoints and new rounds, and the devices would keep each other busy.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { LogArchive, type ArchiveIO } from './archive.js';
import { AuditError } from './errors.js';
import { decodeEntry, type AuditEvent } from './event.js';
import { ENTRIES_FILE, ZoneLog, logKey, logOrigin, readRecords } from './log.js';
import { leafHash } from './merkle.js';
import { formatVerifierKey, parseNote } from './note.js';
import { parseCheckpoint } from './checkpoint.js';
import type { EventProof } from './proof.js';
import { verifyLogDir, type VerifyInput, type VerifyReport } from './verify.js';
import type { Witnessing } from './witnessing.js';

/** The log of decisions that concern no single zone (status, invites, administration). */
export const DEVICE_LOG = 'device';
const CHECKPOINT_EVERY = 1000;
const CHECKPOINT_AFTER_MS = 1000;

export interface RecorderDeps {
  dataDir: string;
  deviceId: () => string;
  /** The node's Ed25519 signing seed: checkpoints are signed with it. */
  signingSeed: Uint8Array;
  log: Logger;
  /** Sends each new checkpoint to the zone's witnesses. */
  witnessing?: Witnessing;
  /** Keeps each log's entries and checkpoints as mesh objects, and the zone they go to. */
  archive?: { io: ArchiveIO; zoneOf: (logZone: string) => string | null };
}

/** Directory names are zone ids with ':' kept; only the characters zone ids allow reach the disk. */
function dirName(zone: string): string {
  if (!/^[a-z0-9:._-]{1,64}$/.test(zone)) throw new AuditError('AUDIT_BAD_EVENT', `not a zone id: ${zone}`);
  return zone;
}

export interface ListedEntry {
  zone: string;
  index: number;
  event: AuditEvent;
}

export class AuditRecorder {
  private readonly logs = new Map<string, ZoneLog>();
  private readonly pending = new Map<string, number>();
  private readonly archives = new Map<string, LogArchive>();
  /** Per log, the archive-and-witness work of its checkpoints, one after the other. */
  private readonly after = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** Logs whose archiving failed once (warned once, then logged at debug). */
  private readonly archiveWarned = new Set<string>();

  constructor(private readonly d: RecorderDeps) {}

  get deviceId(): string {
    return this.d.deviceId();
  }

  /** The origin of this device's log of `zone`. */
  origin(zone: string): string {
    return logOrigin(this.d.deviceId(), zone);
  }

  /** The verifier key of this device's log of `zone` (text form). */
  keyOf(zone: string): string {
    return formatVerifierKey(logKey(this.origin(zone), this.d.signingSeed));
  }

  private root(): string {
    return join(this.d.dataDir, 'audit');
  }

  private logFor(zone: string): ZoneLog {
    let log = this.logs.get(zone);
    if (!log) {
      log = ZoneLog.open(join(this.root(), dirName(zone)), logOrigin(this.d.deviceId(), zone), this.d.signingSeed);
      this.logs.set(zone, log);
    }
    return log;
  }

  /**
   * Appends an event to its zone's log. Never throws: a failing audit write is logged loudly.
   * A quiet event waits for the next checkpoint instead of scheduling one.
   */
  record(event: AuditEvent, opts: { quiet?: boolean } = {}): void {
    if (this.closed) return;
    try {
      const log = this.logFor(event.zone);
      log.append(event);
      const n = (this.pending.get(event.zone) ?? 0) + 1;
      this.pending.set(event.zone, n);
      if (n >= CHECKPOINT_EVERY) this.checkpoint(event.zone);
      else if (!opts.quiet) this.schedule();
    } catch (err) {
      this.d.log.error({ err: (err as Error).message, zone: event.zone }, 'audit event not recorded');
    }
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.checkpointAll();
    }, CHECKPOINT_AFTER_MS);
    this.timer.unref();
  }

  /** Events of other parts (stores, erasures, invokes, tokens, enrolment): timed now. */
  note(e: Omit<AuditEvent, 'at'>): void {
    this.record({ at: Date.now(), ...e });
  }

  /** A capability token minted (its id and audience; never the token's bytes). */
  tokenMinted(t: { zone: string; principal: string; tokenId: string; audience?: string; grants?: number }): void {
    this.note({ kind: 'token.mint', zone: t.zone, principal: t.principal, subject: t.tokenId, ...(t.audience || t.grants !== undefined ? { detail: { ...(t.audience ? { audience: t.audience } : {}), ...(t.grants !== undefined ? { grants: t.grants } : {}) } } : {}) });
  }

  /** A token revoked (its id; the revocation list's new sequence number). */
  tokenRevoked(t: { zone: string; principal: string; tokenId: string; seq?: number }): void {
    this.note({ kind: 'token.revoke', zone: t.zone, principal: t.principal, subject: t.tokenId, ...(t.seq !== undefined ? { detail: { seq: t.seq } } : {}) });
  }

  /** A device enrolled (joined the mesh with an invite): which device, how many zone keys it got. */
  enrolled(e: { principal: string; device: string; zoneKeys: number }): void {
    this.note({ kind: 'device.enroll', zone: DEVICE_LOG, principal: e.principal, subject: e.device, detail: { zoneKeys: e.zoneKeys } });
  }

  /**
   * Signs a checkpoint of a log's new entries. By default its entries are made durable off the
   * event loop first and it is signed after; `now` signs at once (a verify or a close reads it next).
   * Either way checkpoints reach the archive and the witnesses in order, one after the other.
   */
  private checkpoint(zone: string, now = false): void {
    this.pending.delete(zone);
    const log = this.logs.get(zone);
    if (!log) return;
    const size = log.size;
    if (now) {
      const note = log.checkpoint(size);
      this.enqueue(zone, () => this.publish(zone, log, size, note));
      return;
    }
    this.enqueue(zone, async () => {
      await log.flush(size);
      // Closed meanwhile, or a checkpoint signed at once (verify) already covers these entries.
      if (this.closed || size <= log.signedSize) return;
      await this.publish(zone, log, size, log.checkpoint(size));
    });
  }

  private enqueue(zone: string, step: () => Promise<void>): void {
    const prev = this.after.get(zone) ?? Promise.resolve();
    const next = prev.then(step).catch((err: Error) => this.d.log.error({ err: err.message, zone }, 'audit checkpoint failed'));
    this.after.set(zone, next);
    void next.finally(() => this.after.get(zone) === next && this.after.delete(zone));
  }

  /** Archives the checkpoint (when archiving) and hands it to the witnesses. */
  private async publish(zone: string, log: ZoneLog, size: number, note: string): Promise<void> {
    const { witnessing, archive } = this.d;
    let index: string | undefined;
    const target = archive?.zoneOf(zone);
    if (archive && target && !this.closed) {
      try {
        let a = this.archives.get(zone);
        if (!a) this.archives.set(zone, (a = new LogArchive(archive.io, target, log.origin)));
        index = await a.save(this.records(zone).slice(0, size), note);
      } catch (err) {
        const level = this.archiveWarned.has(zone) ? 'debug' : 'warn';
        this.archiveWarned.add(zone);
        this.d.log[level]({ err: (err as Error).message, zone }, 'audit checkpoint not archived');
      }
    }
    if (!this.closed) witnessing?.submit(zone, log, size, note, index);
  }

  /** Resolves once every checkpoint signed so far is archived and its witnessing round is over. */
  async settle(): Promise<void> {
    this.checkpointAll();
    for (let i = 0; i < 10 && this.after.size > 0; i++) await Promise.allSettled([...this.after.values()]);
    await this.d.witnessing?.idle();
  }

  /** How many entries this device's log of `zone` has (0 when it has none). */
  sizeOf(zone: string): number {
    return this.logs.get(zone)?.size ?? this.records(zone).length;
  }

  private records(zone: string): Uint8Array[] {
    const file = join(this.root(), dirName(zone), ENTRIES_FILE);
    return existsSync(file) ? readRecords(new Uint8Array(readFileSync(file))).records : [];
  }

  /**
   * The proof of entry `index` of this device's log of `zone`: the entry, its inclusion path to
   * the latest checkpoint that covers it, and that checkpoint's note with its cosignatures.
   */
  proof(zone: string, index: number, witnessKeys: string[] = []): EventProof {
    // The caller settles first (settle()): a checkpoint signed now would not be cosigned yet.
    const log = this.logs.get(zone) ?? (this.zones().includes(zone) ? this.logFor(zone) : null);
    if (!log) throw new AuditError('AUDIT_NOT_FOUND', `this device has no audit log of ${zone} (it has: ${this.zones().join(', ') || 'none'})`);
    if (!Number.isSafeInteger(index) || index < 0 || index >= log.size) throw new AuditError('AUDIT_BAD_INDEX', `${log.origin} has entries 0 to ${log.size - 1}; there is no entry ${index}`);
    const sizes = log.checkpointSizes().filter((s) => s > index);
    const size = sizes[sizes.length - 1];
    if (size === undefined) throw new AuditError('AUDIT_NOT_FOUND', `no checkpoint of ${log.origin} covers entry ${index} yet`);
    const checkpoint = log.checkpointAt(size);
    const entry = this.records(zone)[index]!;
    return {
      origin: log.origin,
      index,
      entry: Buffer.from(entry).toString('base64'),
      leaf: Buffer.from(leafHash(entry)).toString('hex'),
      proof: log.inclusionProof(index, size).map((h) => Buffer.from(h).toString('base64')),
      checkpoint,
      logKey: formatVerifierKey(log.key),
      witnessKeys,
    };
  }

  /**
   * Puts back this device's log of `zone` from restored entries and their checkpoint: the events
   * recorded here since the log was lost are appended after them again (new indexes, new links).
   */
  restore(zone: string, records: Uint8Array[], note: string): { restored: number; reappended: number } {
    const dir = join(this.root(), dirName(zone));
    const origin = this.origin(zone);
    const cp = parseCheckpoint(parseNote(note).text);
    if (cp.origin !== origin || cp.size !== records.length) throw new AuditError('AUDIT_BAD_ARCHIVE', `the restored checkpoint is of ${cp.origin} at size ${cp.size}, not of ${origin} at ${records.length}`);
    const since: AuditEvent[] = [];
    for (const r of this.records(zone)) {
      try {
        since.push(decodeEntry(r).event);
      } catch {
        // an unreadable entry of the lost log's replacement is dropped with it
      }
    }
    this.logs.get(zone)?.close();
    this.logs.delete(zone);
    this.pending.delete(zone);
    this.archives.delete(zone);
    rmSync(dir, { recursive: true, force: true });
    const log = ZoneLog.restore(dir, origin, this.d.signingSeed, records, note);
    this.logs.set(zone, log);
    for (const e of since) log.append(e);
    if (since.length > 0) this.checkpoint(zone, true);
    return { restored: records.length, reappended: since.length };
  }

  /** Signs a checkpoint of every log with new entries. */
  checkpointAll(now = false): void {
    for (const zone of [...this.pending.keys()]) {
      try {
        this.checkpoint(zone, now);
      } catch (err) {
        this.d.log.error({ err: (err as Error).message, zone }, 'audit checkpoint failed');
      }
    }
  }

  /** Zones with a log on this device. */
  zones(): string[] {
    return existsSync(this.root()) ? readdirSync(this.root()).sort() : [];
  }

  /** Entries of the logs (optionally one zone), newest last, from `sinceMs`. */
  entries(opts: { zone?: string; sinceMs?: number; limit?: number } = {}): ListedEntry[] {
    const out: ListedEntry[] = [];
    for (const zone of opts.zone ? [opts.zone] : this.zones()) {
      const file = join(this.root(), dirName(zone), ENTRIES_FILE);
      if (!existsSync(file)) continue;
      readRecords(new Uint8Array(readFileSync(file))).records.forEach((r, index) => {
        try {
          const e = decodeEntry(r).event;
          if (opts.sinceMs === undefined || e.at >= opts.sinceMs) out.push({ zone, index, event: e });
        } catch {
          // a damaged entry is verify's to report
        }
      });
    }
    out.sort((a, b) => a.event.at - b.event.at);
    return opts.limit !== undefined ? out.slice(-opts.limit) : out;
  }

  /**
   * Verifies every log of this device (signatures, links, checkpoints); `witnessed` gives, per
   * zone, the witnesses' keys, the cosignatures needed and the views they hold.
   */
  verify(witnessed?: (zone: string) => Pick<VerifyInput, 'witnesses' | 'minWitnesses' | 'witnessViews'>): VerifyReport[] {
    // With witnesses, the caller has settled the checkpoints they cosigned; a new one now would
    // not be cosigned yet.
    if (!witnessed) this.checkpointAll(true);
    return this.zones().map((zone) => {
      const origin = logOrigin(this.d.deviceId(), zone);
      return verifyLogDir({ dir: join(this.root(), zone), origin, logKey: logKey(origin, this.d.signingSeed), ...(witnessed ? witnessed(zone) : { witnesses: [], minWitnesses: 0 }) });
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.checkpointAll(true);
    // A checkpoint still waiting for its flush is signed now, so the last entries are covered.
    for (const log of this.logs.values()) if (log.size > log.signedSize) log.checkpoint();
    for (const log of this.logs.values()) log.close();
    this.logs.clear();
  }
}
