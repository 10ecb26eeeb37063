// Hub state in the mesh (FCP V2 §10.4): connector state and the registry are signed records kept
// as mesh objects in the connector's zone; which record is current (the head) is committed to a
// majority of the zone's devices. Connector state heads are fenced: a commit carries the lease
// sequence it was written under, and a grantor that has granted a higher one refuses it, so a
// device that lost its lease can never overwrite its successor's state.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { decode, encode } from 'cborg';
import { sign, verify } from '../crypto/index.js';
import type { SeqStore } from './lease.js';
import { HubMeshError } from './mesh-errors.js';

/** The head of a chain of records: its sequence and the mesh object (hex id) holding it. */
export interface Head {
  seq: number;
  objectId: string;
  /** For connector state: the lease sequence the record was written under. */
  leaseSeq?: number;
}

/** Head keys of connector state are fenced by the connector's lease (`state/<id>` by lease `<id>`). */
export function stateKey(connectorId: string): string {
  return `state/${connectorId}`;
}
export function registryKey(zone: string): string {
  return `registry/${zone}`;
}
function fencingSubject(key: string): string | null {
  return key.startsWith('state/') ? key.slice('state/'.length) : null;
}

/**
 * A grantor's durable table: the current head of each key and the highest lease sequences
 * (the LeaseTable's SeqStore), in one small JSON file written whole and renamed.
 */
export class HeadTable implements SeqStore {
  private heads: Record<string, Head> = {};
  private seqs: Record<string, number> = {};

  constructor(
    private readonly path: string | null,
    /** The highest lease sequence granted for a subject (the lease table's; set once it exists). */
    private highestLeaseSeq: (subject: string) => number = () => 0,
  ) {
    if (path && existsSync(path)) {
      try {
        const j = JSON.parse(readFileSync(path, 'utf8')) as { heads?: Record<string, Head>; seqs?: Record<string, number> };
        this.heads = j.heads ?? {};
        this.seqs = j.seqs ?? {};
      } catch (err) {
        throw new HubMeshError('HUB_STATE_DAMAGED', `${path}: ${(err as Error).message}`);
      }
    }
  }

  static inDataDir(dataDir: string, highestLeaseSeq?: (subject: string) => number): HeadTable {
    return new HeadTable(join(dataDir, 'hub', 'heads.json'), highestLeaseSeq);
  }

  setFencing(highestLeaseSeq: (subject: string) => number): void {
    this.highestLeaseSeq = highestLeaseSeq;
  }

  load(): Record<string, number> {
    return { ...this.seqs };
  }

  save(highest: Record<string, number>): void {
    this.seqs = { ...highest };
    this.flush();
  }

  get(key: string): Head | undefined {
    return this.heads[key];
  }

  /**
   * Moves a key's head forward. Refused: a fenced write under a lease sequence below the highest
   * granted (HUB_LEASE_STALE), an older sequence or another object at the same sequence
   * (HUB_HEAD_CONFLICT). The same head again is accepted (a retried commit).
   */
  commit(key: string, head: Head): void {
    const subject = fencingSubject(key);
    if (subject !== null) {
      if (head.leaseSeq === undefined) throw new HubMeshError('HUB_LEASE_STALE', `a state write of ${subject} must carry its lease sequence`);
      const highest = this.highestLeaseSeq(subject);
      if (head.leaseSeq < highest) throw new HubMeshError('HUB_LEASE_STALE', `state write of ${subject} under lease ${head.leaseSeq}, but lease ${highest} was granted since`);
    }
    const cur = this.heads[key];
    if (cur) {
      if (cur.seq === head.seq && cur.objectId === head.objectId) return;
      if (head.seq <= cur.seq) throw new HubMeshError('HUB_HEAD_CONFLICT', `${key}: head ${head.seq} is not after ${cur.seq}`);
    }
    this.heads[key] = { seq: head.seq, objectId: head.objectId, ...(head.leaseSeq !== undefined ? { leaseSeq: head.leaseSeq } : {}) };
    this.flush();
  }

  private flush(): void {
    if (!this.path) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ heads: this.heads, seqs: this.seqs }), { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}

/** The newest head among grantors' answers: highest sequence; ties by object id (all see the same). */
export function newestHead(heads: ReadonlyArray<Head | undefined>): Head | undefined {
  let best: Head | undefined;
  for (const h of heads) {
    if (!h) continue;
    if (!best || h.seq > best.seq || (h.seq === best.seq && h.objectId > best.objectId)) best = h;
  }
  return best;
}

/** One signed record (connector state or registry), the content of a mesh object. */
export interface HubRecord {
  kind: 'state' | 'registry';
  key: string;
  seq: number;
  leaseSeq?: number;
  /** The record before (hex object id), for history. */
  prev?: string;
  /** The payload as JSON. */
  body: unknown;
  /** Stable id of the device that wrote it, and its Ed25519 public key. */
  writer: string;
  writerKey: Uint8Array;
  at: number;
}

export const RECORD_SCHEMA = { state: 'fcp.hub.state/1', registry: 'fcp.hub.registry/1' } as const;
const MAX_BODY = 1024 * 1024;

function signable(r: HubRecord): Uint8Array {
  return encode({
    dom: 'fcp-hub-record-v1',
    kind: r.kind,
    key: r.key,
    seq: r.seq,
    ...(r.leaseSeq !== undefined ? { leaseSeq: r.leaseSeq } : {}),
    ...(r.prev !== undefined ? { prev: r.prev } : {}),
    body: new TextEncoder().encode(JSON.stringify(r.body)),
    writer: r.writer,
    writerKey: r.writerKey,
    at: r.at,
  });
}

/** The record's bytes (canonical CBOR) with the writer's Ed25519 signature over all its fields. */
export function encodeRecord(r: HubRecord, signingSecretKey: Uint8Array): Uint8Array {
  const body = new TextEncoder().encode(JSON.stringify(r.body));
  if (body.length > MAX_BODY) throw new HubMeshError('HUB_BAD_INVOKE', `state of ${r.key} is ${body.length} bytes; at most ${MAX_BODY}`);
  const msg = signable(r);
  return encode({ rec: msg, sig: sign(msg, signingSecretKey) });
}

/**
 * A record from its bytes, its signature checked against the key it names; `knownKey` (the keys
 * this device trusts for the writer at the record's time, when it knows any: its pin, and former
 * keys of a device that was reset) must include that key.
 */
export function decodeRecord(bytes: Uint8Array, knownKey?: (writer: string, at: number) => Uint8Array | readonly Uint8Array[] | undefined): HubRecord {
  let outer: { rec?: unknown; sig?: unknown };
  let inner: Record<string, unknown>;
  try {
    outer = decode(bytes) as { rec?: unknown; sig?: unknown };
    if (!(outer.rec instanceof Uint8Array) || !(outer.sig instanceof Uint8Array)) throw new Error('not a signed record');
    inner = decode(outer.rec) as Record<string, unknown>;
  } catch (err) {
    throw new HubMeshError('HUB_STATE_DAMAGED', `hub record does not parse: ${(err as Error).message}`);
  }
  const { kind, key, seq, leaseSeq, prev, body, writer, writerKey, at, dom } = inner;
  if (dom !== 'fcp-hub-record-v1' || (kind !== 'state' && kind !== 'registry') || typeof key !== 'string' || typeof seq !== 'number' || typeof writer !== 'string' || !(writerKey instanceof Uint8Array) || !(body instanceof Uint8Array) || typeof at !== 'number') {
    throw new HubMeshError('HUB_STATE_DAMAGED', 'hub record lacks its fields');
  }
  if (!verify(outer.sig, outer.rec, writerKey)) throw new HubMeshError('HUB_STATE_DAMAGED', `hub record ${key}#${seq} has a bad signature`);
  const known = knownKey?.(writer, at);
  const expected = known === undefined ? [] : known instanceof Uint8Array ? [known] : known;
  if (expected.length > 0 && !expected.some((k) => k.length === writerKey.length && k.every((b, i) => b === writerKey[i]))) throw new HubMeshError('HUB_STATE_DAMAGED', `hub record ${key}#${seq} is signed with a key ${writer} does not have`);
  return {
    kind,
    key,
    seq,
    ...(typeof leaseSeq === 'number' ? { leaseSeq } : {}),
    ...(typeof prev === 'string' ? { prev } : {}),
    body: JSON.parse(new TextDecoder().decode(body)) as unknown,
    writer,
    writerKey,
    at,
  };
}
