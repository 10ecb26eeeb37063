// Revocations (FCP V2 §14.3): owner-signed events in one hash-linked chain with a monotonic
// sequence, so "do I have every revocation up to N" is one comparison and a lookup is one
// set probe. The set only grows. Freshness (§14.3.1): risky and dangerous operations are refused
// while this device has not confirmed its head with the mesh for longer than the bound.
import { createHash } from 'node:crypto';
import { decodeSign1, decodeStrict, encodeDeterministic, signSign1, verifySign1, type Ed25519Signer } from '../crypto/index.js';
import { FcpError } from '../errors/index.js';

export type RevocationScope = 'token' | 'device' | 'connector';
export type Risk = 'safe' | 'risky' | 'dangerous';

export type RevocationErrorCode = 'REVOCATION_BAD_EVENT' | 'REVOCATION_GAP' | 'REVOCATION_FORK' | 'FCP_ERR_CHECKPOINT_STALE';

export class RevocationError extends FcpError {
  declare readonly code: RevocationErrorCode;
  constructor(code: RevocationErrorCode, message: string) {
    super(code, message);
  }
}

export interface RevocationEvent {
  seq: number;
  /** SHA-256 of the previous event's bytes (32 zero bytes for the first). */
  prev: Uint8Array;
  scope: RevocationScope;
  /** What is revoked: token ids (hex), device stable ids or connector ids. */
  ids: string[];
  reason: string;
  /** Seconds since the epoch. */
  at: number;
}

export interface RevocationHead {
  seq: number;
  hash: Uint8Array;
}

const ZERO = new Uint8Array(32);
const SCOPES: readonly RevocationScope[] = ['token', 'device', 'connector'];
const hashOf = (bytes: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(bytes).digest());
const key = (scope: RevocationScope, id: string): string => `${scope}:${id}`;

function bad(why: string): RevocationError {
  return new RevocationError('REVOCATION_BAD_EVENT', `revocation refused: ${why}`);
}

function decodeEvent(payload: Uint8Array): RevocationEvent {
  let m: unknown;
  try {
    m = decodeStrict(payload, 'revocation');
  } catch {
    throw bad('not CBOR');
  }
  if (!(m instanceof Map)) throw bad('not a map');
  const seq = m.get('seq');
  const prev = m.get('prev');
  const scope = m.get('scope');
  const ids = m.get('ids');
  const reason = m.get('reason');
  const at = m.get('at');
  if (!Number.isSafeInteger(seq) || (seq as number) < 1) throw bad('seq is not a positive whole number');
  if (!(prev instanceof Uint8Array) || prev.length !== 32) throw bad('prev is not a hash');
  if (!SCOPES.includes(scope as RevocationScope)) throw bad(`scope must be one of ${SCOPES.join(', ')}`);
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > 1000 || !ids.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 256)) throw bad('ids must be 1-1000 names');
  if (typeof reason !== 'string' || reason.length > 1024) throw bad('reason is not text');
  if (!Number.isSafeInteger(at) || (at as number) < 0) throw bad('at is not a time');
  return { seq: seq as number, prev, scope: scope as RevocationScope, ids: ids as string[], reason, at: at as number };
}

export interface FreshnessPolicy {
  /** How long a confirmed head stays fresh for risky and dangerous operations (FCP default 300 s). */
  maxAgeMs: number;
}

export class RevocationList {
  private readonly events: Uint8Array[] = [];
  private readonly revoked = new Set<string>();
  private headHash: Uint8Array = ZERO;
  /** Monotonic time (performance.now) the head was last confirmed current with the mesh. */
  private confirmedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly ownerKey: Uint8Array,
    private readonly policy: FreshnessPolicy = { maxAgeMs: 300_000 },
    private readonly clock: () => number = () => performance.now(),
  ) {}

  get head(): RevocationHead {
    return { seq: this.events.length, hash: this.headHash };
  }

  /** Every event, oldest first (what a peer missing some is sent). */
  since(seq: number): Uint8Array[] {
    return this.events.slice(Math.max(0, seq));
  }

  isRevoked(scope: RevocationScope, id: string): boolean {
    return this.revoked.has(key(scope, id));
  }

  /** The payload of the owner's next revocation event (to be signed by the owner key). */
  draft(scope: RevocationScope, ids: string[], reason: string, at = Math.floor(Date.now() / 1000)): Uint8Array {
    return encodeDeterministic(new Map<string, unknown>([
      ['seq', this.events.length + 1],
      ['prev', this.headHash],
      ['scope', scope],
      ['ids', ids],
      ['reason', reason],
      ['at', at],
    ]));
  }

  /** The owner's next revocation event, signed; add it, then spread it. */
  mint(scope: RevocationScope, ids: string[], reason: string, owner: Ed25519Signer, at = Math.floor(Date.now() / 1000)): Uint8Array {
    return signSign1(this.draft(scope, ids, reason, at), owner);
  }

  /**
   * Adds an owner-signed event. One already held is ignored; the next one extends the chain; one
   * further ahead needs the ones between (REVOCATION_GAP); another event at a held sequence, or one
   * not linked to the head, is a fork of the owner's chain (REVOCATION_FORK). Returns whether the set grew.
   */
  add(bytes: Uint8Array): boolean {
    let sign1;
    try {
      sign1 = decodeSign1(bytes);
    } catch (err) {
      throw bad((err as Error).message);
    }
    if (!verifySign1(sign1, this.ownerKey)) throw bad('not signed by the owner key');
    const e = decodeEvent(sign1.payload);
    if (e.seq <= this.events.length) {
      if (Buffer.compare(hashOf(this.events[e.seq - 1]!), hashOf(bytes)) === 0) return false;
      throw new RevocationError('REVOCATION_FORK', `two different revocations with sequence ${e.seq}`);
    }
    if (e.seq > this.events.length + 1) throw new RevocationError('REVOCATION_GAP', `revocation ${e.seq} arrived, this device has ${this.events.length}: fetch the ones between`);
    if (Buffer.compare(e.prev, this.headHash) !== 0) throw new RevocationError('REVOCATION_FORK', `revocation ${e.seq} does not follow revocation ${this.events.length}`);
    this.events.push(bytes);
    this.headHash = hashOf(bytes);
    for (const id of e.ids) this.revoked.add(key(e.scope, id));
    return true;
  }

  /** Records that the mesh has nothing newer than this head (after a sync with peers). */
  confirm(): void {
    this.confirmedAt = this.clock();
  }

  /** Age of the head's last confirmation, ms (Infinity if never). */
  age(): number {
    return this.clock() - this.confirmedAt;
  }

  /**
   * Refuses risky and dangerous operations while the head is older than the policy allows. Safe
   * operations proceed; the return value says whether this is degraded mode (to be audited).
   */
  requireFresh(risk: Risk): { degraded: boolean } {
    const stale = this.age() > this.policy.maxAgeMs;
    if (stale && risk !== 'safe') {
      const age = Number.isFinite(this.age()) ? `${Math.round(this.age() / 1000)} s old` : 'never confirmed';
      throw new RevocationError('FCP_ERR_CHECKPOINT_STALE', `this device's revocation list is ${age} (limit ${this.policy.maxAgeMs / 1000} s): ${risk} operations wait until it has caught up with the mesh`);
    }
    return { degraded: stale };
  }
}
