// A witness: cosigns a log's checkpoint only if it is a consistent extension of the last one it
// cosigned for that log (C2SP tlog-cosignature semantics). A log that shows it a rolled-back or
// rewritten history is refused, and that refusal is the evidence of a fork.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { signingPublicKey } from '../crypto/index.js';
import { parseCheckpoint } from './checkpoint.js';
import { AuditError } from './errors.js';
import { verifyConsistency } from './merkle.js';
import { SIG_COSIGNATURE_V1, cosignNote, parseNote, verifierKey, verifyNote, type NoteSignature, type VerifierKey } from './note.js';

interface Seen {
  size: number;
  root: string;
}

export class Witness {
  private readonly seen: Map<string, Seen>;
  readonly key: VerifierKey;

  constructor(
    readonly name: string,
    private readonly seed: Uint8Array,
    /** Where the last cosigned size and root of each log are kept (JSON). */
    private readonly statePath: string,
  ) {
    this.key = verifierKey(name, SIG_COSIGNATURE_V1, signingPublicKey(seed));
    this.seen = new Map(existsSync(statePath) ? Object.entries(JSON.parse(readFileSync(statePath, 'utf8')) as Record<string, Seen>) : []);
  }

  /** The last checkpoint this witness cosigned for `origin`. */
  last(origin: string): { size: number; root: Uint8Array } | undefined {
    const s = this.seen.get(origin);
    return s && { size: s.size, root: new Uint8Array(Buffer.from(s.root, 'base64')) };
  }

  /**
   * Cosigns `note` (a checkpoint signed by `logKey`) given a consistency proof from the last size
   * this witness cosigned. Throws AUDIT_ROLLBACK or AUDIT_FORK when the log is not append-only.
   */
  cosign(note: string, logKey: VerifierKey, proof: Uint8Array[], now = Math.floor(Date.now() / 1000)): NoteSignature {
    const parsed = parseNote(note);
    verifyNote(parsed, [logKey]);
    const cp = parseCheckpoint(parsed.text);
    if (cp.origin !== logKey.name) throw new AuditError('AUDIT_BAD_CHECKPOINT', `checkpoint of ${cp.origin} signed as ${logKey.name}`);
    const prev = this.last(cp.origin);
    if (prev) {
      if (cp.size < prev.size) throw new AuditError('AUDIT_ROLLBACK', `${cp.origin} went back from size ${prev.size} to ${cp.size}`);
      try {
        if (prev.size > 0) verifyConsistency(prev.size, cp.size, prev.root, cp.root, proof);
      } catch (err) {
        throw new AuditError('AUDIT_FORK', `${cp.origin} at size ${cp.size} is not an extension of the size ${prev.size} this witness cosigned: ${(err as Error).message}`);
      }
    }
    this.seen.set(cp.origin, { size: cp.size, root: Buffer.from(cp.root).toString('base64') });
    writeFileSync(`${this.statePath}.tmp`, JSON.stringify(Object.fromEntries(this.seen)), { mode: 0o600 });
    renameSync(`${this.statePath}.tmp`, this.statePath);
    return cosignNote(parsed.text, this.name, this.seed, now);
  }
}
