// `fcp audit verify` for one log: the entries' links and sequence, every checkpoint's signature
// and root, the witnesses' cosignatures, and the views witnesses hold. Each problem names the
// log (device and zone) and, where it can be known, the entry index.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCheckpoint } from './checkpoint.js';
import { decodeEntry } from './event.js';
import { ENTRIES_FILE, checkpointFile, checkpointSizesIn, readRecords } from './log.js';
import { HASH_SIZE, MerkleTree, leafHash } from './merkle.js';
import { parseNote, signatureValid, type VerifierKey } from './note.js';

export type ProblemKind = 'entry-damaged' | 'entry-changed' | 'entry-missing' | 'entries-cut' | 'checkpoint-signature' | 'checkpoint-mismatch' | 'unwitnessed' | 'fork' | 'rolled-back';

export interface LogProblem {
  origin: string;
  kind: ProblemKind;
  index?: number;
  detail: string;
}

export interface VerifyInput {
  dir: string;
  origin: string;
  logKey: VerifierKey;
  witnesses: readonly VerifierKey[];
  /** Cosignatures the latest checkpoint needs. */
  minWitnesses: number;
  /** Checkpoints as witnesses hold them (their last cosigned view of this log). */
  witnessViews?: ReadonlyArray<{ witness: string; note: string; evidence?: readonly string[] }>;
}

export interface VerifyReport {
  origin: string;
  entries: number;
  checkpoints: number;
  problems: LogProblem[];
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

export function verifyLogDir(v: VerifyInput): VerifyReport {
  const problems: LogProblem[] = [];
  const add = (kind: ProblemKind, detail: string, index?: number) => problems.push({ origin: v.origin, kind, detail, ...(index !== undefined ? { index } : {}) });
  const file = join(v.dir, ENTRIES_FILE);
  const { records, brokenAt } = readRecords(existsSync(file) ? new Uint8Array(readFileSync(file)) : new Uint8Array(0));
  if (brokenAt !== undefined) add('entry-damaged', `the entries file is cut or damaged at entry ${brokenAt}`, brokenAt);
  const tree = new MerkleTree();
  let prev: Uint8Array = new Uint8Array(HASH_SIZE);
  records.forEach((r, i) => {
    try {
      const e = decodeEntry(r);
      if (e.seq !== i) add(e.seq > i ? 'entry-missing' : 'entry-changed', `entry ${i} says it is entry ${e.seq}: entries were removed or moved`, i);
      else if (!equal(e.prev, prev)) add('entry-changed', `entry ${i - 1} was changed (entry ${i} links to other bytes)`, i - 1);
    } catch {
      add('entry-damaged', `entry ${i} is not a readable audit entry`, i);
    }
    prev = leafHash(r);
    tree.append(prev);
  });

  const sizes = checkpointSizesIn(v.dir);
  let lastGood = 0;
  for (const size of sizes) {
    const note = parseNote(readFileSync(checkpointFile(v.dir, size), 'utf8'));
    if (!note.signatures.some((s) => signatureValid(note.text, s, v.logKey))) {
      add('checkpoint-signature', `checkpoint of size ${size} is not signed by ${v.logKey.name}`);
      continue;
    }
    const cp = parseCheckpoint(note.text);
    if (cp.size > tree.size) add('entries-cut', `the log has ${tree.size} entries but its checkpoint of size ${cp.size} was signed: entries ${tree.size} to ${cp.size - 1} are gone`, tree.size);
    else if (!equal(tree.root(cp.size), cp.root)) add('checkpoint-mismatch', `entries ${lastGood} to ${cp.size - 1} differ from what the checkpoint of size ${cp.size} signed`, lastGood);
    else lastGood = cp.size;
    if (size === sizes[sizes.length - 1]) {
      const cosigners = v.witnesses.filter((w) => note.signatures.some((s) => signatureValid(note.text, s, w)));
      if (cosigners.length < v.minWitnesses) add('unwitnessed', `the latest checkpoint (size ${size}) has ${cosigners.length} of the ${v.minWitnesses} cosignatures it needs`);
    }
  }

  for (const view of v.witnessViews ?? []) {
    const note = parseNote(view.note);
    if (!note.signatures.some((s) => signatureValid(note.text, s, v.logKey))) continue;
    const cp = parseCheckpoint(note.text);
    if (cp.size > tree.size) {
      add('rolled-back', `${view.witness} cosigned ${cp.size} entries of this log; it has ${tree.size}: entries ${tree.size} to ${cp.size - 1} were cut or the log was rolled back`, tree.size);
    } else if (!equal(tree.root(cp.size), cp.root)) {
      add('fork', `${view.witness} was shown another history of size ${cp.size}, also signed by ${v.logKey.name}: the log forked`, cp.size);
    }
    // Checkpoints the witness refused: signed by this log, of a history other than this one.
    for (const refused of view.evidence ?? []) {
      const en = parseNote(refused);
      if (!en.signatures.some((s) => signatureValid(en.text, s, v.logKey))) continue;
      const ecp = parseCheckpoint(en.text);
      if (ecp.size > tree.size || !equal(tree.root(ecp.size), ecp.root)) {
        add('fork', `${view.witness} refused a checkpoint of size ${ecp.size} signed by ${v.logKey.name} that is not of this history: the log was shown forked`, Math.min(ecp.size, tree.size));
      }
    }
  }
  return { origin: v.origin, entries: records.length, checkpoints: sizes.length, problems };
}

/**
 * Checks the views several witnesses hold of one log against each other, without its entries
 * (any device can do it for any device's log): two checkpoints of the same size with different
 * roots, both signed by the log's key, prove the device showed two histories; so do checkpoints
 * a witness refused as no extension of what it cosigned (its evidence), when they are signed.
 */
export function crossCheckViews(origin: string, logKey: VerifierKey, views: ReadonlyArray<{ witness: string; note: string; evidence?: readonly string[] }>): LogProblem[] {
  const problems: LogProblem[] = [];
  const bySize = new Map<number, { witness: string; root: Uint8Array }>();
  const signed = (text: string) => {
    const n = parseNote(text);
    return n.signatures.some((s) => signatureValid(n.text, s, logKey)) ? parseCheckpoint(n.text) : null;
  };
  for (const view of views) {
    for (const [text, refused] of [[view.note, false], ...(view.evidence ?? []).map((e) => [e, true] as const)] as Array<[string, boolean]>) {
      const cp = signed(text);
      if (!cp) continue;
      const seen = bySize.get(cp.size);
      if (seen && !equal(seen.root, cp.root)) {
        problems.push({ origin, kind: 'fork', index: cp.size, detail: `${seen.witness} and ${view.witness} hold two different checkpoints of size ${cp.size}, both signed by ${logKey.name}: the device showed two histories` });
      } else if (!seen) bySize.set(cp.size, { witness: view.witness, root: cp.root });
      if (refused && !seen) problems.push({ origin, kind: 'fork', index: cp.size, detail: `${view.witness} refused a checkpoint of size ${cp.size} signed by ${logKey.name}: it is not an extension of what it had cosigned` });
    }
  }
  return problems;
}
