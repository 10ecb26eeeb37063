// The audit logs for the local user (read, verify with the witnesses, prove an entry, rebuild a
// lost log from the mesh) and for peers (cosign their checkpoints, show what this witness holds).
// Every method authorizes first.
import { inZone, NODE, type Authorizer, type DevicePrincipal, type Principal, type Resource } from '../authz/index.js';
import {
  AuditError,
  DEVICE_LOG,
  crossCheckViews,
  formatNote,
  formatVerifierKey,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  restoreLog,
  witnessName,
  type ArchiveIO,
  type AuditRecorder,
  type EventProof,
  type ListedEntry,
  type LogProblem,
  type VerifyReport,
  type Witness,
  type WitnessView,
} from '../audit/index.js';
import type { Outgoing } from '../mesh/index.js';
import type { Message } from '../wire/index.js';
import type { Zone, ZoneRegistry } from '../zones/index.js';

export interface AuditServiceDeps {
  recorder: AuditRecorder;
  authz: Authorizer;
  /** This device as a witness of the other devices' logs. */
  witness: Witness;
  zones: Pick<ZoneRegistry, 'has' | 'get' | 'all'>;
  /** The online fcp devices that may witness a log of `zone` (`device`: any). */
  witnessesOf(zone: string): string[];
  call(stableId: string, msg: Outgoing, timeoutMs: number): Promise<Message>;
  /** The mesh objects a log is archived in (and the zone a log's archive goes to). */
  archive?: { io: ArchiveIO; zoneOf: (logZone: string) => string | null };
  /**
   * The node signing key this device trusts for a device (its pin, mesh/signer-keys.ts): a reset
   * device's log under a new key is witnessed only once that key is the trusted one.
   */
  deviceKey?: (stableId: string) => Uint8Array | undefined;
}

/** A witness's answer: its name and key, and the views it holds. */
export interface WitnessAnswer {
  witness: string;
  key: string;
  views: WitnessView[];
}

export interface RebuildResult {
  zone: string;
  origin: string;
  restored: number;
  reappended: number;
  /** The restored checkpoint's root (base64). */
  root: string;
  /** Why this log was not rebuilt. */
  missing?: string;
}

/** The report of one log; logs of other devices are checked from the witnesses' views alone. */
export interface LogReport extends VerifyReport {
  device: string;
  zone: string;
  cosignatures?: number;
  /** A log of the device under a key it no longer has (it was reset): checked with that old key. */
  retired?: boolean;
}

const ORIGIN = /^fcp-mesh\/([^/\s+]+)\/([a-z0-9:._-]{1,64})$/;

/** The device id and zone of a log origin. */
export function parseOrigin(origin: string): { device: string; zone: string } {
  const m = ORIGIN.exec(origin);
  if (!m) throw new AuditError('AUDIT_BAD_CHECKPOINT', `not a log origin: ${JSON.stringify(origin.slice(0, 80))}`);
  return { device: m[1]!, zone: m[2]! };
}

export class AuditService {
  constructor(private readonly d: AuditServiceDeps) {}

  /** This device's witness key (note text form). */
  get witnessKeyText(): string {
    return this.witnessKey;
  }

  private get witnessKey(): string {
    return formatVerifierKey(this.d.witness.key);
  }

  private zone(id: string): Zone {
    if (!this.d.zones.has(id)) throw new AuditError('AUDIT_BAD_CHECKPOINT', `unknown zone ${id}`);
    return this.d.zones.get(id);
  }

  /** The resource a log of `zone` is witnessed as (the device log: the node). */
  private logResource(zone: string): Resource {
    return zone === DEVICE_LOG ? NODE : inZone(this.zone(zone));
  }

  log(p: Principal, opts: { zone?: string; sinceMs?: number; limit?: number } = {}): ListedEntry[] {
    this.d.authz.authorize(p, 'audit.read', NODE);
    return this.d.recorder.entries(opts);
  }

  // ---- peers ----

  /** A peer's checkpoint of its own log, cosigned if it extends what this witness cosigned. */
  cosign(p: DevicePrincipal, req: { key: string; note: string; from: number; proof: Uint8Array[]; index?: string }): { witness: string; signature?: Uint8Array; need?: number } {
    const note = parseNote(req.note);
    const cp = parseCheckpoint(note.text);
    const { device, zone } = parseOrigin(cp.origin);
    this.d.authz.authorize(p, zone === DEVICE_LOG ? 'audit.cosign-device' : 'audit.cosign', this.logResource(zone), cp.origin);
    if (device !== p.stableId) throw new AuditError('AUDIT_BAD_CHECKPOINT', `${p.hostName} may have its own logs witnessed only, not ${cp.origin}`);
    const logKey = parseVerifierKey(req.key);
    if (logKey.name !== cp.origin) throw new AuditError('AUDIT_BAD_KEY', `the key of ${cp.origin} is named ${logKey.name}`);
    const witnessKey = this.witnessKey;
    // What was cosigned of the log under this key: a reset device's new key starts a log of its own.
    const last = this.d.witness.last(cp.origin, logKey);
    // A smaller size is a rollback whatever the proof; a proof from another size than the one
    // cosigned here is answered with that size (the log then sends the right proof).
    if (last && cp.size < last.size) throw new AuditError('AUDIT_ROLLBACK', `${cp.origin} went back from size ${last.size} (cosigned by ${this.d.witness.name}) to ${cp.size}`);
    if ((last?.size ?? 0) !== req.from) return { witness: witnessKey, need: last?.size ?? 0 };
    const sig = this.d.witness.cosign(req.note, logKey, req.proof, undefined, req.index, this.d.deviceKey?.(device));
    return { witness: witnessKey, signature: Uint8Array.of(...sig.keyId, ...sig.body) };
  }

  /** What this witness holds of the logs of the zones asked that the caller may read. */
  checkpoints(p: DevicePrincipal, zones: string[]): WitnessView[] {
    const allowed = new Set<string>();
    for (const z of new Set(zones)) {
      if (z !== DEVICE_LOG && !this.d.zones.has(z)) continue;
      const action = z === DEVICE_LOG ? 'audit.checkpoints-device' : 'audit.checkpoints';
      if (this.d.authz.check(p, action, this.logResource(z)).allow) allowed.add(z);
    }
    return this.d.witness.views((origin) => {
      const m = ORIGIN.exec(origin);
      return m !== null && allowed.has(m[2]!);
    });
  }

  // ---- the local user ----

  /** The views every reachable witness (this device included) holds of the logs of `zones`. */
  async askWitnesses(zones: string[]): Promise<WitnessAnswer[]> {
    const own: WitnessAnswer = { witness: this.d.witness.name, key: this.witnessKey, views: this.d.witness.views((o) => zones.includes(parseOrigin(o).zone)) };
    const peers = [...new Set(zones.flatMap((z) => this.d.witnessesOf(z)))];
    const answers = await Promise.all(
      peers.map(async (id): Promise<WitnessAnswer | null> => {
        try {
          const r = await this.d.call(id, { t: 'audit_checkpoints', zones }, 5_000);
          if (r.t !== 'audit_checkpoints_result') return null;
          const k = parseVerifierKey(r.witness);
          if (k.name !== witnessName(id)) return null;
          return { witness: k.name, key: r.witness, views: r.views };
        } catch {
          return null; // an unreachable witness is reported by the cosignatures it did not give
        }
      }),
    );
    return [own, ...answers.filter((a): a is WitnessAnswer => a !== null)];
  }

  /**
   * Every log of this device checked against its entries and what the witnesses cosigned, and
   * the logs of other devices checked across the witnesses' views (forks). `minWitnesses`: the
   * cosignatures the latest checkpoint of each log needs (default: 1 when the zone has a witness).
   */
  async verify(p: Principal, opts: { minWitnesses?: number } = {}): Promise<LogReport[]> {
    this.d.authz.authorize(p, 'audit.verify', NODE);
    await this.d.recorder.settle();
    // Every zone's logs, not only those this device keeps: a fork of any device's log is found.
    const answers = await this.askWitnesses([...new Set([...this.d.zones.all().map((z) => z.id), ...this.d.recorder.zones(), DEVICE_LOG])]);
    const self = this.d.recorder.deviceId;
    const keys = answers.filter((a) => a.witness !== this.d.witness.name).map((a) => parseVerifierKey(a.key));
    const reports: LogReport[] = this.d.recorder
      .verify((zone) => {
        const origin = this.d.recorder.origin(zone);
        const key = this.d.recorder.keyOf(zone);
        // This device's log under its key now (the witnesses may also hold its log from before a reset).
        const views = answers.flatMap((a) => a.views.filter((v) => v.origin === origin && v.key === key).map((v) => ({ witness: a.witness, note: v.note, evidence: v.evidence })));
        const available = this.d.witnessesOf(zone).length;
        return { witnesses: keys, minWitnesses: opts.minWitnesses ?? Math.min(1, available), witnessViews: views };
      })
      .map((r) => ({ ...r, device: self, zone: parseOrigin(r.origin).zone }));
    // Other devices' logs: only their witnesses' views can be compared. A log is its origin and
    // key: a reset device's log from before is checked on its own, with its old key (this
    // device's own old logs too: their entries went with the old data dir, their checkpoints did not).
    type View = { witness: string; note: string; evidence: string[]; key: string; retired: boolean };
    const byLog = new Map<string, View[]>();
    for (const a of answers) {
      for (const v of a.views) {
        if (parseOrigin(v.origin).device === self && v.key === this.d.recorder.keyOf(parseOrigin(v.origin).zone)) continue;
        const id = `${v.origin} ${v.key}`;
        const list = byLog.get(id) ?? [];
        list.push({ witness: a.witness, note: v.note, evidence: v.evidence, key: v.key, retired: v.retired === true || parseOrigin(v.origin).device === self });
        byLog.set(id, list);
      }
    }
    // Keys a witness retired (the owner trusted a newer one): two keys for one origin are a reset then, not a fork.
    const retiredKeys = new Set([...byLog.values()].flat().filter((v) => v.retired).map((v) => `${v.key}`));
    const currentKeys = new Map<string, Set<string>>();
    for (const views of byLog.values()) {
      for (const v of views) {
        if (v.retired || retiredKeys.has(v.key)) continue;
        const origin = parseCheckpoint(parseNote(v.note).text).origin;
        currentKeys.set(origin, (currentKeys.get(origin) ?? new Set()).add(v.key));
      }
    }
    for (const views of byLog.values()) {
      const origin = parseCheckpoint(parseNote(views[0]!.note).text).origin;
      const { device, zone } = parseOrigin(origin);
      const problems: LogProblem[] = [];
      const current = currentKeys.get(origin)?.size ?? 0;
      if (current > 1) problems.push({ origin, kind: 'fork', detail: `the witnesses know ${current} different keys for ${origin}, none of them superseded` });
      problems.push(...crossCheckViews(origin, parseVerifierKey(views[0]!.key), views));
      const sizes = views.map((v) => parseCheckpoint(parseNote(v.note).text).size);
      const retired = views.some((v) => v.retired || retiredKeys.has(v.key));
      reports.push({ origin, device, zone, entries: Math.max(...sizes), checkpoints: views.length, problems, ...(retired ? { retired: true } : {}) });
    }
    return reports;
  }

  /** The proof of entry `index` of this device's log of `zone`, to its latest checkpoint. */
  async proof(p: Principal, zone: string, index: number): Promise<EventProof> {
    this.d.authz.authorize(p, 'audit.proof', NODE);
    await this.d.recorder.settle();
    const answers = await this.askWitnesses([zone]);
    return this.d.recorder.proof(zone, index, answers.filter((a) => a.witness !== this.d.witness.name).map((a) => a.key));
  }

  /**
   * Rebuilds this device's log of each zone asked (default: every zone a witness holds a log of
   * this device for) from the mesh: the newest archive index a witness names, checked against
   * the checkpoint it carries; the events recorded since the loss are appended after it.
   */
  async rebuild(p: Principal, zones?: string[], opts: { onlyBehind?: boolean } = {}): Promise<RebuildResult[]> {
    this.d.authz.authorize(p, 'audit.rebuild', NODE);
    const archive = this.d.archive;
    if (!archive) throw new AuditError('AUDIT_NO_ARCHIVE', 'this device keeps no audit archive in the mesh (audit.archive is off)');
    const self = this.d.recorder.deviceId;
    const asked = zones ?? [...new Set([DEVICE_LOG, ...this.d.recorder.zones()])];
    const answers = await this.askWitnesses(asked);
    const out: RebuildResult[] = [];
    const targets = new Set(answers.flatMap((a) => a.views.map((v) => parseOrigin(v.origin))).filter((o) => o.device === self && (zones === undefined || zones.includes(o.zone))).map((o) => o.zone));
    for (const zone of zones ?? [...targets]) {
      const origin = this.d.recorder.origin(zone);
      const keyText = this.d.recorder.keyOf(zone);
      const logKey = parseVerifierKey(keyText);
      // Only this key's log: one from before a reset is signed by a key this device no longer has.
      const candidates = answers
        .flatMap((a) => a.views.filter((v) => v.origin === origin && v.key === keyText && v.index))
        .map((v) => ({ index: v.index!, size: parseCheckpoint(parseNote(v.note).text).size }))
        .sort((a, b) => b.size - a.size);
      const target = archive.zoneOf(zone);
      // Only behind: a log that has at least what the witnesses cosigned has lost nothing.
      const cosigned = Math.max(0, ...answers.flatMap((a) => a.views.filter((v) => v.origin === origin && v.key === keyText).map((v) => parseCheckpoint(parseNote(v.note).text).size)));
      if (opts.onlyBehind && this.d.recorder.sizeOf(zone) >= cosigned) continue;
      if (candidates.length === 0 || !target) {
        // Asked for by name, a log without archive is an error; among all logs, it is reported.
        if (zones) throw new AuditError('AUDIT_NO_ARCHIVE', `no witness names an archive of ${origin}`);
        out.push({ zone, origin, restored: 0, reappended: 0, root: '', missing: 'no witness names an archive of this log (its zone may take no objects in this mesh)' });
        continue;
      }
      let restored: Awaited<ReturnType<typeof restoreLog>> | null = null;
      let lastErr: unknown;
      for (const c of candidates) {
        try {
          restored = await restoreLog(archive.io, target, c.index, logKey);
          break;
        } catch (err) {
          lastErr = err;
        }
      }
      if (!restored) throw lastErr instanceof Error ? lastErr : new AuditError('AUDIT_NO_ARCHIVE', `no archive of ${origin} could be read`);
      // The archive's note carries the log's signature; the witnesses' views of the same
      // checkpoint carry their cosignatures: the restored checkpoint gets them back.
      const note = parseNote(restored.note);
      const known = new Set(note.signatures.map((s) => s.name));
      for (const a of answers) {
        for (const v of a.views) {
          if (v.origin !== origin) continue;
          const vn = parseNote(v.note);
          if (vn.text !== note.text) continue;
          for (const s of vn.signatures) if (!known.has(s.name)) (known.add(s.name), note.signatures.push(s));
        }
      }
      const r = this.d.recorder.restore(zone, restored.records, formatNote(note));
      out.push({ zone, origin, ...r, root: Buffer.from(parseCheckpoint(parseNote(restored.note).text).root).toString('base64') });
    }
    return out;
  }
}
