// ShareHolder: the receiving side of the secrets protocol, one per device. Shares live in this
// object's memory only (never on disk, never in logs) and vanish with the process; wipe()
// zeroes them on shutdown. Every request is zone-checked here, whatever the mesh checked before.
import {
  SecretBadRequestError,
  SecretConflictError,
  SecretError,
  SecretHolderFullError,
  SecretNotFoundError,
  SecretRefusedError,
  reasonOf,
} from './errors.js';
import { MIN_SHARE_BYTES, MAX_HELD_SHARES, MAX_VERSIONS_PER_SECRET } from './limits.js';
import {
  decodeRequest,
  encodeReply,
  shareBoxAad,
  type HeldMeta,
  type SecretReply,
  type SecretRequest,
} from './protocol.js';
import { boxPublicKeyOf, openSealed, sealTo, type BoxKeyPair } from './seal.js';
import { exactZoneRule, type RequestOrigin, type SecretsAuditSink, type SecretsPeer, type ZoneRule } from './transport.js';

export type { RequestOrigin };
import { zeroize } from './zeroize.js';


export interface ShareHolderOptions {
  self: SecretsPeer;
  boxSecretKey: Uint8Array;
  audit?: SecretsAuditSink;
  /** Which member zones may hold or read a secret zone; defaults to exact membership. */
  zoneRule?: ZoneRule;
  /**
   * May this caller handle shares of `zone` here? In the mesh this is the one authorization
   * point (authorize 'secret.share'); without it, both caller and this device need `zoneRule`.
   */
  mayHandle?: (from: RequestOrigin, zone: string) => boolean;
}

interface HeldShare {
  meta: HeldMeta;
  share: Uint8Array;
}

/** Summary of what a holder keeps, without any share bytes (for status output and tests). */
export interface HeldSummary {
  name: string;
  zone: string;
  version: number;
  index: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class ShareHolder {
  private readonly self: SecretsPeer;
  private readonly keys: BoxKeyPair;
  private readonly audit: SecretsAuditSink | undefined;
  private readonly zoneRule: ZoneRule;
  private readonly mayHandle: ((from: RequestOrigin, zone: string) => boolean) | undefined;
  /** name -> version -> share. */
  private readonly table = new Map<string, Map<number, HeldShare>>();
  private count = 0;

  constructor(opts: ShareHolderOptions) {
    this.self = opts.self;
    this.keys = { secretKey: opts.boxSecretKey, publicKey: boxPublicKeyOf(opts.boxSecretKey) };
    this.audit = opts.audit;
    this.zoneRule = opts.zoneRule ?? exactZoneRule;
    this.mayHandle = opts.mayHandle;
  }

  /** Number of shares held, over all secrets and versions. */
  get size(): number {
    return this.count;
  }

  /** What is held, by name and version; no share bytes. */
  summary(): HeldSummary[] {
    const out: HeldSummary[] = [];
    for (const versions of this.table.values()) {
      for (const h of versions.values()) {
        out.push({ name: h.meta.name, zone: h.meta.zone, version: h.meta.version, index: h.meta.index });
      }
    }
    return out;
  }

  /**
   * Answer one request. Never rejects: every failure, including a malformed body, becomes a
   * typed error in the encoded reply.
   */
  async handle(from: RequestOrigin, body: Uint8Array): Promise<Uint8Array> {
    let op = 'unknown';
    let name = '';
    try {
      if (!from || typeof from.nodeId !== 'string' || !Array.isArray(from.zones)) {
        throw new SecretBadRequestError('request origin is missing its node id or zones');
      }
      const req = decodeRequest(body);
      op = req.op;
      name = req.op === 'store' ? req.meta.name : (req.name ?? '');
      const reply = this.dispatch(from, req);
      this.record(op, name, from.nodeId, true);
      return encodeReply(reply);
    } catch (err) {
      const typed = err instanceof SecretError ? err : new SecretBadRequestError('request could not be handled');
      this.record(op, name, typeof from?.nodeId === 'string' ? from.nodeId : undefined, false, typed.code);
      return encodeReply({ ok: false, code: typed.code, message: typed.message });
    }
  }

  /** Zero every share and forget everything (daemon shutdown). */
  wipe(): void {
    for (const versions of this.table.values()) for (const h of versions.values()) zeroize(h.share);
    this.table.clear();
    this.count = 0;
  }

  private record(op: string, name: string, peer: string | undefined, ok: boolean, reason?: string): void {
    if (!this.audit) return;
    try {
      this.audit({
        op: `holder.${op}`,
        name,
        ...(peer !== undefined ? { peer } : {}),
        ok,
        ...(reason !== undefined ? { reason } : {}),
      });
    } catch {
      // An audit sink failure must not change the answer a peer gets.
    }
  }

  private dispatch(from: RequestOrigin, req: SecretRequest): SecretReply {
    switch (req.op) {
      case 'store':
        return this.store(from, req.meta, req.sealed);
      case 'get':
        return this.get(from, req.name, req.version, req.replyKey);
      case 'drop':
        return this.drop(from, req.name, req.version, req.splitId, req.below);
      case 'list':
        return this.list(from, req.name);
    }
  }

  private allowed(from: RequestOrigin, zone: string): boolean {
    return this.mayHandle ? this.mayHandle(from, zone) : this.zoneRule(from.zones, zone);
  }

  private requireCallerZone(from: RequestOrigin, zone: string): void {
    if (!this.allowed(from, zone)) {
      throw new SecretRefusedError(`device ${from.nodeId} is not allowed to handle secrets of ${zone}`);
    }
  }

  private store(from: RequestOrigin, meta: HeldMeta, sealed: Uint8Array): SecretReply {
    this.requireCallerZone(from, meta.zone);
    if (!this.mayHandle && !this.zoneRule(this.self.zones, meta.zone)) {
      throw new SecretRefusedError(`this device (${this.self.nodeId}) may not hold secrets of ${meta.zone}`);
    }
    if (meta.holders[meta.index] !== this.self.nodeId) {
      throw new SecretBadRequestError(`share ${meta.index} is addressed to another device`);
    }
    const versions = this.table.get(meta.name);
    const existing = versions?.get(meta.version);
    if (versions) {
      const other = versions.values().next().value;
      if (other && other.meta.zone !== meta.zone) {
        throw new SecretConflictError(`secret ${meta.name} exists in ${other.meta.zone}; remove it before reusing the name`);
      }
    }
    if (existing && !sameBytes(existing.meta.splitId, meta.splitId)) {
      throw new SecretConflictError(`version ${meta.version} of ${meta.name} is already held with another split`);
    }
    if (!existing) {
      if (this.count >= MAX_HELD_SHARES) throw new SecretHolderFullError(`holder keeps at most ${MAX_HELD_SHARES} shares`);
      if (versions && versions.size >= MAX_VERSIONS_PER_SECRET) {
        throw new SecretHolderFullError(`holder keeps at most ${MAX_VERSIONS_PER_SECRET} versions of one secret`);
      }
    }
    const plain = openSealed(this.keys, sealed, shareBoxAad(meta, 'store'));
    if (!plain) throw new SecretBadRequestError('sealed share does not open with this device key');
    if (plain.length < MIN_SHARE_BYTES) {
      zeroize(plain);
      throw new SecretBadRequestError('sealed share is too short to be a share');
    }
    const held: HeldShare = { meta, share: plain };
    if (existing) {
      zeroize(existing.share);
    } else {
      this.count++;
    }
    const slot = versions ?? new Map<number, HeldShare>();
    slot.set(meta.version, held);
    this.table.set(meta.name, slot);
    return { ok: true, op: 'store' };
  }

  private get(from: RequestOrigin, name: string, version: number, replyKey: Uint8Array): SecretReply {
    const versions = this.table.get(name);
    if (!versions) throw new SecretNotFoundError(`no share of ${name} is held here`);
    for (const other of versions.values()) this.requireCallerZone(from, other.meta.zone);
    const held = versions.get(version);
    if (!held) {
      const have = [...versions.keys()].join(', ');
      throw new SecretNotFoundError(`no share of ${name} version ${version} is held here (held: ${have})`);
    }
    try {
      return { ok: true, op: 'get', meta: held.meta, sealed: sealTo(replyKey, held.share, shareBoxAad(held.meta, 'reply')) };
    } catch {
      throw new SecretBadRequestError('replyKey is not a usable X25519 public key');
    }
  }

  private drop(
    from: RequestOrigin,
    name: string,
    version: number | undefined,
    splitId: Uint8Array | undefined,
    below: number | undefined,
  ): SecretReply {
    const versions = this.table.get(name);
    if (!versions) throw new SecretNotFoundError(`no share of ${name} is held here`);
    for (const held of versions.values()) this.requireCallerZone(from, held.meta.zone);
    let dropped = 0;
    for (const [v, held] of [...versions]) {
      const selected =
        version !== undefined
          ? v === version && (splitId === undefined || sameBytes(held.meta.splitId, splitId))
          : below !== undefined
            ? v < below
            : true;
      if (!selected) continue;
      zeroize(held.share);
      versions.delete(v);
      this.count--;
      dropped++;
    }
    if (versions.size === 0) this.table.delete(name);
    return { ok: true, op: 'drop', dropped };
  }

  private list(from: RequestOrigin, name: string | undefined): SecretReply {
    const entries: HeldMeta[] = [];
    const names = name !== undefined ? [name] : [...this.table.keys()];
    for (const n of names) {
      const versions = this.table.get(n);
      if (!versions) continue;
      for (const held of versions.values()) {
        if (this.allowed(from, held.meta.zone)) entries.push(held.meta);
      }
    }
    return { ok: true, op: 'list', entries };
  }
}
