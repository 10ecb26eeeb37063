// A witness: cosigns a log's checkpoint only if it is a consistent extension of the last one it
// cosigned for that log (C2SP tlog-cosignature semantics). A log that shows it a rolled-back or
// rewritten history is refused, and the refused checkpoint is kept as evidence of the fork.
// Per log it keeps (persisted): the log's key (pinned at first sight), the last size and root it
// cosigned, that checkpoint's note with its own cosignature, the log's archive index, evidence.
//
// A log is (origin, key), not the origin alone. A device that is reset keeps its origin
// (`fcp-mesh/<device>/<zone>`) but has a new node key and starts its logs again from size 0;
// under the same key that is a rollback, and stays one. Under a new key it is a new log, taken
// only when the new key is the device's trusted node key (pinned here after an owner grant or
// `fcp device trust`); the old log is kept, retired, so its checkpoints still verify with the old
// key, and the retired key may sign nothing more. Why not a new origin per key or per epoch: an
// epoch the device picks lets it start a fresh history with the same key whenever it likes,
// which is the rollback a witness exists to catch; and a new origin per key would change every
// existing log's name. Keying by (origin, key) keeps rollback and fork detection exactly as they
// were for an unchanged key, and makes a key change an owner decision rather than the device's.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { bytesEqual, signingPublicKey } from '../crypto/index.js';
import { parseCheckpoint } from './checkpoint.js';
import { AuditError } from './errors.js';
import { verifyConsistency } from './merkle.js';
import { SIG_COSIGNATURE_V1, cosignNote, formatNote, formatVerifierKey, parseNote, verifierKey, verifyNote, type NoteSignature, type VerifierKey } from './note.js';

/** Refused checkpoints kept per log: the first ones prove the fork; more add nothing. */
export const MAX_EVIDENCE = 4;

interface Seen {
  size: number;
  root: string;
  /** The log's verifier key (text form), pinned the first time. */
  key?: string;
  /** The cosigned checkpoint, with this witness's cosignature line. */
  note?: string;
  /** The log's archive index object (hex id), as the log's device named it. */
  index?: string;
  /** Checkpoints signed by the log's key that this witness refused. */
  evidence?: string[];
  /** Earlier logs of this origin under keys the device no longer has (it was reset), oldest first. */
  retired?: Retired[];
}

/** A log of an origin under a superseded key: what this witness last cosigned of it. */
interface Retired {
  size: number;
  root: string;
  key: string;
  note: string;
  index?: string;
  evidence?: string[];
  /** When the device's new key took over (seconds since epoch). */
  until: number;
}

/** What a witness holds of one log. */
export interface WitnessView {
  origin: string;
  key: string;
  note: string;
  index?: string;
  evidence: string[];
  /** A log under a key the device no longer has (it was reset and its new key trusted). */
  retired?: boolean;
}

export class Witness {
  private readonly seen: Map<string, Seen>;
  private dirty = false;
  private writing: Promise<void> | null = null;
  readonly key: VerifierKey;

  constructor(
    readonly name: string,
    private readonly seed: Uint8Array,
    /** Where the state of each log is kept (JSON). */
    private readonly statePath: string,
  ) {
    this.key = verifierKey(name, SIG_COSIGNATURE_V1, signingPublicKey(seed));
    this.seen = new Map(existsSync(statePath) ? Object.entries(JSON.parse(readFileSync(statePath, 'utf8')) as Record<string, Seen>) : []);
  }

  /**
   * The last checkpoint this witness cosigned for `origin` (with `logKey`: of the log under that
   * key only; a new key of a reset device has no last checkpoint yet).
   */
  last(origin: string, logKey?: VerifierKey): { size: number; root: Uint8Array } | undefined {
    const s = this.seen.get(origin);
    if (!s || (logKey && s.key && s.key !== formatVerifierKey(logKey))) return undefined;
    return { size: s.size, root: new Uint8Array(Buffer.from(s.root, 'base64')) };
  }

  /** The views this witness holds of the logs `accept` selects (those with a stored note), retired ones too. */
  views(accept: (origin: string) => boolean): WitnessView[] {
    const out: WitnessView[] = [];
    for (const [origin, s] of this.seen) {
      if (!accept(origin)) continue;
      for (const r of s.retired ?? []) out.push({ origin, key: r.key, note: r.note, ...(r.index ? { index: r.index } : {}), evidence: r.evidence ?? [], retired: true });
      if (!s.key || !s.note) continue;
      out.push({ origin, key: s.key, note: s.note, ...(s.index ? { index: s.index } : {}), evidence: s.evidence ?? [] });
    }
    return out;
  }

  /**
   * A checkpoint of `origin` signed by another key than the log this witness knows: a new log
   * only if `deviceKey` (the device's trusted node key, pinned by the mesh) is that key; the log
   * known so far is retired. Throws AUDIT_BAD_KEY otherwise, with the log known left as it was.
   */
  private takeNewKey(origin: string, state: Seen, logKey: VerifierKey, deviceKey: Uint8Array | undefined, now: number): void {
    const keyText = formatVerifierKey(logKey);
    if ((state.retired ?? []).some((r) => r.key === keyText)) throw new AuditError('AUDIT_BAD_KEY', `${origin} is signed by a key its device no longer has (it was reset); that key's log is closed`);
    if (!deviceKey || !bytesEqual(deviceKey, logKey.publicKey)) {
      throw new AuditError('AUDIT_BAD_KEY', `${origin} is signed by another key than the one this witness knows for it, and not by the device's trusted node key (after a reset: \`fcp device trust\` on this device, or an owner grant)`);
    }
    if (state.key && state.note) {
      const retired: Retired = { size: state.size, root: state.root, key: state.key, note: state.note, until: now, ...(state.index ? { index: state.index } : {}), ...(state.evidence ? { evidence: state.evidence } : {}) };
      state.retired = [...(state.retired ?? []), retired];
    }
    this.seen.set(origin, { size: 0, root: '', ...(state.retired ? { retired: state.retired } : {}) });
  }

  /**
   * Cosigns `note` (a checkpoint signed by `logKey`) given a consistency proof from the last size
   * this witness cosigned. Throws AUDIT_ROLLBACK or AUDIT_FORK when the log is not append-only,
   * AUDIT_BAD_KEY when the log is signed by another key than the one pinned for it, unless that
   * key is `deviceKey`, the device's trusted node key (a reset device: its log starts again).
   */
  cosign(note: string, logKey: VerifierKey, proof: Uint8Array[], now = Math.floor(Date.now() / 1000), index?: string, deviceKey?: Uint8Array): NoteSignature {
    const parsed = parseNote(note);
    verifyNote(parsed, [logKey]);
    const cp = parseCheckpoint(parsed.text);
    if (cp.origin !== logKey.name) throw new AuditError('AUDIT_BAD_CHECKPOINT', `checkpoint of ${cp.origin} signed as ${logKey.name}`);
    const keyText = formatVerifierKey(logKey);
    const known = this.seen.get(cp.origin);
    if (known?.key && known.key !== keyText) this.takeNewKey(cp.origin, known, logKey, deviceKey, now);
    else if (!known?.key && deviceKey && !bytesEqual(deviceKey, logKey.publicKey)) {
      // First sight of this log, but the mesh knows the device by another key: not its log.
      throw new AuditError('AUDIT_BAD_KEY', `${cp.origin} is signed by another key than the device's trusted node key`);
    }
    const state = this.seen.get(cp.origin);
    const prev = state?.key ? this.last(cp.origin) : undefined;
    if (prev && state) {
      const refuse = (code: 'AUDIT_ROLLBACK' | 'AUDIT_FORK', message: string): never => {
        const evidence = state.evidence ?? [];
        if (evidence.length < MAX_EVIDENCE && !evidence.includes(note)) evidence.push(note);
        state.evidence = evidence;
        this.save();
        throw new AuditError(code, message);
      };
      if (cp.size < prev.size) refuse('AUDIT_ROLLBACK', `${cp.origin} went back from size ${prev.size} to ${cp.size}`);
      try {
        if (prev.size > 0) verifyConsistency(prev.size, cp.size, prev.root, cp.root, proof);
      } catch (err) {
        refuse('AUDIT_FORK', `${cp.origin} at size ${cp.size} is not an extension of the size ${prev.size} this witness cosigned: ${(err as Error).message}`);
      }
    }
    const sig = cosignNote(parsed.text, this.name, this.seed, now);
    const own = { text: parsed.text, signatures: [...parsed.signatures.filter((s) => s.name === logKey.name), sig] };
    this.seen.set(cp.origin, {
      size: cp.size,
      root: Buffer.from(cp.root).toString('base64'),
      key: keyText,
      note: formatNote(own),
      ...(index ? { index } : state?.index ? { index: state.index } : {}),
      ...(state?.evidence ? { evidence: state.evidence } : {}),
      ...(state?.retired ? { retired: state.retired } : {}),
    });
    this.save();
    return sig;
  }

  /**
   * Persists the state in the background, one write at a time, the newest state last. A
   * synchronous write per cosignature stalled the daemon's event loop on a busy disk (every
   * device witnesses every other's logs each second). A crash can lose the last moments: the
   * witness then remembers an older cosigned size of a log, and still cosigns only extensions of it.
   */
  private save(): void {
    this.dirty = true;
    if (this.writing) return;
    this.writing = (async () => {
      while (this.dirty) {
        this.dirty = false;
        await writeFile(`${this.statePath}.tmp`, JSON.stringify(Object.fromEntries(this.seen)), { mode: 0o600 });
        await rename(`${this.statePath}.tmp`, this.statePath);
      }
    })()
      .catch(() => undefined)
      .finally(() => {
        this.writing = null;
      });
  }

  /** Writes what is not written yet, now (at shutdown). */
  flush(): void {
    if (!this.dirty && !this.writing) return;
    this.dirty = false;
    writeFileSync(`${this.statePath}.flush`, JSON.stringify(Object.fromEntries(this.seen)), { mode: 0o600 });
    renameSync(`${this.statePath}.flush`, this.statePath);
  }
}
