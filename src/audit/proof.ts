// An audit event's proof: the entry (its leaf), an RFC 9162 inclusion proof to a checkpoint, and
// that checkpoint's note with the log's signature and the witnesses' cosignatures. It is checked
// offline with plain RFC 9162 math (leaf = SHA-256(0x00 || entry), §2.1.3.2 inclusion) and the
// note signatures; nothing of the mesh is needed.
import { parseCheckpoint } from './checkpoint.js';
import { AuditError } from './errors.js';
import { decodeEntry, type AuditEvent } from './event.js';
import { leafHash, verifyInclusion } from './merkle.js';
import { SIG_COSIGNATURE_V1, parseNote, parseVerifierKey, signatureValid } from './note.js';

export interface EventProof {
  /** `fcp-mesh/<device>/<zone>` */
  origin: string;
  index: number;
  /** The entry bytes (canonical CBOR), base64. */
  entry: string;
  /** The leaf hash, hex (SHA-256(0x00 || entry)). */
  leaf: string;
  /** The inclusion path to the checkpoint's root, each node base64. */
  proof: string[];
  /** The checkpoint's signed note (log signature and cosignatures). */
  checkpoint: string;
  /** The log's verifier key (note text form). */
  logKey: string;
  /** The witnesses' verifier keys, as this device knows them. */
  witnessKeys: string[];
}

export interface ProofCheck {
  origin: string;
  index: number;
  size: number;
  event: AuditEvent;
  /** Names of the witnesses whose cosignature of the checkpoint verifies. */
  cosignedBy: string[];
}

const b64 = (s: string, what: string): Uint8Array => {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new AuditError('AUDIT_BAD_PROOF', `${what} is not base64`);
  return new Uint8Array(Buffer.from(s, 'base64'));
};

/** Checks a proof; throws AUDIT_BAD_PROOF naming what does not hold. */
export function verifyEventProof(p: EventProof): ProofCheck {
  if (typeof p !== 'object' || p === null || typeof p.entry !== 'string' || typeof p.checkpoint !== 'string' || typeof p.logKey !== 'string' || !Array.isArray(p.proof) || !Number.isSafeInteger(p.index)) {
    throw new AuditError('AUDIT_BAD_PROOF', 'a proof has origin, index, entry, leaf, proof, checkpoint and logKey');
  }
  const logKey = parseVerifierKey(p.logKey);
  const note = parseNote(p.checkpoint);
  if (!note.signatures.some((s) => signatureValid(note.text, s, logKey))) throw new AuditError('AUDIT_BAD_PROOF', `the checkpoint is not signed by ${logKey.name}`);
  const cp = parseCheckpoint(note.text);
  if (cp.origin !== logKey.name || cp.origin !== p.origin) throw new AuditError('AUDIT_BAD_PROOF', `the checkpoint is of ${cp.origin}, the proof says ${p.origin}`);
  const entry = b64(p.entry, 'the entry');
  const leaf = leafHash(entry);
  if (Buffer.from(leaf).toString('hex') !== p.leaf) throw new AuditError('AUDIT_BAD_PROOF', 'the leaf hash is not SHA-256(0x00 || entry)');
  try {
    verifyInclusion(p.index, cp.size, leaf, p.proof.map((h, i) => b64(String(h), `proof node ${i}`)), cp.root);
  } catch (err) {
    throw new AuditError('AUDIT_BAD_PROOF', `entry ${p.index} is not in the checkpoint of size ${cp.size}: ${(err as Error).message}`);
  }
  const decoded = decodeEntry(entry);
  if (decoded.seq !== p.index) throw new AuditError('AUDIT_BAD_PROOF', `the entry says it is entry ${decoded.seq}, not ${p.index}`);
  const cosignedBy = (p.witnessKeys ?? [])
    .map((k) => parseVerifierKey(k))
    .filter((k) => k.type === SIG_COSIGNATURE_V1 && note.signatures.some((s) => signatureValid(note.text, s, k)))
    .map((k) => k.name);
  return { origin: p.origin, index: p.index, size: cp.size, event: decoded.event, cosignedBy };
}
