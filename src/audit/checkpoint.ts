// Checkpoints (C2SP tlog-checkpoint v1.0.0): the note text "origin\nsize\nbase64(root)\n" plus
// optional extension lines, signed as a note by the log and cosigned by witnesses.
import { AuditError } from './errors.js';
import { HASH_SIZE } from './merkle.js';

export interface Checkpoint {
  /** Unique name of the log (a schema-less URL by convention). */
  origin: string;
  size: number;
  root: Uint8Array;
  /** Extension lines, without their newlines. */
  extensions: string[];
}

export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin.length === 0 || c.origin.includes('\n')) throw new AuditError('AUDIT_BAD_CHECKPOINT', 'a checkpoint origin is one non-empty line');
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new AuditError('AUDIT_BAD_CHECKPOINT', 'a checkpoint size is a whole number');
  if (c.root.length !== HASH_SIZE) throw new AuditError('AUDIT_BAD_CHECKPOINT', `a checkpoint root is ${HASH_SIZE} bytes`);
  for (const e of c.extensions) if (e.length === 0 || e.includes('\n')) throw new AuditError('AUDIT_BAD_CHECKPOINT', 'an extension is one non-empty line');
  return [c.origin, String(c.size), Buffer.from(c.root).toString('base64'), ...c.extensions].map((l) => `${l}\n`).join('');
}

export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new AuditError('AUDIT_BAD_CHECKPOINT', 'a checkpoint ends with a newline');
  const lines = text.slice(0, -1).split('\n');
  const [origin, size, root, ...extensions] = lines;
  if (!origin || size === undefined || root === undefined) throw new AuditError('AUDIT_BAD_CHECKPOINT', 'a checkpoint has an origin, a size and a root line');
  if (!/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size))) throw new AuditError('AUDIT_BAD_CHECKPOINT', `bad tree size ${JSON.stringify(size)}`);
  const hash = Buffer.from(root, 'base64');
  if (hash.length !== HASH_SIZE || hash.toString('base64') !== root) throw new AuditError('AUDIT_BAD_CHECKPOINT', 'the root line is not the base64 of a 32-byte hash');
  if (extensions.some((e) => e.length === 0)) throw new AuditError('AUDIT_BAD_CHECKPOINT', 'empty extension line');
  return { origin, size: Number(size), root: new Uint8Array(hash), extensions };
}
