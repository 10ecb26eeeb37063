// Message types and their schema table. Every message is a CBOR map { v: 1, t, id, ...fields }.
// To add a type: add its interface to Message and one row to MESSAGE_FIELDS.
import { ENVELOPE_OVERHEAD, type Manifest, type PlacementPolicy, type RefRecord, type SymbolEntry, type Tombstone } from '../crypto/index.js';
import { arrayOf, bytes, flag, fraction, numberIn, oneOf, optional, pair, record, text, uint, type FieldTable } from './schema.js';
import { DEFAULT_MAX_ARRAY_LENGTH } from './limits.js';

export type SymbolKey = [sbn: number, esi: number];

interface Envelope<T extends string> {
  v: 1;
  t: T;
  /** Request id chosen by the requester; responses carry the id of their request. */
  id: number;
}

export interface StoreMessage extends Envelope<'store'> { objectId: Uint8Array; zone: string; symbols: SymbolEntry[] }
export interface ManifestPutMessage extends Envelope<'manifest_put'> { manifest: Manifest }
export interface ManifestGetMessage extends Envelope<'manifest_get'> { objectId: Uint8Array }
export interface ManifestMessage extends Envelope<'manifest'> { manifest: Manifest }
export interface FetchMessage extends Envelope<'fetch'> { objectId: Uint8Array; zone: string; want?: SymbolKey[]; max?: number }
export interface SymbolsMessage extends Envelope<'symbols'> { symbols: SymbolEntry[] }
export interface FetchEndMessage extends Envelope<'fetch_end'> { count: number }
export interface StopMessage extends Envelope<'stop'> { target: number }
export interface HaveMessage extends Envelope<'have'> { objectId: Uint8Array }
export interface HaveResultMessage extends Envelope<'have_result'> { keys: SymbolKey[] }
export interface DeleteMessage extends Envelope<'delete'> { objectId: Uint8Array }
export interface ListMessage extends Envelope<'list'> { zone?: string }
export interface ListResultMessage extends Envelope<'list_result'> { manifests: Manifest[] }
export interface InfoMessage extends Envelope<'info'> {}
/** `signingPublicKey`: the device's node signing key (Ed25519), pinned on first use to verify its heads and tombstones. */
export interface InfoResultMessage extends Envelope<'info_result'> {
  usedBytes: number;
  freeBytes: number;
  boxPublicKey: Uint8Array;
  signingPublicKey: Uint8Array;
  /** The device's owner grant (COSE_Sign1), once the owner key granted it: vouches for its signing key. */
  grant?: Uint8Array;
}
export interface JoinMessage extends Envelope<'join'> { code: string; boxPublicKey: Uint8Array }
/** A node signing key a device had, and when it was superseded (ms since epoch). */
export interface FormerKeyEntry { key: Uint8Array; until: number }
export interface JoinResultMessage extends Envelope<'join_result'> {
  keys: Uint8Array[];
  /** The node signing keys the member knew for the joining device (it was reset): its own former keys. */
  formerKeys?: FormerKeyEntry[];
}
export interface SecretMessage extends Envelope<'secret'> { body: Uint8Array }
export interface SecretResultMessage extends Envelope<'secret_result'> { body: Uint8Array }
/** One step of the owner key ceremonies (DKG, FROST rounds, grants, info): a CBOR body of its own. */
export interface OwnerMessage extends Envelope<'owner'> { body: Uint8Array }
export interface OwnerResultMessage extends Envelope<'owner_result'> { body: Uint8Array }
/** Owner-signed revocation events (COSE_Sign1), oldest first: pushed when made, pulled from `since` when behind. */
export interface RevocationPutMessage extends Envelope<'revocation_put'> { events: Uint8Array[] }
export interface RevocationGetMessage extends Envelope<'revocation_get'> { since: number }
export interface RevocationEventsMessage extends Envelope<'revocation_events'> { events: Uint8Array[]; seq: number }
export interface DropMessage extends Envelope<'drop'> { objectId: Uint8Array; keys: SymbolKey[] }
export interface ZoneSummaryDigest { zone: string; digest: Uint8Array; buckets: Uint8Array; objects: number; symbols: number; bytes: number }
export interface SummaryEntry { objectId: Uint8Array; counts: number[] }
export interface SummaryDigestMessage extends Envelope<'summary_digest'> { zones: string[] }
export interface SummaryDigestResultMessage extends Envelope<'summary_digest_result'> { digests: ZoneSummaryDigest[] }
export interface SummaryMessage extends Envelope<'summary'> { zone: string; buckets: number[]; after?: Uint8Array; limit: number }
export interface SummaryPageMessage extends Envelope<'summary_page'> { entries: SummaryEntry[]; next?: Uint8Array }
export interface RefPutMessage extends Envelope<'ref_put'> { ref: RefRecord }
export interface RefListMessage extends Envelope<'ref_list'> { zone: string }
export interface RefListResultMessage extends Envelope<'ref_list_result'> { refs: RefRecord[] }
export interface TombPutMessage extends Envelope<'tomb_put'> { tombstones: Tombstone[] }
export interface TombListMessage extends Envelope<'tomb_list'> { zone: string }
export interface TombListResultMessage extends Envelope<'tomb_list_result'> { tombstones: Tombstone[] }
/** A device profile as it travels (hub placement, FCP V2 §15.2). */
export interface WireProfile {
  name: string;
  alwaysOn: boolean;
  interactive: boolean;
  gpu: boolean;
  onBattery: boolean;
  os: string;
  freeMemoryMb: number;
  cpuCores: number;
}
/** A head of hub state: its sequence, the mesh object (hex id) and the lease it was written under. */
export interface WireHead { seq: number; objectId: string; leaseSeq?: number }
export const LEASE_OPS = ['query', 'acquire', 'renew', 'release'] as const;
export interface ProfileMessage extends Envelope<'profile'> {}
export interface ProfileResultMessage extends Envelope<'profile_result'> { profile: WireProfile; signingPublicKey: Uint8Array }
export interface LeaseMessage extends Envelope<'lease'> { subject: string; zone: string; op: (typeof LEASE_OPS)[number]; seq: number; durationMs: number }
export interface LeaseResultMessage extends Envelope<'lease_result'> { granted: boolean; holder?: string; seq: number; remainingMs: number }
export interface HeadGetMessage extends Envelope<'head_get'> { key: string; zone: string }
export interface HeadResultMessage extends Envelope<'head_result'> { head?: WireHead }
export interface HeadCommitMessage extends Envelope<'head_commit'> { key: string; zone: string; head: WireHead }
/** `token` (COSE_Sign1 bytes) and its holder's proof over (traceId, connector.op): the caller's capability. */
/** `publicZone`/`publicVia`: the invoke is relayed from this device's public gateway for a caller of that zone. */
export interface InvokeMessage extends Envelope<'invoke'> { connector: string; op: string; input: string; deadlineMs: number; traceId: string; idempotencyKey?: string; token?: Uint8Array; proofTime?: number; proofSig?: Uint8Array; publicZone?: string; publicVia?: 'funnel' | 'tailnet' }
export interface InvokeResultMessage extends Envelope<'invoke_result'> { output: string }
/** A device the mesh no longer trusts (grow-only set, spread between members). */
export interface WireRemoval { stableId: string; hostName: string; zones: string[]; at: number; by: string }
export interface RemovedPutMessage extends Envelope<'removed_put'> { removed: WireRemoval[] }
export interface RemovedListMessage extends Envelope<'removed_list'> {}
export interface RemovedListResultMessage extends Envelope<'removed_list_result'> { removed: WireRemoval[] }
/** New zone key epochs, each sealed to the receiving device's X25519 key and bound to its node id. */
export interface ZoneKeyPutMessage extends Envelope<'zone_key_put'> { keys: Uint8Array[] }
/** A member asks for a newer epoch than `epoch`, proving it holds the zone's ObjectIdKey. */
export interface ZoneKeyGetMessage extends Envelope<'zone_key_get'> { zone: string; epoch: number; boxPublicKey: Uint8Array; proof: Uint8Array }
export interface ZoneKeyResultMessage extends Envelope<'zone_key_result'> { epoch: number; resealing: boolean; keys: Uint8Array[] }
/** Audit witnessing: a device's signed checkpoint of one of its logs, for this device to cosign. */
export interface AuditCosignMessage extends Envelope<'audit_cosign'> { key: string; note: string; from: number; proof: Uint8Array[]; index?: string }
/** The witness's cosignature (its key and the signature line's bytes), or the size its proof must start from. */
export interface AuditCosignResultMessage extends Envelope<'audit_cosign_result'> { witness: string; signature?: Uint8Array; need?: number }
/** What a witness holds of each log of the zones asked (`device` for device logs). */
export interface AuditView {
  origin: string;
  key: string;
  note: string;
  index?: string;
  evidence: string[];
  /** A log of the device under a key it no longer has (it was reset): kept, verifiable with that key. */
  retired?: boolean;
}
export interface AuditCheckpointsMessage extends Envelope<'audit_checkpoints'> { zones: string[] }
export interface AuditCheckpointsResultMessage extends Envelope<'audit_checkpoints_result'> { witness: string; views: AuditView[] }
export interface OkMessage extends Envelope<'ok'> {}
export interface ErrorMessage extends Envelope<'error'> { code: string; message: string }

export type Message =
  | RevocationPutMessage
  | RevocationGetMessage
  | RevocationEventsMessage
  | StoreMessage
  | ManifestPutMessage
  | ManifestGetMessage
  | ManifestMessage
  | FetchMessage
  | SymbolsMessage
  | FetchEndMessage
  | StopMessage
  | HaveMessage
  | HaveResultMessage
  | DeleteMessage
  | ListMessage
  | ListResultMessage
  | InfoMessage
  | InfoResultMessage
  | JoinMessage
  | JoinResultMessage
  | SecretMessage
  | SecretResultMessage
  | OwnerMessage
  | OwnerResultMessage
  | DropMessage
  | SummaryDigestMessage
  | SummaryDigestResultMessage
  | SummaryMessage
  | SummaryPageMessage
  | RefPutMessage
  | RefListMessage
  | RefListResultMessage
  | TombPutMessage
  | TombListMessage
  | TombListResultMessage
  | ProfileMessage
  | ProfileResultMessage
  | LeaseMessage
  | LeaseResultMessage
  | HeadGetMessage
  | HeadResultMessage
  | HeadCommitMessage
  | InvokeMessage
  | InvokeResultMessage
  | RemovedPutMessage
  | RemovedListMessage
  | RemovedListResultMessage
  | ZoneKeyPutMessage
  | ZoneKeyGetMessage
  | ZoneKeyResultMessage
  | AuditCosignMessage
  | AuditCosignResultMessage
  | AuditCheckpointsMessage
  | AuditCheckpointsResultMessage
  | OkMessage
  | ErrorMessage;

export type MessageType = Message['t'];
export type MessageOf<T extends MessageType> = Extract<Message, { t: T }>;
/** A message before its envelope fields are filled in (what a caller builds). */
export type MessageBody<T extends MessageType> = Omit<MessageOf<T>, 'v' | 't' | 'id'>;

// Field rules shared by several messages.
const ZONE_PATTERN = /^[a-z0-9:_-]+$/;
const zone = text({ max: 64, pattern: ZONE_PATTERN });
const objectId = bytes({ exact: 32 });
const sbn = uint(0xff);
const esi = uint(0xffffff);
const symbolKey = pair(sbn, esi);
const MAX_ENVELOPE_BYTES = 65536 + ENVELOPE_OVERHEAD;
const symbolEntry = record<SymbolEntry>({ sbn, esi, env: bytes({ min: ENVELOPE_OVERHEAD, max: MAX_ENVELOPE_BYTES }) });
const symbolList = arrayOf(symbolEntry, DEFAULT_MAX_ARRAY_LENGTH);
const keyList = arrayOf(symbolKey, DEFAULT_MAX_ARRAY_LENGTH);

const placement = record<PlacementPolicy>({
  target: numberIn(1, 1000),
  minDevices: uint(0xff),
  maxShare: fraction(),
  tolerate: uint(0xff),
});

export const manifestCheck = record<Manifest>({
  objectId,
  zone,
  schema: text({ max: 256 }),
  oti: bytes({ exact: 12 }),
  length: uint(),
  keyId: bytes({ exact: 8 }),
  epoch: uint(),
  created: uint(),
  writer: text({ max: 256 }),
  placement,
});

/** Holdings summaries (store/holdings.ts): 256 id buckets of 16-byte digests; bounded pages. */
export const SUMMARY_BUCKETS = 256;
export const SUMMARY_DIGEST_BYTES = 16;
/** Most entries one summary page may carry (about 100 bytes each with a few blocks: well under a frame). */
export const SUMMARY_PAGE_MAX = 4096;
/** Most zones one summary_digest may name. */
export const SUMMARY_ZONES_MAX = 64;
const zoneDigest = record<ZoneSummaryDigest>({
  zone,
  digest: bytes({ exact: SUMMARY_DIGEST_BYTES }),
  buckets: bytes({ exact: SUMMARY_BUCKETS * SUMMARY_DIGEST_BYTES }),
  objects: uint(),
  symbols: uint(),
  bytes: uint(),
});
const summaryEntry = record<SummaryEntry>({ objectId, counts: arrayOf(uint(0xffffff), 256) });
/** Commits one device's record may name as forgotten (older ones are pruned by `forget`). */
export const MAX_FORGOTTEN = 4096;
/** Tombstones per message (a longer list is sent in several). */
export const MAX_TOMBSTONES = 16384;

// Heads and tombstones travel signed by the device they speak for (mesh/record-signing.ts):
// the signature is required on the wire (only records stored before signing lack one, and they
// are never served).
const ed25519Signature = bytes({ exact: 64 });
const refRecord = record<RefRecord>({
  zone,
  device: text({ max: 256 }),
  seq: uint(),
  commit: objectId,
  forgotten: arrayOf(objectId, MAX_FORGOTTEN),
  time: uint(),
  sig: ed25519Signature,
});
const tombstone = record<Tombstone>({ objectId, zone, at: uint(), dead: flag(), by: text({ max: 256 }), sig: ed25519Signature });
// Hub fields: connector ids and lease subjects are short names; invoke input and output are JSON
// text (bounded: one frame carries them whole).
const connectorId = text({ max: 128, pattern: /^[a-z0-9][a-z0-9._-]*$/ });
const headKey = text({ max: 200, pattern: /^[a-z]+\/[a-z0-9:._-]+$/ });
const hexObjectId = text({ min: 64, max: 64, pattern: /^[0-9a-f]{64}$/ });
export const MAX_INVOKE_JSON = 1024 * 1024;
const wireProfile = record<WireProfile>({
  name: text({ max: 63 }),
  alwaysOn: flag(),
  interactive: flag(),
  gpu: flag(),
  onBattery: flag(),
  os: text({ max: 32 }),
  freeMemoryMb: uint(0xffffffff),
  cpuCores: uint(0xffff),
});
/** Removed devices one message may carry (a mesh removes a handful in its life). */
export const MAX_REMOVALS = 4096;
const wireRemoval = record<WireRemoval>({ stableId: text({ max: 256 }), hostName: text({ max: 256 }), zones: arrayOf(zone, 64), at: uint(), by: text({ max: 256 }) });
const sealedKeys = arrayOf(bytes({ min: 1, max: 4096 }), 256);
// Audit fields: checkpoint notes are a few lines plus at most 100 signature lines (sumdb/note's bound).
export const MAX_AUDIT_NOTE = 16 * 1024;
export const MAX_AUDIT_PROOF = 64;
export const MAX_AUDIT_VIEWS = 1024;
export const MAX_AUDIT_EVIDENCE = 4;
const auditNote = text({ max: MAX_AUDIT_NOTE });
const auditKey = text({ max: 512 });
const auditView = record<AuditView>({ origin: text({ max: 512 }), key: auditKey, note: auditNote, index: optional(hexObjectId), evidence: arrayOf(auditNote, MAX_AUDIT_EVIDENCE), retired: optional(flag()) });
const wireHead = record<WireHead>({ seq: uint(), objectId: hexObjectId, leaseSeq: optional(uint()) });

/** Fields of each message type besides v, t and id. */
export const MESSAGE_FIELDS: Readonly<Record<MessageType, FieldTable>> = {
  store: { objectId, zone, symbols: symbolList },
  manifest_put: { manifest: manifestCheck },
  manifest_get: { objectId },
  manifest: { manifest: manifestCheck },
  fetch: { objectId, zone, want: optional(keyList), max: optional(uint(0xffffffff)) },
  symbols: { symbols: symbolList },
  fetch_end: { count: uint(0xffffffff) },
  stop: { target: uint() },
  have: { objectId },
  have_result: { keys: keyList },
  delete: { objectId },
  list: { zone: optional(zone) },
  list_result: { manifests: arrayOf(manifestCheck, 65536) },
  info: {},
  info_result: { usedBytes: uint(), freeBytes: uint(), boxPublicKey: bytes({ exact: 32 }), signingPublicKey: bytes({ exact: 32 }), grant: optional(bytes({ min: 1, max: 16_384 })) },
  join: { code: text({ max: 64 }), boxPublicKey: bytes({ exact: 32 }) },
  join_result: { keys: arrayOf(bytes({ min: 1, max: 4096 }), 256), formerKeys: optional(arrayOf(record<FormerKeyEntry>({ key: bytes({ exact: 32 }), until: uint() }), 64)) },
  secret: { body: bytes({ min: 1, max: 2 * 1024 * 1024 }) },
  secret_result: { body: bytes({ min: 1, max: 2 * 1024 * 1024 }) },
  owner: { body: bytes({ min: 1, max: 256 * 1024 }) },
  owner_result: { body: bytes({ min: 1, max: 256 * 1024 }) },
  revocation_put: { events: arrayOf(bytes({ min: 1, max: 64 * 1024 }), 256) },
  revocation_get: { since: uint() },
  revocation_events: { events: arrayOf(bytes({ min: 1, max: 64 * 1024 }), 256), seq: uint() },
  drop: { objectId, keys: keyList },
  summary_digest: { zones: arrayOf(zone, SUMMARY_ZONES_MAX) },
  summary_digest_result: { digests: arrayOf(zoneDigest, SUMMARY_ZONES_MAX) },
  summary: { zone, buckets: arrayOf(uint(SUMMARY_BUCKETS - 1), SUMMARY_BUCKETS), after: optional(objectId), limit: uint(SUMMARY_PAGE_MAX) },
  summary_page: { entries: arrayOf(summaryEntry, SUMMARY_PAGE_MAX), next: optional(objectId) },
  ref_put: { ref: refRecord },
  ref_list: { zone },
  ref_list_result: { refs: arrayOf(refRecord, 65536) },
  tomb_put: { tombstones: arrayOf(tombstone, MAX_TOMBSTONES) },
  tomb_list: { zone },
  tomb_list_result: { tombstones: arrayOf(tombstone, MAX_TOMBSTONES) },
  profile: {},
  profile_result: { profile: wireProfile, signingPublicKey: bytes({ exact: 32 }) },
  lease: { subject: connectorId, zone, op: oneOf(LEASE_OPS), seq: uint(), durationMs: uint(3_600_000) },
  lease_result: { granted: flag(), holder: optional(text({ max: 256 })), seq: uint(), remainingMs: uint(3_600_000) },
  head_get: { key: headKey, zone },
  head_result: { head: optional(wireHead) },
  head_commit: { key: headKey, zone, head: wireHead },
  invoke: { connector: connectorId, op: text({ max: 128, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ }), input: text({ min: 0, max: MAX_INVOKE_JSON }), deadlineMs: uint(3_600_000), traceId: text({ max: 64, pattern: /^[0-9a-f-]+$/ }), idempotencyKey: optional(text({ max: 128 })), token: optional(bytes({ min: 1, max: 16_384 })), proofTime: optional(uint()), proofSig: optional(bytes({ exact: 64 })), publicZone: optional(zone), publicVia: optional(oneOf(['funnel', 'tailnet'] as const)) },
  invoke_result: { output: text({ min: 0, max: MAX_INVOKE_JSON }) },
  removed_put: { removed: arrayOf(wireRemoval, MAX_REMOVALS) },
  removed_list: {},
  removed_list_result: { removed: arrayOf(wireRemoval, MAX_REMOVALS) },
  zone_key_put: { keys: sealedKeys },
  zone_key_get: { zone, epoch: uint(), boxPublicKey: bytes({ exact: 32 }), proof: bytes({ exact: 32 }) },
  zone_key_result: { epoch: uint(), resealing: flag(), keys: sealedKeys },
  audit_cosign: { key: auditKey, note: auditNote, from: uint(), proof: arrayOf(bytes({ exact: 32 }), MAX_AUDIT_PROOF), index: optional(hexObjectId) },
  audit_cosign_result: { witness: auditKey, signature: optional(bytes({ min: 5, max: 128 })), need: optional(uint()) },
  audit_checkpoints: { zones: arrayOf(text({ max: 64, pattern: /^[a-z0-9:_-]+$/ }), SUMMARY_ZONES_MAX) },
  audit_checkpoints_result: { witness: auditKey, views: arrayOf(auditView, MAX_AUDIT_VIEWS) },
  ok: {},
  error: { code: text({ max: 64 }), message: text({ min: 0, max: 4096 }) },
};

export function isMessageType(t: unknown): t is MessageType {
  return typeof t === 'string' && Object.hasOwn(MESSAGE_FIELDS, t);
}
