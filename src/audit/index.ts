// Audit layer (public face): RFC 9162 Merkle trees and proofs, C2SP signed notes, checkpoints
// and cosignatures. The per-device, per-zone logs are built from these.
export { AuditError, type AuditErrorCode } from './errors.js';
export { HASH_SIZE, MerkleTree, emptyRoot, leafHash, nodeHash, verifyConsistency, verifyInclusion } from './merkle.js';
export {
  SIG_COSIGNATURE_V1,
  SIG_ED25519,
  cosignNote,
  cosignatureTime,
  formatNote,
  formatVerifierKey,
  keyIdOf,
  parseNote,
  parseVerifierKey,
  signNote,
  signatureValid,
  verifierKey,
  verifyNote,
  type Note,
  type NoteSignature,
  type VerifierKey,
} from './note.js';
export { formatCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.js';
