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
export { checkEvent, decodeEntry, encodeEntry, type AuditEvent, type AuditSink, type LogEntry } from './event.js';
export { CHECKPOINT_DIR, ENTRIES_FILE, ZoneLog, checkpointFile, checkpointSizesIn, logKey, logOrigin, readRecords } from './log.js';
export { MAX_EVIDENCE, Witness, type WitnessView } from './witness.js';
export { Witnessing, witnessName, type RoundResult, type WitnessingDeps } from './witnessing.js';
export { BUNDLE_SCHEMA, INDEX_SCHEMA, LogArchive, TILE_ENTRIES, restoreLog, type ArchiveIO, type ArchiveIndex } from './archive.js';
export { verifyEventProof, type EventProof, type ProofCheck } from './proof.js';
export { isQuietDecision } from './quiet.js';
export { crossCheckViews, verifyLogDir, type LogProblem, type ProblemKind, type VerifyInput, type VerifyReport } from './verify.js';
export { AuditRecorder, DEVICE_LOG, type ListedEntry, type RecorderDeps } from './recorder.js';
