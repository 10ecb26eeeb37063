// This device's audit logs: one ZoneLog per zone (and one, `device`, for decisions about the
// device as a whole) under <dataDir>/audit/. Events are appended as they happen; a checkpoint is
// signed when a log has new entries and a second has passed, or at once after 1,000 entries.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AuditError } from './errors.js';
import { decodeEntry, type AuditEvent } from './event.js';
import { ENTRIES_FILE, ZoneLog, logKey, logOrigin, readRecords } from './log.js';
import { verifyLogDir, type VerifyReport } from './verify.js';

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
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly d: RecorderDeps) {}

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

  /** Appends an event to its zone's log. Never throws: a failing audit write is logged loudly. */
  record(event: AuditEvent): void {
    if (this.closed) return;
    try {
      const log = this.logFor(event.zone);
      log.append(event);
      const n = (this.pending.get(event.zone) ?? 0) + 1;
      this.pending.set(event.zone, n);
      if (n >= CHECKPOINT_EVERY) this.checkpoint(event.zone);
      else this.schedule();
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

  private checkpoint(zone: string): void {
    this.pending.delete(zone);
    this.logs.get(zone)?.checkpoint();
  }

  /** Signs a checkpoint of every log with new entries. */
  checkpointAll(): void {
    for (const zone of [...this.pending.keys()]) {
      try {
        this.checkpoint(zone);
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

  /** Verifies every log of this device (signatures, links, checkpoints). */
  verify(): VerifyReport[] {
    this.checkpointAll();
    return this.zones().map((zone) => {
      const origin = logOrigin(this.d.deviceId(), zone);
      return verifyLogDir({ dir: join(this.root(), zone), origin, logKey: logKey(origin, this.d.signingSeed), witnesses: [], minWitnesses: 0 });
    });
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.checkpointAll();
    for (const log of this.logs.values()) log.close();
    this.logs.clear();
  }
}
